"""HiTTs losses (Zhang et al.): the angle loss of Eq. (11) for normals and
the feature loss, Eq. (6).

Re-implemented from the paper (no public code). Eq. (13) is the binned
head's loss (``mtpsl.models.heads``: the configured regression loss with
weight 0.1 on the soft-weighted centres, plus ``loss_bin_ce``); Eq. (7) is
that same loss on pseudo labels (``mtpsl.models.methods.hitts``). Every
function returns an exact zero that stays in the graph when nothing is
supervised, never NaN. The 1/T of Eqs. (5)-(8) is the balancer's weight.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from mtpsl.registry import MODELS

EPS = 1e-6


def _zero(x: torch.Tensor) -> torch.Tensor:
    return x.sum() * 0.0


def angle_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean angle (radians) between normalised ``pred`` and GT normals over
    the pixels whose GT is not all zero (L_reg of Eq. (11) for normals)."""
    valid = (target != 0).any(dim=1)
    n = valid.sum()
    if int(n) == 0:
        return _zero(pred)
    cos = (F.normalize(pred, dim=1) * target).sum(dim=1)
    # clamped: acos has an infinite slope at +-1
    err = torch.acos(cos.clamp(-1 + EPS, 1 - EPS))
    return (err * valid).sum() / n


def feature_loss(feat: torch.Tensor, saved: torch.Tensor,
                 labelled: torch.Tensor, mask: torch.Tensor,
                 valid: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Eq. (6): ``alpha_i MSE(F_i', F~_i) + (1 - alpha_i) M^f * MSE``.

    ``feat``, ``saved``: B x C x h x w; ``labelled``: B bool; ``mask``:
    B x 1 x h x w (M^f); ``valid``: B x 1 x h x w bool (pixels with a saved
    feature; default all). Per-pixel MSE is the mean over channels; the
    weighted sum is divided by the number of valid pixels (M^f lowers
    low-confidence pixels, it does not renormalise them).
    """
    if feat.shape != saved.shape:
        raise ValueError(f'feature_loss: feature {tuple(feat.shape)} and '
                         f'saved feature {tuple(saved.shape)} differ')
    if valid is None:
        valid = torch.ones_like(mask, dtype=torch.bool)
    n = valid.sum()
    if int(n) == 0:
        return _zero(feat)
    err = (feat - saved.to(feat.dtype)).pow(2).mean(dim=1, keepdim=True)
    alpha = labelled.bool().view(-1, 1, 1, 1)
    weight = torch.where(alpha, torch.ones_like(mask), mask) * valid
    return (err * weight).sum() / n


@MODELS.register_module()
class MaskedAngleLoss(torch.nn.Module):
    """Mean angle (radians) between predicted and GT normals on valid
    (non-zero) GT pixels: the "angle loss" of HiTTs' Eq. (11) for normals."""

    def __init__(self, loss_weight: float = 1.0,
                 loss_name: str = 'loss_angle') -> None:
        super().__init__()
        if not loss_weight >= 0:
            raise ValueError(f'MaskedAngleLoss: loss_weight must be >= 0, got '
                             f'{loss_weight}')
        self.loss_weight = float(loss_weight)
        self.loss_name = loss_name

    def forward(self, pred: torch.Tensor, target: torch.Tensor
                ) -> torch.Tensor:
        """``pred``, ``target``: B x 3 x H x W."""
        return angle_loss(pred, target) * self.loss_weight
