"""Shared pieces of the cross-task methods (docs/methods.md).

The mapper input encodings of XTC (Li, Liu, Bilen, CVPR 2022), reused by
region contrast (Li et al., ECCV 2024), and the enumeration of
(labelled, unlabelled) task pairs. Methods add here what a second method
reuses; one definition each. CCR adds the nearest resampling of GT
to a feature map's size.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F

from mtpsl.structures import task_spec


def encode_target(task: str, gt: torch.Tensor,
                  num_classes: Optional[int] = None,
                  normal_invalid: float = 0.5) -> torch.Tensor:
    """The mapper's input made from GT (B x C x H x W).

    Labels: one-hot, ignored pixels all zero. Depth: divided by its
    per-image max. Normals: (n + 1) / 2 where valid, ``normal_invalid``
    where invalid (0.5 = (0 + 1) / 2 in XTC's release; 0 as ignored labels).
    """
    spec = task_spec(task)
    if spec.kind == 'label':
        labels = gt[:, 0].long()
        valid = (labels >= 0) & (labels < num_classes)
        onehot = F.one_hot(labels.clamp(0, num_classes - 1), num_classes)
        onehot = onehot.permute(0, 3, 1, 2).float()
        return onehot * valid[:, None].float()
    if task == 'depth':
        peak = gt.flatten(1).amax(dim=1).clamp_min(1e-6)
        return gt / peak[:, None, None, None]
    if task == 'normal':
        valid = (gt != 0).any(dim=1, keepdim=True)
        return torch.where(valid, (gt + 1) / 2,
                           torch.full_like(gt, float(normal_invalid)))
    raise NotImplementedError(f'XTC has no input encoding for task {task!r}')


def hard_gumbel_softmax(logits: torch.Tensor, tau: float = 1.0,
                        generator: Optional[torch.Generator] = None
                        ) -> torch.Tensor:
    """One-hot forward, softmax-of-perturbed-logits gradient (straight-
    through) over dim 1, with the noise drawn from ``generator``."""
    noise = torch.empty_like(logits).exponential_(generator=generator).log()
    soft = ((logits - noise) / tau).softmax(dim=1)
    index = soft.argmax(dim=1, keepdim=True)
    hard = torch.zeros_like(soft).scatter_(1, index, 1.0)
    return hard - soft.detach() + soft


def encode_prediction(task: str, pred: torch.Tensor, tau: float = 1.0,
                      generator: Optional[torch.Generator] = None
                      ) -> torch.Tensor:
    """The mapper's input made from a prediction (B x C x H x W).

    Labels: hard Gumbel-softmax of the logits (one-hot forward, softmax
    gradient: straight-through), noise from ``generator``. Depth: divided
    by its per-image max. Normals: (n + 1) / 2.
    """
    spec = task_spec(task)
    if spec.kind == 'label':
        return hard_gumbel_softmax(pred, tau, generator)
    if task == 'depth':
        peak = pred.flatten(1).amax(dim=1).clamp_min(1e-6)
        return pred / peak[:, None, None, None]
    if task == 'normal':
        return (pred + 1) / 2
    raise NotImplementedError(f'XTC has no input encoding for task {task!r}')


def cosine_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image ``1 - cos`` over channels, averaged over pixels: (B,)."""
    if a.shape[-2:] != b.shape[-2:]:
        b = F.interpolate(b, size=a.shape[-2:], mode='bilinear',
                          align_corners=False)
    return (1 - F.cosine_similarity(a, b, dim=1, eps=1e-8)).flatten(1).mean(1)


def labelled_unlabelled_pairs(label_flags: torch.Tensor
                              ) -> List[Tuple[int, int, torch.Tensor]]:
    """``(s, t, images)`` for every ordered task pair: the images (long
    indices) where ``s`` is labelled and ``t`` is not. Empty pairs are left
    out; a fully labelled image appears in none."""
    flags = label_flags.bool()
    out = []
    for s in range(flags.shape[1]):
        for t in range(flags.shape[1]):
            if s == t:
                continue
            images = torch.nonzero(flags[:, s] & ~flags[:, t]).flatten()
            if images.numel():
                out.append((s, t, images))
    return out


def resize_region_ids(ids: torch.Tensor, size: Tuple[int, int]
                      ) -> torch.Tensor:
    """Region ids (B x 1 x H x W or B x H x W) nearest-resampled to
    ``size``: every output pixel keeps the id of the pixel it falls in."""
    squeeze = ids.dim() == 3
    ids4 = ids[:, None] if squeeze else ids
    if tuple(ids4.shape[-2:]) != tuple(size):
        ids4 = F.interpolate(ids4.float(), size=tuple(size),
                             mode='nearest').long()
    ids4 = ids4.long()
    return ids4[:, 0] if squeeze else ids4


def region_segments(ids: torch.Tensor, min_pixels: int = 1):
    """Segment bookkeeping of a batch of region maps, for reductions by
    region without a Python loop.

    ``ids``: N x H x W (or N x 1 x H x W), 0 = no region. Returns
    ``(pixels, segment, counts, image, region)``: a bool N x H x W mask of
    the pixels that belong to a kept region, the segment index (0..G-1) of
    each such pixel in raster order of the mask, the pixel count, image
    index and region id of each of the G segments, ordered by (image,
    region id). Regions with fewer than ``min_pixels`` pixels are dropped.
    """
    if ids.dim() == 4:
        ids = ids[:, 0]
    ids = ids.long()
    stride = int(ids.max()) + 1 if ids.numel() else 1
    image_of = torch.arange(ids.shape[0], device=ids.device)[:, None, None]
    valid = ids > 0
    keys = (ids + stride * image_of)[valid]
    uniq, inv, counts = torch.unique(keys, return_inverse=True,
                                     return_counts=True)
    keep = counts >= max(int(min_pixels), 1)
    new_index = torch.cumsum(keep.long(), 0) - 1
    pixels = valid.clone()
    pixels[valid] = keep[inv]
    segment = new_index[inv][keep[inv]]
    uniq = uniq[keep]
    return pixels, segment, counts[keep], uniq // stride, uniq % stride


def pool_by_region(feats: torch.Tensor, ids: torch.Tensor,
                   min_pixels: int = 1):
    """Mean feature of every region of every image at once.

    ``feats``: N x C x H x W; ``ids``: N x H x W region ids at the same
    resolution. Returns ``(means G x C, counts, image, region)`` ordered
    by (image, region id); see :func:`region_segments`.
    """
    if ids.dim() == 4:
        ids = ids[:, 0]
    if tuple(ids.shape) != (feats.shape[0],) + tuple(feats.shape[-2:]):
        raise ValueError(f'pool_by_region: ids {tuple(ids.shape)} do not '
                         f'match features {tuple(feats.shape)}')
    pixels, segment, counts, image, region = region_segments(ids, min_pixels)
    x = feats.permute(0, 2, 3, 1)[pixels]
    sums = x.new_zeros(counts.numel(), x.shape[1]).index_add(0, segment, x)
    return sums / counts[:, None].to(x.dtype), counts, image, region


def consistency_pairs(label_flags: torch.Tensor,
                      full_label_pairs: bool = True
                      ) -> List[Tuple[int, int, torch.Tensor]]:
    """XTC's release pairs: ``(s, t, images)`` with ``s`` labelled and ``t``
    not, plus, with ``full_label_pairs``, every ordered pair ``s != t`` of
    a fully labelled image (prediction of ``t`` against GT of ``s``)."""
    flags = label_flags.bool()
    full = flags.all(dim=1) if full_label_pairs else torch.zeros_like(
        flags[:, 0])
    out = []
    for s in range(flags.shape[1]):
        for t in range(flags.shape[1]):
            if s == t:
                continue
            chosen = flags[:, s] & (~flags[:, t] | full)
            images = torch.nonzero(chosen).flatten()
            if images.numel():
                out.append((s, t, images))
    return out


def resample_target(task: str, target: torch.Tensor, size) -> torch.Tensor:
    """GT (B x C x H x W) brought to ``size`` by nearest sampling.

    Each output pixel copies one source pixel (half-pixel centres, as the
    geometric transforms: ``floor((k + 0.5) * H / h)``), so labels keep
    their ids and a depth / normal pixel is valid exactly when the pixel it
    copies is: no invalid zero is ever averaged into a value. Used where a
    method compares GT with a feature map below the input size (CCR).
    """
    task_spec(task)  # a clear error for an unknown task
    h, w = (int(s) for s in size)
    if h <= 0 or w <= 0:
        raise ValueError(f'resample_target: size must be positive, got '
                         f'{tuple(size)!r}')
    src_h, src_w = target.shape[-2:]
    if (src_h, src_w) == (h, w):
        return target
    rows = ((2 * torch.arange(h, device=target.device) + 1) * src_h) // (2 * h)
    cols = ((2 * torch.arange(w, device=target.device) + 1) * src_w) // (2 * w)
    return target.index_select(-2, rows).index_select(-1, cols)


def image_region_mask(data_samples, shape, device=None) -> torch.Tensor:
    """B x 1 x H x W bool: the pixels of each image, its batch padding
    excluded (from each sample's ``img_shape``; all True without samples
    or without ``img_shape``). For terms that need no GT, which would
    otherwise count the padding."""
    b, h, w = shape
    mask = torch.ones(b, 1, h, w, dtype=torch.bool, device=device)
    for i, sample in enumerate(data_samples or ()):
        img_shape = getattr(sample, 'metainfo', {}).get('img_shape')
        if img_shape is not None:
            ih, iw = int(img_shape[0]), int(img_shape[1])
            mask[i, :, ih:, :] = False
            mask[i, :, :, iw:] = False
    return mask
