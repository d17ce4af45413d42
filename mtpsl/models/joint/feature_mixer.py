"""The simplest joint stage: each task reads every task's feature."""
from __future__ import annotations

from typing import Dict, Sequence, Tuple, Union

import torch
import torch.nn as nn

from mtpsl.registry import MODELS

from ..heads.base_head import resize
from .base import BaseJointStage, Extras, Features


@MODELS.register_module()
class TaskFeatureMixer(BaseJointStage):
    """``F'_t = F_t + W_t [F_1; ...; F_T]`` with ``W_t`` a 1x1 conv.

    Every task feature is brought to task ``t``'s resolution (bilinear) and
    concatenated in the model's task order. ``W_t`` starts at zero, so an
    untrained mixer is the identity: a model with it predicts what the model
    without it predicts. A small, complete example of the joint-stage
    interface (HiTTs' token stage is the first real user).

    Args:
        tasks: the model's tasks (the model passes them).
        channels: channels of each task's decoder feature (one int for
            all, or ``{task: channels}``).
        return_mix: also return each task's mixed term as extra ``'mix'``.
    """

    def __init__(self, tasks: Sequence[str],
                 channels: Union[int, Dict[str, int]],
                 return_mix: bool = False, init_cfg=None) -> None:
        super().__init__(tasks, init_cfg=init_cfg)
        widths = ({t: int(channels) for t in self.tasks}
                  if isinstance(channels, int) else dict(channels))
        missing = [t for t in self.tasks if t not in widths]
        if missing:
            raise ValueError(f'TaskFeatureMixer: channels has no entry for '
                             f'{missing}')
        self.widths = widths
        total = sum(widths[t] for t in self.tasks)
        self.mix = nn.ModuleDict({
            t: nn.Conv2d(total, widths[t], 1, bias=False)
            for t in self.tasks})
        for conv in self.mix.values():
            nn.init.zeros_(conv.weight)
        self.return_mix = bool(return_mix)

    def init_weights(self) -> None:
        """Zero mixing weights: the identity at the start."""
        super().init_weights()
        for conv in self.mix.values():
            nn.init.zeros_(conv.weight)

    def joint(self, task_feats: Features,
              shared_feats: Tuple[torch.Tensor, ...],
              input_size: Sequence[int]) -> Tuple[Features, Extras]:
        """Each task's feature plus its mix of all task features."""
        out, extras = {}, {}
        for task in self.tasks:
            size = task_feats[task].shape[-2:]
            stacked = torch.cat([resize(task_feats[s], size)
                                 for s in self.tasks], dim=1)
            mixed = self.mix[task](stacked)
            out[task] = task_feats[task] + mixed
            if self.return_mix:
                extras[task] = dict(mix=mixed)
        return out, extras
