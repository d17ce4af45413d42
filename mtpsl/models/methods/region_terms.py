"""InfoNCE and the non-Gaussian contrasts of region contrast's ablations.

Li et al., ECCV 2024: Eq. (3) (InfoNCE with the positive in the
denominator), the vector contrast (region means) and the pixel contrast
(each pixel of a region against the corresponding pixel of the positive
region and the pixels of the other regions) of Tables 2, 3 and 6.
"""
from __future__ import annotations

from typing import Tuple

import torch
import torch.nn.functional as F

from .toolkit import region_segments


def info_nce(positive: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Eq. (3) with ``sim = exp(logit)``: ``-log(sim+ / sum_k sim_k)``.

    ``positive``: (A,) logits of the positives; ``logits``: A x K logits of
    every candidate of each anchor, the positive included, ``-inf`` where a
    candidate is absent. Computed as ``logsumexp - positive`` (stable for
    any distance scale)."""
    return torch.logsumexp(logits, dim=1) - positive


def vector_distance(a: torch.Tensor, b: torch.Tensor, ia: torch.Tensor,
                    ib: torch.Tensor, metric: str = 'l2') -> torch.Tensor:
    """Squared L2 or ``1 - cos`` between the vectors ``a[ia]``, ``b[ib]``."""
    x, y = a[ia], b[ib]
    if metric == 'l2':
        return ((x - y) ** 2).sum(-1)
    if metric == 'cosine':
        return 1 - F.cosine_similarity(x, y, dim=-1, eps=1e-8)
    raise ValueError(f"vector_distance: metric must be 'l2' or 'cosine', "
                     f'got {metric!r}')


def _pairwise(x: torch.Tensor, y: torch.Tensor, metric: str) -> torch.Tensor:
    """Q x Q distances between the rows of ``x`` and of ``y``."""
    if metric == 'cosine':
        return 1 - F.normalize(x, dim=1, eps=1e-8) @ F.normalize(
            y, dim=1, eps=1e-8).T
    sq = (x * x).sum(1)[:, None] + (y * y).sum(1)[None] - 2 * x @ y.T
    return sq.clamp_min(0)


def sample_region_pixels(ids: torch.Tensor, min_pixels: int, per_region: int,
                         generator=None):
    """``per_region`` random pixels of every kept region (all of a smaller
    one). Returns ``(mask, pick, segment, image, region)``: the kept-pixel
    mask of :func:`region_segments`, the indices of the picked pixels among
    the mask's pixels, their segment, and the image and id per segment."""
    pixels, segment, counts, image, region = region_segments(ids,
                                                             min_pixels)
    keys = torch.rand(segment.shape, generator=generator,
                      device=segment.device, dtype=torch.float64)
    order = torch.argsort(segment.double() + keys)
    offsets = torch.cumsum(counts, 0) - counts
    rank = torch.arange(order.numel(), device=order.device) - offsets[
        segment[order]]
    pick = order[rank < per_region]
    return pixels, pick, segment[pick], image, region


def pixel_contrast(maps_s: torch.Tensor, maps_t: torch.Tensor,
                   ids: torch.Tensor, min_pixels: int, per_region: int,
                   tau: float, metric: str = 'l2', anchors: str = 'both',
                   generator=None) -> Tuple[torch.Tensor, torch.Tensor]:
    """Pixel contrast: a sampled pixel of one map against the same pixel of
    the other map (positive) and the sampled pixels of the other regions of
    its image (negatives; the region's other pixels are left out).

    ``maps_*``: U x C x h x w, ``ids``: U x h x w. Returns the (A,) losses
    and the unit (row of ``maps_*``) of each anchor pixel."""
    pixels, pick, seg, image, _ = sample_region_pixels(ids, min_pixels,
                                                       per_region, generator)
    xs = maps_s.permute(0, 2, 3, 1)[pixels][pick]
    xt = maps_t.permute(0, 2, 3, 1)[pixels][pick]
    unit = image[seg]
    q = unit.numel()
    if q == 0:
        return xs.new_zeros(0), unit
    eye = torch.eye(q, dtype=torch.bool, device=unit.device)
    allowed = (unit[:, None] == unit[None]) & ((seg[:, None] != seg[None])
                                               | eye)
    dist = _pairwise(xs, xt, metric)
    directions = [dist.T] if anchors == 'target' else [dist, dist.T]
    losses = []
    for d in directions:
        logits = (-d / tau).masked_fill(~allowed, float('-inf'))
        losses.append(info_nce(torch.diagonal(logits), logits))
    return torch.cat(losses), unit.repeat(len(directions))
