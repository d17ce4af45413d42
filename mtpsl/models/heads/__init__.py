from .aspp_head import ASPPTaskHead
from .base_head import DenseTaskHead, resize_pred
from .bins import LogDepthBins, NormalBins, fibonacci_sphere, spherical_kmeans
from .conv_head import ConvTaskHead
from .fpn_head import SemanticFPNTaskHead
from .task_output import TaskOutput, feature_stride
from .task_head import SegNetTaskHead, activate, task_out_channels
from .unet_head import UNetDecoderHead

__all__ = ['SegNetTaskHead', 'activate', 'task_out_channels',
           'DenseTaskHead', 'resize_pred', 'ConvTaskHead', 'ASPPTaskHead',
           'SemanticFPNTaskHead', 'UNetDecoderHead', 'TaskOutput',
           'feature_stride', 'LogDepthBins', 'NormalBins',
           'fibonacci_sphere', 'spherical_kmeans']
