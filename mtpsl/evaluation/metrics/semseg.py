"""Semantic segmentation: mIoU and pixel accuracy from a confusion matrix."""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from mtpsl.registry import METRICS
from mtpsl.structures import classes_from_meta
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

    def __init__(self, num_classes: Optional[int] = None,
                 task: str = 'sem_seg', class_names=None, **kwargs) -> None:
        self.num_classes = None
        self.class_names = None
        self._given_names = class_names
        super().__init__(task=task, **kwargs)
        if num_classes is not None:
            self._set_classes(int(num_classes))

    def _set_classes(self, num_classes: int) -> None:
        if num_classes < 2:
            raise ValueError(f'num_classes must be >= 2, got {num_classes}')
        self.num_classes = num_classes
        names = self._given_names
        self.class_names = (list(names) if names is not None else
                            [str(i) for i in range(num_classes)])
        if len(self.class_names) != num_classes:
            raise ValueError(f'{len(self.class_names)} class names for '
                             f'{num_classes} classes')

    @property
    def dataset_meta(self) -> Optional[dict]:
        """The dataset's metainfo (the Runner sets it)."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, meta: Optional[dict]) -> None:
        """Take ``num_classes`` from the dataset's meta when not given; a
        given value that contradicts the meta is an error."""
        self._dataset_meta = meta
        found = classes_from_meta(meta, self.task)
        if self.num_classes is None:
            if found is None:
                raise ValueError(f'SemSegMetric({self.task!r}): no '
                                 'num_classes given and the dataset meta '
                                 'has none')
            self._set_classes(found)
        elif found is not None and found != self.num_classes:
            raise ValueError(f'SemSegMetric({self.task!r}): num_classes='
                             f'{self.num_classes} but the dataset has '
                             f'{found} classes')

    def _need_classes(self) -> int:
        if self.num_classes is None:
            raise ValueError(f'SemSegMetric({self.task!r}): num_classes '
                             'unknown; give it or evaluate through a Runner '
                             '(which sets dataset_meta)')
        return self.num_classes

    def image_stats(self, pred, gt):
        return confusion_matrix(pred, gt, self._need_classes()).reshape(-1)

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
