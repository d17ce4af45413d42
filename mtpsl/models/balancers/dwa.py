"""Dynamic Weight Average (Liu, Johns, Davison, CVPR 2019, MTAN)."""
from __future__ import annotations

from typing import Dict, Mapping, Sequence

import torch
import torch.nn as nn
from mmengine import dist

from mtpsl.registry import MODELS

from .base import TaskLosses, flatten_losses


def dwa_weights(prev: torch.Tensor, prev2: torch.Tensor,
                temperature: float) -> torch.Tensor:
    """``K softmax(r / T)`` with ``r = prev / prev2``; r = 1 where undefined.

    A task whose average loss is unknown (NaN: not labelled in a window)
    or whose older average is not positive gets the neutral ratio 1, so the
    weights are always finite, positive and sum to K.
    """
    ok = torch.isfinite(prev) & torch.isfinite(prev2) & (prev2 > 0)
    ratio = torch.where(ok, prev / torch.where(ok, prev2, torch.ones_like(
        prev2)), torch.ones_like(prev))
    return len(prev) * torch.softmax(ratio / temperature, dim=0)


@MODELS.register_module()
class DynamicWeightAverage(nn.Module):
    """Eq. (7) of MTAN: ``w_k(t) = K exp(r_k(t-1)/T) / sum_i exp(r_i(t-1)/T)``,
    ``r_k(t-1) = L_k(t-1) / L_k(t-2)``.

    The paper's ``L_k(t)`` is the loss averaged over epoch t. Training here
    counts iterations, so an "epoch" is a window of ``window`` iterations
    (set it to the iterations per epoch to match the paper); the weights are
    1 during the first two windows. A window's average of a task is taken
    over the iterations where the task was labelled (partial supervision);
    a task never labelled in a window has an unknown average (NaN) and gets
    the neutral ratio 1 until two known averages follow each other, as does
    a task whose older average is 0.

    The history lives in buffers (saved in checkpoints, so resume restores
    it). Each iteration's losses and label counts are summed over the
    processes before they join the window (one small all-reduce), so every
    rank holds the same history. One training forward = one iteration
    (gradient accumulation makes windows shorter in updates).

    Args:
        tasks: the model's tasks (given by the model).
        temperature: T (2 in the paper).
        window: iterations per averaging window.
    """

    def __init__(self, tasks: Sequence[str], temperature: float = 2.0,
                 window: int = 100) -> None:
        super().__init__()
        if not temperature > 0:
            raise ValueError(f'DynamicWeightAverage: temperature must be > 0,'
                             f' got {temperature}')
        if window < 1:
            raise ValueError(f'DynamicWeightAverage: window must be >= 1, '
                             f'got {window}')
        self.tasks = tuple(tasks)
        self.temperature = float(temperature)
        self.window = int(window)
        k = len(self.tasks)
        nan = torch.full((k,), float('nan'))
        # averages of the last two closed windows: [t-1, t-2]
        self.register_buffer('history', torch.stack([nan, nan]))
        self.register_buffer('window_sum', torch.zeros(k, dtype=torch.float64))
        self.register_buffer('window_count', torch.zeros(k,
                                                         dtype=torch.float64))
        self.register_buffer('window_iter', torch.zeros((), dtype=torch.long))

    def current_weights(self) -> torch.Tensor:
        """The weights of this iteration, in the order of ``tasks``."""
        return dwa_weights(self.history[0], self.history[1],
                           self.temperature)

    @torch.no_grad()
    def _record(self, task_losses: TaskLosses,
                labelled: Mapping[str, bool]) -> None:
        k = len(self.tasks)
        # this iteration's loss sums and labelled counts, summed over the
        # processes so every rank keeps the same history
        step = torch.zeros(2 * k, dtype=torch.float64,
                           device=self.window_sum.device)
        for i, t in enumerate(self.tasks):
            if t in task_losses and labelled.get(t, False):
                step[i] = float(sum(v.detach() for v in
                                    task_losses[t].values()))
                step[k + i] = 1.0
        if dist.get_world_size() > 1:
            dist.all_reduce(step, op='sum')
        self.window_sum += step[:k]
        self.window_count += step[k:]
        self.window_iter += 1
        if int(self.window_iter) < self.window:
            return
        counts = self.window_count
        mean = torch.where(counts > 0,
                           self.window_sum / counts.clamp(min=1),
                           torch.full_like(counts, float('nan')))
        self.history[1] = self.history[0]
        self.history[0] = mean.to(self.history.dtype)
        self.window_sum.zero_()
        self.window_count.zero_()
        self.window_iter.zero_()

    def forward(self, task_losses: TaskLosses,
                labelled: Mapping[str, bool]) -> Dict[str, torch.Tensor]:
        """Weighted losses; in training, the losses join the history."""
        weights = self.current_weights()
        index = {t: i for i, t in enumerate(self.tasks)}
        out = flatten_losses(task_losses,
                             {t: weights[index[t]] for t in task_losses})
        if self.training:
            self._record(task_losses, labelled)
        return out
