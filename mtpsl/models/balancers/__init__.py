from .base import FixedWeights, UncertaintyWeighting, flatten_losses

__all__ = ['FixedWeights', 'UncertaintyWeighting', 'flatten_losses']
