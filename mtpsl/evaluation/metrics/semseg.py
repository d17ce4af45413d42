"""Semantic segmentation: mIoU and pixel accuracy from a confusion matrix."""
from __future__ import annotations

import numpy as np
import torch

from mtpsl.registry import METRICS
from .base import TaskMetric


def confusion_matrix(pred: torch.Tensor, gt: torch.Tensor,
                     num_classes: int) -> np.ndarray:
    """C x C counts (rows GT, columns prediction); GT outside [0, C) skipped."""
    pred = pred.reshape(-1).long()
    gt = gt.reshape(-1).long()
    valid = (gt >= 0) & (gt < num_classes)
    bad = (pred < 0) | (pred >= num_classes)
    if bool(bad.any()):
        raise ValueError(f'predicted class {int(pred[bad][0])} outside '
                         f'[0, {num_classes})')
    idx = gt[valid] * num_classes + pred[valid]
    counts = torch.bincount(idx, minlength=num_classes ** 2)
    return counts.reshape(num_classes, num_classes).numpy().astype(np.int64)


def iou_from_confusion(conf: np.ndarray) -> np.ndarray:
    """Per-class IoU; NaN for a class absent from both GT and prediction."""
    tp = np.diag(conf).astype(np.float64)
    union = conf.sum(0) + conf.sum(1) - tp
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(union > 0, tp / np.maximum(union, 1), np.nan)


@METRICS.register_module()
class SemSegMetric(TaskMetric):
    """mIoU and pixel accuracy (%) over the whole set.

    One global confusion matrix, as the MTPSL line; pixels whose GT is
    outside [0, C) are ignored; classes absent from GT and prediction are
    left out of the mean (NaN-safe). Per-class IoU is reported too.
    """

    task = 'sem_seg'

    def __init__(self, num_classes: int, task: str = 'sem_seg',
                 class_names=None, **kwargs) -> None:
        if num_classes < 2:
            raise ValueError(f'num_classes must be >= 2, got {num_classes}')
        self.num_classes = num_classes
        self.class_names = (list(class_names) if class_names is not None else
                            [str(i) for i in range(num_classes)])
        if len(self.class_names) != num_classes:
            raise ValueError(f'{len(self.class_names)} class names for '
                             f'{num_classes} classes')
        super().__init__(task=task, **kwargs)

    def image_stats(self, pred, gt):
        return confusion_matrix(pred, gt, self.num_classes).reshape(-1)

    def metrics_from_stats(self, stats):
        conf = stats.reshape(self.num_classes, self.num_classes)
        total = conf.sum()
        iou = iou_from_confusion(conf)
        out = dict(mIoU=float(np.nanmean(iou) * 100) if np.isfinite(iou).any()
                   else float('nan'),
                   pixel_acc=float(np.trace(conf) / total * 100) if total
                   else float('nan'))
        for name, v in zip(self.class_names, iou):
            out[f'IoU.{name}'] = float(v * 100)
        return out
