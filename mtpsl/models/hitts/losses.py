"""HiTTs losses (Zhang et al.): the binned task loss, Eq. (13), the pseudo
label loss, Eq. (7), and the feature loss, Eq. (6).

Re-implemented from the paper (no public code). Every function returns an
exact zero that stays in the graph when nothing is supervised, never NaN.
The 1/T of Eqs. (5)-(8) is the balancer's weight (configs set
``FixedWeights`` to 1/T); L_p and L_f join their task's loss before it.
"""
from __future__ import annotations

from typing import Dict, Optional

import torch
import torch.nn.functional as F

from mtpsl.registry import MODELS
from mtpsl.structures import task_spec

EPS = 1e-6


def soft_centres(logits: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Eq. (10): ``sum_c centre_c softmax(G')_c``; logits B x K x H x W,
    centres K x D -> B x D x H x W."""
    return torch.einsum('bkhw,kd->bdhw', logits.softmax(dim=1), centres)


def valid_pixels(task: str, target: torch.Tensor) -> torch.Tensor:
    """B x H x W bool: pixels of ``target`` not at the task's invalid value."""
    invalid = task_spec(task).invalid
    if task_spec(task).kind == 'label':
        return target[:, 0] != invalid
    return (target != invalid).any(dim=1)


def nearest_bin(task: str, target: torch.Tensor, centres: torch.Tensor
                ) -> torch.Tensor:
    """The one-hot bin of Eq. (12) as an index map (B x H x W, -1 where
    invalid). Depth: nearest centre in log depth (the bins are log-spaced);
    normals: the centre of largest cosine."""
    valid = valid_pixels(task, target)
    if task == 'depth':
        d = target[:, 0].clamp_min(EPS).log()
        dist = (d[:, None] - centres[:, 0].clamp_min(EPS).log()[
            None, :, None, None]).abs()
        idx = dist.argmin(dim=1)
    elif task == 'normal':
        idx = torch.einsum('bdhw,kd->bkhw', target, centres).argmax(dim=1)
    else:
        raise ValueError(f'nearest_bin: {task!r} is not a binned task')
    return torch.where(valid, idx, torch.full_like(idx, -1))


def _zero(logits: torch.Tensor) -> torch.Tensor:
    return logits.sum() * 0.0


def regression_loss(task: str, pred: torch.Tensor, target: torch.Tensor
                    ) -> torch.Tensor:
    """L_reg of Eq. (11): L1 for depth, mean angle (radians) for normals,
    over the valid pixels of the batch."""
    valid = valid_pixels(task, target)
    n = valid.sum()
    if int(n) == 0:
        return _zero(pred)
    if task == 'depth':
        err = (pred[:, 0] - target[:, 0]).abs()
    elif task == 'normal':
        cos = (F.normalize(pred, dim=1) * target).sum(dim=1)
        err = torch.acos(cos.clamp(-1 + EPS, 1 - EPS))
    else:
        raise ValueError(f'regression_loss: {task!r} is not a regression '
                         'task')
    return (err * valid).sum() / n


def classification_loss(logits: torch.Tensor, index: torch.Tensor
                        ) -> torch.Tensor:
    """Eq. (12): cross-entropy of G' against an index map (-1 = none),
    mean over the supervised pixels of the batch."""
    valid = index >= 0
    if not bool(valid.any()):
        return _zero(logits)
    if bool((index >= logits.shape[1]).any()):
        raise ValueError(f'classification_loss: index {int(index.max())} '
                         f'outside [0, {logits.shape[1]})')
    return F.cross_entropy(logits, index.long(), ignore_index=-1)


def task_loss(task: str, logits: torch.Tensor, target: torch.Tensor,
              centres: Optional[torch.Tensor] = None,
              reg_weight: float = 0.1) -> Dict[str, torch.Tensor]:
    """Eq. (13): ``lambda_i L_reg(Y^, Y) + CE(G', Y^oh)``; lambda_i =
    ``reg_weight`` (0.1) for a binned regression task, 0 for a label task.

    ``target`` is in GT units (class ids, metres, unit normals), invalid
    pixels at the task's invalid value; ``centres`` K x D for binned tasks.
    Returns ``{'loss_ce': ..., 'loss_reg': ...}`` (no ``loss_reg`` for
    label tasks).
    """
    if task_spec(task).kind == 'label':
        return dict(loss_ce=classification_loss(logits, target[:, 0]))
    if centres is None:
        raise ValueError(f'task_loss: binned task {task!r} needs centres')
    if centres.shape[0] != logits.shape[1]:
        raise ValueError(f'task_loss: {task!r} has {logits.shape[1]} logits '
                         f'but {centres.shape[0]} centres')
    pred = soft_centres(logits, centres)
    return dict(
        loss_ce=classification_loss(logits,
                                    nearest_bin(task, target, centres)),
        loss_reg=reg_weight * regression_loss(task, pred, target))


def pseudo_label_loss(task: str, logits: torch.Tensor,
                      pseudo: torch.Tensor, labelled: torch.Tensor,
                      centres: Optional[torch.Tensor] = None,
                      reg_weight: float = 0.1) -> Dict[str, torch.Tensor]:
    """Eq. (7): ``(1 - alpha_i) M^p * L_i(Y^, Y~)``.

    ``pseudo`` holds the pseudo labels in GT units with the pixels under
    tau (M^p = 0) at the invalid value; ``labelled`` (B bool) drops the
    images labelled for the task (alpha_i = 1), whose pseudo labels the
    tool never writes anyway. Keys ``loss_pseudo_ce`` / ``loss_pseudo_reg``.
    """
    invalid = task_spec(task).invalid
    keep = (~labelled.bool()).view(-1, 1, 1, 1)
    pseudo = torch.where(keep, pseudo, torch.full_like(pseudo, invalid))
    return {k.replace('loss_', 'loss_pseudo_'): v for k, v in task_loss(
        task, logits, pseudo, centres, reg_weight).items()}


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
        return regression_loss('normal', pred, target) * self.loss_weight
