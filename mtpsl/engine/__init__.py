from .ddp import CPUAwareDistributedDataParallel
from .hooks import *  # noqa: F401,F403
from .optim import GroupStepLR, NamedParamGroupsConstructor
from .runner import MTPSLRunner, shutdown_distributed

__all__ = ['CPUAwareDistributedDataParallel', 'MTPSLRunner', 'GroupStepLR',
           'NamedParamGroupsConstructor',
           'shutdown_distributed']
