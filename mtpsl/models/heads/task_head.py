"""The MTPSL SegNet task head."""
from __future__ import annotations

from typing import Optional, Sequence, Union

import torch
import torch.nn as nn

from mtpsl.registry import MODELS
from .base_head import DenseTaskHead, activate, task_out_channels

__all__ = ['SegNetTaskHead', 'activate', 'task_out_channels']


@MODELS.register_module()
class SegNetTaskHead(DenseTaskHead):
    """The MTPSL SegNet head: 3x3 conv then 1x1 conv, no norm in between.

    Its :class:`TaskOutput` feature (the 3x3 conv's output) is what
    cross-task methods regularise.
    """

    def __init__(self, task: str, in_channels: int = 64,
                 channels: Optional[int] = None,
                 num_classes: Optional[int] = None,
                 loss: Union[dict, Sequence[dict], None] = None,
                 in_index: int = -1, bins: Optional[dict] = None,
                 bin_loss_weight: float = 1.0, init_cfg=None) -> None:
        channels = channels or in_channels
        super().__init__(task, channels, num_classes=num_classes, loss=loss,
                         bins=bins, bin_loss_weight=bin_loss_weight,
                         init_cfg=init_cfg)
        self.in_index = in_index
        self.conv = nn.Conv2d(in_channels, channels, 3, padding=1)

    def init_weights(self) -> None:
        """Xavier-normal convs with zero bias, as the release."""
        if self.init_cfg is not None:
            return super().init_weights()
        for m in (self.conv, self.cls):
            nn.init.xavier_normal_(m.weight)
            nn.init.zeros_(m.bias)

    def decode(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """The 3x3 conv of the selected shared feature."""
        return self.conv(feats[self.in_index])
