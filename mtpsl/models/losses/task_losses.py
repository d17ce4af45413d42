"""Task losses on labelled pixels only.

A batch in which no pixel is labelled for a task yields an exact zero that
stays in the autograd graph (``pred.sum() * 0``), never NaN.

Two reductions: ``'mean'`` (default), the mean over the labelled pixels of
the batch; ``'image_sum'``, per image the mean over its labelled pixels,
summed over the images that have one and divided by the batch size B, i.e.
``(1/B) sum_i L_i``, as XTC's release sums each image's supervised losses
and divides by B (configs/xtc/README.md).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from mtpsl.registry import MODELS


def _zero_like_graph(pred: torch.Tensor) -> torch.Tensor:
    return pred.sum() * 0.0


def _check_shapes(name: str, pred: torch.Tensor, target: torch.Tensor) -> None:
    if pred.shape[0] != target.shape[0] or pred.shape[-2:] != target.shape[-2:]:
        raise ValueError(f'{name}: prediction {tuple(pred.shape)} and target '
                         f'{tuple(target.shape)} differ in batch or size')


REDUCTIONS = ('mean', 'image_sum')


def _check_reduction(name: str, reduction: str) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f'{name}: reduction must be one of {REDUCTIONS}, '
                         f'got {reduction!r}')
    return reduction


def _image_sum(per_pixel: torch.Tensor, valid: torch.Tensor
               ) -> torch.Tensor:
    """``per_pixel`` and ``valid`` B x H x W (zero where invalid):
    ``(1/B) sum_i`` of the per-image means over valid pixels."""
    counts = valid.flatten(1).sum(1)
    sums = per_pixel.flatten(1).sum(1)
    has = counts > 0
    return (sums[has] / counts[has]).sum() / per_pixel.shape[0]


def _check_weight(name: str, loss_weight: float) -> float:
    if not loss_weight >= 0:
        raise ValueError(f'{name}: loss_weight must be >= 0, got {loss_weight}')
    return float(loss_weight)


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """Pixel-wise cross-entropy; ``ignore_index`` pixels are not supervised.

    Averaged over labelled pixels of the batch (the MTPSL line), or with
    ``reduction='image_sum'`` per image (module docstring).
    """

    def __init__(self, ignore_index: int = -1, loss_weight: float = 1.0,
                 loss_name: str = 'loss_ce', reduction: str = 'mean'
                 ) -> None:
        super().__init__()
        self.reduction = _check_reduction('CrossEntropyLoss', reduction)
        self.ignore_index = ignore_index
        self.loss_weight = _check_weight('CrossEntropyLoss', loss_weight)
        self.loss_name = loss_name

    def forward(self, logits: torch.Tensor, target: torch.Tensor
                ) -> torch.Tensor:
        """``logits`` B x C x H x W, ``target`` B x 1 x H x W (long)."""
        _check_shapes('CrossEntropyLoss', logits, target)
        target = target[:, 0].long()
        valid = target != self.ignore_index
        if not bool(valid.any()):
            return _zero_like_graph(logits)
        num_classes = logits.shape[1]
        bad = valid & ((target < 0) | (target >= num_classes))
        if bool(bad.any()):
            raise ValueError(
                f'CrossEntropyLoss: label {int(target[bad][0])} outside '
                f'[0, {num_classes}) and not the ignore index '
                f'{self.ignore_index}')
        if self.reduction == 'mean':
            loss = F.cross_entropy(logits, target,
                                   ignore_index=self.ignore_index)
        else:
            per_pixel = F.cross_entropy(logits, target, reduction='none',
                                        ignore_index=self.ignore_index)
            loss = _image_sum(per_pixel, valid)
        return loss * self.loss_weight


@MODELS.register_module()
class MaskedL1Loss(nn.Module):
    """Mean absolute error over pixels whose target is valid (non-zero)."""

    def __init__(self, invalid_value: float = 0.0, loss_weight: float = 1.0,
                 loss_name: str = 'loss_l1', reduction: str = 'mean') -> None:
        super().__init__()
        self.reduction = _check_reduction('MaskedL1Loss', reduction)
        self.invalid_value = invalid_value
        self.loss_weight = _check_weight('MaskedL1Loss', loss_weight)
        self.loss_name = loss_name

    def forward(self, pred: torch.Tensor, target: torch.Tensor
                ) -> torch.Tensor:
        """``pred`` and ``target`` B x C x H x W; mean over valid pixels."""
        _check_shapes('MaskedL1Loss', pred, target)
        valid = (target != self.invalid_value).any(dim=1, keepdim=True)
        n = valid.sum()
        if int(n) == 0:
            return _zero_like_graph(pred)
        diff = (pred - target).abs() * valid
        if self.reduction == 'mean':
            return diff.sum() / (n * pred.shape[1]) * self.loss_weight
        return _image_sum(diff.mean(dim=1), valid[:, 0]) * self.loss_weight


@MODELS.register_module()
class CosineSimilarityLoss(nn.Module):
    """1 - mean cosine between predicted and GT normals on valid pixels."""

    def __init__(self, loss_weight: float = 1.0,
                 loss_name: str = 'loss_cos', reduction: str = 'mean'
                 ) -> None:
        super().__init__()
        self.reduction = _check_reduction('CosineSimilarityLoss', reduction)
        self.loss_weight = _check_weight('CosineSimilarityLoss', loss_weight)
        self.loss_name = loss_name

    def forward(self, pred: torch.Tensor, target: torch.Tensor
                ) -> torch.Tensor:
        """``pred`` unit normals B x 3 x H x W; all-zero target = invalid."""
        _check_shapes('CosineSimilarityLoss', pred, target)
        valid = (target != 0).any(dim=1)
        n = valid.sum()
        if int(n) == 0:
            return _zero_like_graph(pred)
        cos = (pred * target).sum(dim=1)
        if self.reduction == 'mean':
            return (1.0 - (cos * valid).sum() / n) * self.loss_weight
        return _image_sum((1.0 - cos) * valid, valid) * self.loss_weight
