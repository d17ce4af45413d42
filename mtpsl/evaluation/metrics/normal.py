"""Surface normals: angular error of L2-normalised predictions."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from mtpsl.registry import METRICS
from .base import TaskMetric

THRESHOLDS_DEG = (11.25, 22.5, 30.0)


def angular_errors(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Angles in degrees at pixels whose GT normal is non-zero.

    ``pred`` and ``gt`` are 3 x H x W; the prediction is L2-normalised first.
    """
    pred = F.normalize(pred.double().reshape(3, -1), dim=0)
    gt = gt.double().reshape(3, -1)
    valid = (gt != 0).any(dim=0)
    gt = F.normalize(gt[:, valid], dim=0)
    cos = (pred[:, valid] * gt).sum(dim=0).clamp(-1.0, 1.0)
    return torch.rad2deg(torch.acos(cos))


def angle_histogram(angles: torch.Tensor, bin_width: float) -> np.ndarray:
    """Counts of ``angles`` (degrees) in bins [k w, (k + 1) w) over [0, 180];
    180 itself falls in the last bin."""
    num_bins = math.ceil(180.0 / bin_width)
    idx = torch.floor(angles / bin_width).long().clamp(0, num_bins - 1)
    return torch.bincount(idx, minlength=num_bins).numpy().astype(np.int32)


def histogram_median(hist: np.ndarray, bin_width: float) -> float:
    """The median of the binned values, each taken at its bin centre.

    As ``np.median``: the middle value, or the mean of the two middle ones
    for an even count; each is off by at most ``bin_width / 2``, so is the
    result.
    """
    n = int(hist.sum())
    if n == 0:
        return float('nan')
    cum = np.cumsum(hist)
    ranks = np.array([(n - 1) // 2, n // 2])  # 0-based order statistics
    bins = np.searchsorted(cum, ranks, side='right')
    return float(((bins + 0.5) * bin_width).mean())


@METRICS.register_module()
class NormalMetric(TaskMetric):
    """Angular errors (degrees) over every valid pixel of the set.

    ``mean``, ``rmse``, ``median`` and % of pixels under 11.25, 22.5 and 30
    degrees. An exact median needs every angle; instead each image keeps a
    histogram of its angles in bins of ``median_bin_width`` degrees (int32,
    180 / w bins: 3600 x 4 bytes per image at the default 0.05), which sums
    exactly across images and processes. The reported median is within
    ``median_bin_width / 2`` of ``np.median`` of all the angles of the set.
    """

    task = 'normal'

    def __init__(self, median_bin_width: float = 0.05, **kwargs) -> None:
        if not 0 < median_bin_width <= 1:
            raise ValueError('median_bin_width must be in (0, 1] degrees, '
                             f'got {median_bin_width}')
        self.median_bin_width = float(median_bin_width)
        super().__init__(**kwargs)

    def image_stats(self, pred, gt):
        ang = angular_errors(pred, gt)
        sums = np.array([float(ang.numel()), float(ang.sum()),
                         float((ang * ang).sum())] +
                        [float((ang < t).sum()) for t in THRESHOLDS_DEG],
                        dtype=np.float64)
        return sums, angle_histogram(ang, self.median_bin_width)

    def metrics_from_stats(self, stats):
        sums, hist = stats
        n, s, s_sq = sums[:3]
        if n == 0:
            raise ValueError('NormalMetric: no valid normal pixel in the set')
        out = dict(mean=s / n, rmse=float(np.sqrt(s_sq / n)),
                   median=histogram_median(hist, self.median_bin_width))
        for t, c in zip(THRESHOLDS_DEG, sums[3:]):
            out[f'within_{t:g}'] = c / n * 100
        return out
