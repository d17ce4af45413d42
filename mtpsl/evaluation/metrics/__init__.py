from .base import TaskMetric
from .depth import DepthMetric
from .normal import NormalMetric, angular_errors
from .semseg import SemSegMetric, confusion_matrix, iou_from_confusion

__all__ = ['TaskMetric', 'DepthMetric', 'NormalMetric', 'SemSegMetric',
           'angular_errors', 'confusion_matrix', 'iou_from_confusion']
