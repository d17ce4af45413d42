"""Shared pieces of the cross-task methods (docs/methods.md).

The mapper input encodings of XTC (Li, Liu, Bilen, CVPR 2022), reused by
region contrast (Li et al., ECCV 2024), and the enumeration of
(labelled, unlabelled) task pairs. Methods add here what a second method
reuses; one definition each.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F

from mtpsl.structures import task_spec


def encode_target(task: str, gt: torch.Tensor,
                  num_classes: Optional[int] = None) -> torch.Tensor:
    """The mapper's input made from GT (B x C x H x W).

    Labels: one-hot, ignored pixels all zero. Depth: divided by its
    per-image max. Normals: (n + 1) / 2 where valid, zero where invalid.
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
        valid = (gt != 0).any(dim=1, keepdim=True).float()
        return (gt + 1) / 2 * valid
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
