"""Surface normals: angular error of L2-normalised predictions."""
from __future__ import annotations

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


@METRICS.register_module()
class NormalMetric(TaskMetric):
    """Mean angle, rmse of the angle (degrees) and % of pixels under 11.25,
    22.5, 30 degrees, over every valid pixel of the set."""

    task = 'normal'

    def image_stats(self, pred, gt):
        ang = angular_errors(pred, gt)
        return np.array([float(ang.numel()), float(ang.sum()),
                         float((ang * ang).sum())] +
                        [float((ang < t).sum()) for t in THRESHOLDS_DEG],
                        dtype=np.float64)

    def metrics_from_stats(self, stats):
        n, s, s_sq = stats[:3]
        if n == 0:
            raise ValueError('NormalMetric: no valid normal pixel in the set')
        out = dict(mean=s / n, rmse=float(np.sqrt(s_sq / n)))
        for t, c in zip(THRESHOLDS_DEG, stats[3:]):
            out[f'within_{t:g}'] = c / n * 100
        return out
