"""Edges: optimal-dataset-scale F-measure with a distance tolerance."""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy import ndimage

from mtpsl.registry import METRICS
from .binary import (BinaryMapMetric, at_thresholds, bin_counts, f_measure,
                     probability_bins, safe_ratio)


def disk(radius: float) -> np.ndarray:
    """Boolean footprint of the offsets (dy, dx) with dy^2 + dx^2 <= r^2."""
    r = int(math.floor(radius))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return yy * yy + xx * xx <= radius * radius


def disk_max_at(values: np.ndarray, footprint: np.ndarray,
                where: np.ndarray) -> np.ndarray:
    """Max of ``values`` over the footprint centred on each True pixel of
    ``where`` (outside the image: -1); the same as a maximum filter read at
    those pixels, but costs footprint size x their count."""
    r = footprint.shape[0] // 2
    padded = np.pad(values, r, constant_values=-1)
    ys, xs = np.nonzero(where)
    best = np.full(ys.shape, -1, dtype=values.dtype)
    for dy, dx in np.argwhere(footprint) - r:
        np.maximum(best, padded[ys + r + dy, xs + r + dx], out=best)
    return best


@METRICS.register_module()
class EdgeMetric(BinaryMapMetric):
    """``odsF`` (%): the best F-measure (beta = 1) over thresholds k / N
    (k = 1..N; BSDS uses 99 in (0, 1)) of
    the precision and recall counts summed over the set (the BSDS
    "optimal dataset scale"), with a matching tolerance.

    At threshold k / N the predicted edges are the valid pixels with
    floor(p N) >= k; the tolerance is ``max_dist`` x the image diagonal
    (BSDS: 0.0075). A predicted edge pixel is correct iff a GT edge pixel
    lies within the tolerance (Euclidean), a GT edge pixel is recalled iff a
    predicted edge pixel does. This is distance matching, many-to-one, with
    neither thinning nor NMS of the prediction: the original protocol thins
    each binarised map and matches pixels one-to-one (bipartite), so on thick
    predictions ours is optimistic on precision. See docs/evaluation.md.

    All thresholds come from one pass per image: a histogram of the
    prediction's bins (all / near a GT edge, i.e. in the GT edges dilated by
    the tolerance disk) for precision, and for recall
    the bins of the max probability within the tolerance disk of each GT
    edge pixel (a GT pixel is recalled at k iff that max's bin is >= k).
    GT pixels other than 0 / 1 are ignored: no prediction is counted there.
    """

    task = 'edge'

    def __init__(self, max_dist: float = 0.0075, num_thresholds: int = 100,
                 task: str = 'edge', **kwargs) -> None:
        if not 0 <= max_dist < 1:
            raise ValueError(f'max_dist is a fraction of the image diagonal '
                             f'in [0, 1), got {max_dist}')
        self.max_dist = float(max_dist)
        super().__init__(num_thresholds=num_thresholds, task=task, **kwargs)

    def binary_stats(self, prob, pred, gt):
        n = self.num_thresholds
        h, w = gt.shape
        radius = self.max_dist * math.hypot(h, w)
        valid = ((gt == 0) | (gt == 1)).numpy()
        gt_edge = (gt == 1).numpy()
        bins = probability_bins(prob, n)
        footprint = disk(radius)
        # within the tolerance of a GT edge pixel (= distance transform <= r)
        near_gt = ndimage.binary_dilation(gt_edge, structure=footprint)
        pred_all = bin_counts(bins[torch.from_numpy(valid)], n)
        pred_hit = bin_counts(bins[torch.from_numpy(valid & near_gt)], n)
        best = disk_max_at(np.where(valid, bins.numpy(), -1), footprint,
                           gt_edge)
        # -1: no valid pixel within the tolerance (never recalled)
        gt_hit = np.bincount(best[best >= 0], minlength=n + 1)
        return np.concatenate([pred_all, pred_hit, gt_hit.astype(np.int64),
                               [int(gt_edge.sum())]])

    def metrics_from_stats(self, stats):
        n = self.num_thresholds + 1
        pred_all = at_thresholds(stats[:n])
        pred_hit = at_thresholds(stats[n:2 * n])
        gt_hit = at_thresholds(stats[2 * n:3 * n])
        gt_total = stats[3 * n]
        if gt_total == 0:
            raise ValueError('EdgeMetric: no GT edge pixel in the set')
        precision = safe_ratio(pred_hit, pred_all)
        recall = gt_hit / gt_total
        f = f_measure(precision, recall, 1.0)
        return dict(odsF=float(f[1:].max() * 100))  # k = 0: all pixels
