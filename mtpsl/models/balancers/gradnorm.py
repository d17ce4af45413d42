"""GradNorm (Chen, Badrinarayanan, Lee, Rabinovich, ICML 2018)."""
from __future__ import annotations

from typing import Dict, Mapping, Sequence

import torch
import torch.nn as nn

from mtpsl.registry import MODELS

from .base import TaskLosses, flatten_losses


@MODELS.register_module()
class GradNorm(nn.Module):
    """Task weights ``w_t`` learnt so that the weighted tasks' gradient norms
    at a shared layer W track ``mean_t G_t * r_t ** alpha``.

    For each labelled task t of the batch (Eq. (1)-(3) of the paper)::

        G_t = || d(w_t L_t) / dW || = w_t * || dL_t / dW ||
        r_t = (L_t / L_t(0)) / mean_s (L_s / L_s(0))
        L_grad = sum_t | G_t - const(mean_s G_s * r_t ** alpha) |

    How it trains, within one ordinary backward of the summed loss dict:

    * ``<task>.loss_<x>`` is ``w_t.detach() * L_t``: the network sees fixed
      weights and the weights get no gradient from the task losses.
    * ``<task>.loss_gradnorm`` is the task's term of ``L_grad``. The norm
      ``|| dL_t / dW ||`` is computed with ``torch.autograd.grad`` without a
      graph (detached) and the target is detached, so this term depends on
      ``w`` alone: its gradient reaches the weights and nothing else.
    * The weights are renormalised to sum to the number of tasks (and kept
      positive) at the start of the next forward, i.e. right after the
      optimiser's step; they train with the model's optimiser.

    Partial supervision: only tasks labelled in the batch (and with a
    positive loss) enter ``G``, ``r`` and ``L_grad``; with fewer than two of
    them there is nothing to balance and ``L_grad`` is an exact zero. A
    task's initial loss ``L_t(0)`` is recorded the first time it is
    labelled with a positive loss; it is a buffer, so resume restores it.

    The model passes ``shared_params`` (``MultiTaskModel.shared_params``).

    Args:
        tasks: the model's tasks (given by the model).
        alpha: the asymmetry hyper-parameter (1.5 in the paper for NYUv2).
        min_weight: lower bound of a weight after renormalisation.
    """

    needs_shared_params = True

    def __init__(self, tasks: Sequence[str], alpha: float = 1.5,
                 min_weight: float = 1e-3) -> None:
        super().__init__()
        if not alpha >= 0:
            raise ValueError(f'GradNorm: alpha must be >= 0, got {alpha}')
        self.tasks = tuple(tasks)
        self.alpha = float(alpha)
        self.min_weight = float(min_weight)
        self.weights = nn.Parameter(torch.ones(len(self.tasks)))
        # 0 = not recorded yet (a recorded initial loss is > 0)
        self.register_buffer('initial_losses', torch.zeros(len(self.tasks)))

    @torch.no_grad()
    def renormalise(self) -> None:
        """Positive weights summing to the number of tasks."""
        w = self.weights.clamp_(min=self.min_weight)
        w.mul_(len(self.tasks) / w.sum())

    def forward(self, task_losses: TaskLosses, labelled: Mapping[str, bool],
                shared_params: Sequence[torch.Tensor] = ()
                ) -> Dict[str, torch.Tensor]:
        """Losses with detached weights plus the per-task GradNorm terms."""
        if self.training:
            self.renormalise()
        index = {t: i for i, t in enumerate(self.tasks)}
        w = self.weights
        out = flatten_losses(task_losses,
                             {t: w[index[t]].detach() for t in task_losses})
        totals = {t: sum(v for v in losses.values())
                  for t, losses in task_losses.items()}
        active = [t for t in task_losses if labelled.get(t, False)
                  and totals[t].requires_grad
                  and float(totals[t].detach()) > 0]
        for t in active:
            if float(self.initial_losses[index[t]]) <= 0:
                self.initial_losses[index[t]] = totals[t].detach()
        zero = w.sum() * 0.0
        if len(active) < 2 or not torch.is_grad_enabled() or \
                not shared_params:
            for t in task_losses:
                out[f'{t}.loss_gradnorm'] = zero
            return out
        norms = []
        for t in active:
            grads = torch.autograd.grad(totals[t], list(shared_params),
                                        retain_graph=True, allow_unused=True)
            sq = sum((g.detach() ** 2).sum() for g in grads if g is not None)
            norms.append(torch.as_tensor(sq, dtype=w.dtype,
                                         device=w.device).sqrt())
        idx = torch.tensor([index[t] for t in active], device=w.device)
        g_weighted = w[idx] * torch.stack(norms)          # G_t
        ratios = torch.stack([totals[t].detach() for t in active]) / \
            self.initial_losses[idx]                      # L_t / L_t(0)
        inverse_rate = ratios / ratios.mean()             # r_t
        target = (g_weighted.mean() * inverse_rate ** self.alpha).detach()
        terms = (g_weighted - target).abs()
        for t in task_losses:
            out[f'{t}.loss_gradnorm'] = zero
        for k, t in enumerate(active):
            out[f'{t}.loss_gradnorm'] = terms[k]
        return out
