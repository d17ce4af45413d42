from .base import TaskMetric
from .binary import BinaryMapMetric
from .depth import DepthMetric
from .edge import EdgeMetric
from .normal import NormalMetric, angular_errors, histogram_median
from .saliency import SaliencyMetric
from .semseg import SemSegMetric, confusion_matrix, iou_from_confusion

__all__ = ['TaskMetric', 'BinaryMapMetric', 'DepthMetric', 'EdgeMetric',
           'NormalMetric', 'SaliencyMetric', 'SemSegMetric',
           'angular_errors', 'confusion_matrix', 'histogram_median',
           'iou_from_confusion']
