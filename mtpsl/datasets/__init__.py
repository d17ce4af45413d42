from .nyuv2 import NYU13_CLASSES, NYUv2Dataset
from .transforms import *  # noqa: F401,F403

__all__ = ['NYU13_CLASSES', 'NYUv2Dataset']
