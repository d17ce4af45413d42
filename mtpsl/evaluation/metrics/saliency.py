"""Saliency: max F-measure over thresholds, and IoU of the label map."""
from __future__ import annotations

import numpy as np

from mtpsl.registry import METRICS
from .binary import (BinaryMapMetric, at_thresholds, bin_counts, f_measure,
                     probability_bins, safe_ratio)
from .semseg import confusion_matrix, iou_from_confusion


@METRICS.register_module()
class SaliencyMetric(BinaryMapMetric):
    """``maxF``, ``mIoU`` and ``fg_IoU`` (%) of saliency over the whole set.

    * ``maxF``: max over thresholds k / N (k = 1..N, N = ``num_thresholds``;
      default step 0.05 as the ASTMT-derived saliency meters) of F_beta,
      beta^2 = 0.3 (the salient-object literature and the PASCAL-MT papers),
      with precision and recall from the TP / FP / FN counts summed over
      every valid pixel of the set.
    * ``mIoU``: mean over the 2 classes (background, salient) of the IoU of
      the label prediction (argmax, i.e. probability > 0.5), from a global
      confusion matrix as ``SemSegMetric``; ``fg_IoU``: the salient class
      alone.

    GT pixels other than 0 / 1 (the -1 ignore value) are left out.
    """

    task = 'saliency'

    def __init__(self, beta2: float = 0.3, num_thresholds: int = 20,
                 task: str = 'saliency', **kwargs) -> None:
        if beta2 <= 0:
            raise ValueError(f'beta2 must be > 0, got {beta2}')
        self.beta2 = float(beta2)
        super().__init__(num_thresholds=num_thresholds, task=task, **kwargs)

    def binary_stats(self, prob, pred, gt):
        valid = (gt == 0) | (gt == 1)
        bins = probability_bins(prob, self.num_thresholds)
        pos = bin_counts(bins[valid & (gt == 1)], self.num_thresholds)
        neg = bin_counts(bins[valid & (gt == 0)], self.num_thresholds)
        conf = confusion_matrix(pred, gt, 2).reshape(-1)
        return np.concatenate([pos, neg, conf])

    def metrics_from_stats(self, stats):
        n = self.num_thresholds + 1
        tp, fp = at_thresholds(stats[:n]), at_thresholds(stats[n:2 * n])
        positives = tp[0]
        if tp[0] + fp[0] == 0:
            raise ValueError('SaliencyMetric: no valid saliency pixel in the '
                             'set')
        precision = safe_ratio(tp, tp + fp)
        recall = safe_ratio(tp, np.full_like(tp, positives))
        f = f_measure(precision, recall, self.beta2)
        iou = iou_from_confusion(stats[2 * n:].reshape(2, 2))
        # k = 0 (every pixel salient) is not a threshold
        return dict(maxF=float(f[1:].max() * 100),
                    mIoU=float(np.nanmean(iou) * 100)
                    if np.isfinite(iou).any() else float('nan'),
                    fg_IoU=float(iou[1] * 100))
