"""Per-task prediction heads."""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mtpsl.registry import MODELS
from mtpsl.structures import task_spec


def task_out_channels(task: str, num_classes: Optional[int]) -> int:
    """Output channels of a head for ``task``."""
    spec = task_spec(task)
    if spec.kind == 'label':
        if not num_classes or num_classes < 2:
            raise ValueError(f'head for {task!r} needs num_classes >= 2, got '
                             f'{num_classes}')
        return num_classes
    return spec.channels


def activate(task: str, raw: torch.Tensor) -> torch.Tensor:
    """Map raw head output to the task's prediction space.

    Normals are L2-normalised (the MTPSL line); labels stay logits; depth
    stays linear.
    """
    if task == 'normal':
        return F.normalize(raw, p=2, dim=1)
    return raw


@MODELS.register_module()
class SegNetTaskHead(BaseModule):
    """The MTPSL SegNet head: 3x3 conv then 1x1 conv, no norm in between.

    ``forward`` returns ``(task_feature, prediction)``; the task feature (the
    3x3 conv's output) is what cross-task methods regularise.
    """

    def __init__(self, task: str, in_channels: int = 64,
                 channels: Optional[int] = None,
                 num_classes: Optional[int] = None,
                 loss: Union[dict, Sequence[dict], None] = None,
                 in_index: int = -1, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.task = task
        self.in_index = in_index
        channels = channels or in_channels
        self.conv = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.cls = nn.Conv2d(channels, task_out_channels(task, num_classes), 1)
        losses = loss if isinstance(loss, (list, tuple)) else [loss]
        self.losses = nn.ModuleList(
            [MODELS.build(c) for c in losses if c is not None])
        if not len(self.losses):
            raise ValueError(f'head for {task!r} has no loss configured')

    def init_weights(self) -> None:
        """Xavier-normal convs with zero bias, as the release."""
        if self.init_cfg is not None:
            return super().init_weights()
        for m in (self.conv, self.cls):
            nn.init.xavier_normal_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, feats: Sequence[torch.Tensor]
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Task feature and activated prediction."""
        feat = self.conv(feats[self.in_index])
        return feat, activate(self.task, self.cls(feat))

    def loss_by_pred(self, pred: torch.Tensor,
                     target: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Named losses of this task on the labelled pixels of the batch."""
        out: Dict[str, torch.Tensor] = {}
        for loss in self.losses:
            if loss.loss_name in out:
                raise ValueError(f'two losses of {self.task!r} are named '
                                 f'{loss.loss_name!r}')
            out[loss.loss_name] = loss(pred, target)
        return out
