from .base import BaseJointStage
from .feature_mixer import TaskFeatureMixer

__all__ = ['BaseJointStage', 'TaskFeatureMixer']
