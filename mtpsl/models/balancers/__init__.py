from .base import FixedWeights, UncertaintyWeighting, flatten_losses
from .dwa import DynamicWeightAverage, dwa_weights
from .gradnorm import GradNorm

__all__ = ['FixedWeights', 'UncertaintyWeighting', 'flatten_losses',
           'GradNorm', 'DynamicWeightAverage', 'dwa_weights']
