from .base_multitask import MultiTaskDataset
from .cityscapes import (CITYSCAPES7_CLASSES, CITYSCAPES19_CLASSES,
                         CityscapesDataset)
from .nyuv2 import NYU13_CLASSES, NYUv2Dataset
from .pascal_context import PASCAL21_CLASSES, PascalContextDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['NYU13_CLASSES', 'NYUv2Dataset', 'MultiTaskDataset',
           'CITYSCAPES7_CLASSES', 'CITYSCAPES19_CLASSES', 'CityscapesDataset',
           'PASCAL21_CLASSES', 'PascalContextDataset']
