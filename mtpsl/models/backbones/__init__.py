from .resnet_stem import build_resnet_with_stem, resnet_with_stem_class
from .segnet import SegNet

__all__ = ['SegNet', 'build_resnet_with_stem', 'resnet_with_stem_class']
