"""Depth: errors over every valid pixel of the set (per-pixel aggregation)."""
from __future__ import annotations

import numpy as np

from mtpsl.registry import METRICS
from .base import TaskMetric

# delta_k: share of valid pixels with max(p / g, g / p) < 1.25 ** k
DELTA_BASE = 1.25


@METRICS.register_module()
class DepthMetric(TaskMetric):
    """Depth errors over the valid pixels (GT != 0) of the whole set.

    Pixels are pooled over the whole set before averaging, as the MTPSL line
    does, so large images weigh more than small ones.

    * ``abs_err``, ``rel_err``, ``rmse``: over every valid pixel.
    * ``log_rmse``: sqrt(mean (ln p - ln g)^2) over valid pixels where both
      the prediction and the GT are > 0; a non-positive prediction has no
      logarithm, so it is left out of this one metric (it still counts, and
      badly, in every other one).
    * ``delta1/2/3`` (%): share of ALL valid pixels with
      max(p / g, g / p) < 1.25, 1.25^2, 1.25^3; a non-positive prediction
      never counts as within (its ratio would otherwise be negative, and
      "pass").
    """

    task = 'depth'

    def image_stats(self, pred, gt):
        pred = pred.reshape(-1).double()
        gt = gt.reshape(-1).double()
        valid = gt != 0
        p, g = pred[valid], gt[valid]
        d = p - g
        pos = (p > 0) & (g > 0)
        log_d = p[pos].log() - g[pos].log()
        ratio = (p[pos] / g[pos]).maximum(g[pos] / p[pos])
        within = [float((ratio < DELTA_BASE ** k).sum()) for k in (1, 2, 3)]
        return np.array([float(valid.sum()), float(d.abs().sum()),
                         float((d.abs() / g.abs()).sum()),
                         float((d * d).sum()), float(pos.sum()),
                         float((log_d * log_d).sum())] + within,
                        dtype=np.float64)

    def metrics_from_stats(self, stats):
        n, s_abs, s_rel, s_sq, n_log, s_log_sq = stats[:6]
        if n == 0:
            raise ValueError('DepthMetric: no valid depth pixel in the set')
        out = dict(abs_err=s_abs / n, rel_err=s_rel / n,
                   rmse=float(np.sqrt(s_sq / n)),
                   log_rmse=float(np.sqrt(s_log_sq / n_log)) if n_log
                   else float('nan'))
        for k, count in enumerate(stats[6:], start=1):
            out[f'delta{k}'] = float(count / n * 100)
        return out
