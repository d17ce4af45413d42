"""Shared parts of the binary-map metrics (saliency, edges): the probability
map, and counts at fixed thresholds kept as histograms."""
from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .base import NO_GT, TaskMetric, _field, _meta


def probability_bins(prob: torch.Tensor, num_thresholds: int) -> torch.Tensor:
    """floor(p N) in [0, N]: a pixel is positive at threshold k / N iff its
    bin is >= k (the exact definition of the thresholding; bin 0 holds the
    pixels below every threshold k >= 1)."""
    return torch.floor(prob.double().clamp(0, 1) * num_thresholds).long()


def bin_counts(bins: torch.Tensor, num_thresholds: int) -> np.ndarray:
    """Histogram over the N + 1 bins (int64)."""
    return torch.bincount(bins.reshape(-1), minlength=num_thresholds + 1
                          ).numpy().astype(np.int64)


def at_thresholds(hist: np.ndarray) -> np.ndarray:
    """Count of values whose bin is >= k, for every k (reverse cumsum)."""
    return np.cumsum(hist[::-1])[::-1]


def f_measure(precision: np.ndarray, recall: np.ndarray,
              beta2: float) -> np.ndarray:
    """(1 + b^2) P R / (b^2 P + R); 0 where P and R are both 0."""
    den = beta2 * precision + recall
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(den > 0, (1 + beta2) * precision * recall /
                        np.where(den > 0, den, 1), 0.0)


def safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (no positive -> precision 0)."""
    return np.where(den > 0, num / np.maximum(den, 1), 0.0)


class BinaryMapMetric(TaskMetric):
    """A metric of a binary label task (GT 0/1, other values ignored) that
    scores the probability of class 1, ``pred_<task>_prob`` (1 x H x W).

    Without that field the hard label map ``pred_<task>`` is scored as a
    0/1 probability (every threshold in (0, 1] then gives the same map).
    """

    def __init__(self, num_thresholds: int = 100, **kwargs) -> None:
        if num_thresholds < 1:
            raise ValueError(f'num_thresholds must be >= 1, got '
                             f'{num_thresholds}')
        self.num_thresholds = int(num_thresholds)
        super().__init__(**kwargs)

    def triples(self, data_samples: Sequence[Any]
                ) -> List[Optional[Tuple[torch.Tensor, ...]]]:
        """(probability H x W, label prediction H x W, GT H x W) per image,
        None for an image without GT for the task (as ``pairs``)."""
        out: List[Optional[Tuple[torch.Tensor, ...]]] = []
        for s, pair in zip(data_samples, self.pairs(data_samples)):
            if pair is None:
                out.append(None)
                continue
            pred, gt = pair
            prob = _field(s, f'pred_{self.task}_prob')
            prob = pred.double() if prob is None else prob.detach().cpu()
            if prob.shape[-2:] != gt.shape[-2:] or prob.numel() != \
                    gt.numel():
                where = _meta(s, 'img_path') or '?'
                raise ValueError(f'{type(self).__name__}: image {where}: '
                                 f'probability {tuple(prob.shape)} and GT '
                                 f'{tuple(gt.shape)} differ in size')
            h, w = gt.shape[-2:]
            out.append((prob.reshape(h, w), pred.reshape(-1, h, w)[0],
                        gt.reshape(h, w)))
        return out

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Append one statistics vector per image."""
        for triple in self.triples(data_samples):
            self.results.append(NO_GT if triple is None else
                                self.binary_stats(*triple))

    def binary_stats(self, prob: torch.Tensor, pred: torch.Tensor,
                     gt: torch.Tensor) -> np.ndarray:
        raise NotImplementedError
