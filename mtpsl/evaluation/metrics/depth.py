"""Depth: errors over every valid pixel of the set (per-pixel aggregation)."""
from __future__ import annotations

import numpy as np

from mtpsl.registry import METRICS
from .base import TaskMetric


@METRICS.register_module()
class DepthMetric(TaskMetric):
    """abs err, rel err and rmse over valid pixels (GT != 0) of the set.

    Pixels are pooled over the whole set before averaging, as the MTPSL line
    does, so large images weigh more than small ones.
    """

    task = 'depth'

    def image_stats(self, pred, gt):
        pred = pred.reshape(-1).double()
        gt = gt.reshape(-1).double()
        valid = gt != 0
        p, g = pred[valid], gt[valid]
        d = p - g
        return np.array([float(valid.sum()), float(d.abs().sum()),
                         float((d.abs() / g.abs()).sum()),
                         float((d * d).sum())], dtype=np.float64)

    def metrics_from_stats(self, stats):
        n, s_abs, s_rel, s_sq = stats
        if n == 0:
            raise ValueError('DepthMetric: no valid depth pixel in the set')
        return dict(abs_err=s_abs / n, rel_err=s_rel / n,
                    rmse=float(np.sqrt(s_sq / n)))
