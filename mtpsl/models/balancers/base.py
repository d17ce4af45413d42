"""Loss balancers: turn per-task losses into the weighted losses to sum."""
from __future__ import annotations

from typing import Dict, Mapping, Sequence

import torch
import torch.nn as nn

from mtpsl.registry import MODELS

TaskLosses = Mapping[str, Mapping[str, torch.Tensor]]


def flatten_losses(task_losses: TaskLosses,
                   weights: Mapping[str, torch.Tensor | float]
                   ) -> Dict[str, torch.Tensor]:
    """``{task: {loss_x: v}}`` -> ``{'task.loss_x': w_task * v}``."""
    out: Dict[str, torch.Tensor] = {}
    for task, losses in task_losses.items():
        for name, value in losses.items():
            out[f'{task}.{name}'] = value * weights[task]
    return out


@MODELS.register_module()
class FixedWeights(nn.Module):
    """Constant task weights (1.0 for a task not named)."""

    def __init__(self, tasks: Sequence[str], weights: Mapping[str, float]
                 | None = None) -> None:
        super().__init__()
        weights = dict(weights or {})
        unknown = sorted(set(weights) - set(tasks))
        if unknown:
            raise KeyError(f'FixedWeights: weights given for {unknown}, which '
                           f'are not tasks of the model {list(tasks)}')
        for task, w in weights.items():
            if not w >= 0:
                raise ValueError(f'FixedWeights: weight of {task!r} must be '
                                 f'>= 0, got {w}')
        self.weights = {t: float(weights.get(t, 1.0)) for t in tasks}

    def forward(self, task_losses: TaskLosses,
                labelled: Mapping[str, bool]) -> Dict[str, torch.Tensor]:
        """Weighted losses; ``labelled`` is unused by constant weights."""
        return flatten_losses(task_losses, self.weights)


@MODELS.register_module()
class UncertaintyWeighting(nn.Module):
    """Homoscedastic uncertainty weighting (Kendall, Gal, Cipolla, CVPR 2018).

    In the form of the MTAN / MTPSL release: for log-variance ``s_t``,
    ``L = sum_t exp(-s_t) / 2 * L_t + s_t / 2``. Under partial supervision
    the regulariser ``s_t / 2`` is added only for tasks labelled in the batch,
    otherwise it would drive an unsupervised task's ``s_t`` to -inf.

    ``reg_weight`` multiplies ``s_t`` (0.5 above; 1.0 is the XTasC release's
    ``0.5 exp(-s_t) L_t + s_t``, with ``init_log_var=0``).
    """

    def __init__(self, tasks: Sequence[str], init_log_var: float = -0.5,
                 reg_weight: float = 0.5) -> None:
        super().__init__()
        if not reg_weight > 0:
            raise ValueError(f'UncertaintyWeighting: reg_weight must be > 0,'
                             f' got {reg_weight}')
        self.reg_weight = float(reg_weight)
        self.tasks = tuple(tasks)
        self.log_vars = nn.Parameter(
            torch.full((len(self.tasks),), float(init_log_var)))

    def forward(self, task_losses: TaskLosses,
                labelled: Mapping[str, bool]) -> Dict[str, torch.Tensor]:
        """Weighted losses plus the per-task regulariser terms."""
        index = {t: i for i, t in enumerate(self.tasks)}
        weights = {t: 0.5 * torch.exp(-self.log_vars[index[t]])
                   for t in task_losses}
        out = flatten_losses(task_losses, weights)
        for t in task_losses:
            if labelled.get(t, False):
                out[f'{t}.loss_uncertainty'] = (
                    self.reg_weight * self.log_vars[index[t]])
        return out
