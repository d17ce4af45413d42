from .ddp import CPUAwareDistributedDataParallel
from .hooks import *  # noqa: F401,F403
from .runner import MTPSLRunner, shutdown_distributed

__all__ = ['CPUAwareDistributedDataParallel', 'MTPSLRunner',
           'shutdown_distributed']
