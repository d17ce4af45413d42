from .ddp import CPUAwareDistributedDataParallel
from .hooks import *  # noqa: F401,F403
from .runner import MTPSLRunner

__all__ = ['CPUAwareDistributedDataParallel', 'MTPSLRunner']
