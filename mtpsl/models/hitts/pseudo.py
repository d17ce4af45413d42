"""Label discovery of HiTTs (Zhang et al., Sec. 3.3): pseudo labels
``Y~ = argmax softmax(G')`` kept where ``max softmax(G') > tau_i`` (M^p).

Re-implemented from the paper (no public code). Pseudo labels are returned
in GT units so they move with augmentation as GT does: class ids for label
tasks, the argmax bin's centre for binned tasks (metres, unit normals);
pixels at or under tau hold the task's invalid value.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch

from mtpsl.structures import task_spec


def discover_labels(task: str, logits: torch.Tensor, tau: float,
                    centres: Optional[torch.Tensor] = None
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(pseudo label B x C x H x W in GT units, kept B x 1 x H x W)``.

    ``logits``: B x K x H x W (G'); ``centres``: K x D for binned tasks.
    """
    if not 0.0 <= tau < 1.0:
        raise ValueError(f'discover_labels: tau of {task!r} must be in '
                         f'[0, 1), got {tau}')
    prob, idx = logits.softmax(dim=1).max(dim=1, keepdim=True)
    kept = prob > tau
    spec = task_spec(task)
    if spec.kind == 'label':
        label = torch.where(kept, idx, torch.full_like(idx, int(spec.invalid)))
        return label, kept
    if centres is None:
        raise ValueError(f'discover_labels: binned task {task!r} needs '
                         'centres')
    if centres.shape[0] != logits.shape[1]:
        raise ValueError(f'discover_labels: {task!r} has {logits.shape[1]} '
                         f'logits but {centres.shape[0]} centres')
    value = centres[idx[:, 0]].permute(0, 3, 1, 2).to(logits.dtype)
    value = torch.where(kept, value, torch.full_like(value, spec.invalid))
    return value, kept
