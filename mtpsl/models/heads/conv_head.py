"""A plain convolutional task head (HRNetV2-style when given several inputs)."""
from __future__ import annotations

from typing import Sequence, Union

import torch
import torch.nn as nn

from mtpsl.registry import MODELS

from .base_head import DenseTaskHead, as_index_list, conv_norm_act, resize


@MODELS.register_module()
class ConvTaskHead(DenseTaskHead):
    """``num_convs`` 3x3 conv-BN-ReLU on the selected feature(s), then 1x1.

    With several ``in_index`` the maps are upsampled to the size of the
    first one and concatenated (the HRNetV2 representation: all HRNet
    branches at 1/4).

    Args:
        in_channels: channels of the selected map(s) (an int or a list
            matching ``in_index``).
        channels: channels of the task feature.
        num_convs: number of 3x3 conv-BN-ReLU layers (>= 1).
        in_index: which backbone (or neck) output(s) to use.
        **kwargs: task, num_classes, loss, dropout, init_cfg.
    """

    def __init__(self, in_channels: Union[int, Sequence[int]],
                 channels: int = 256, num_convs: int = 1,
                 in_index: Union[int, Sequence[int]] = -1, **kwargs) -> None:
        super().__init__(channels=channels, **kwargs)
        self.in_index = as_index_list(in_index)
        widths = as_index_list(in_channels)
        if len(widths) != len(self.in_index):
            raise ValueError(f'ConvTaskHead({self.task!r}): {len(widths)} '
                             f'in_channels for in_index {self.in_index}')
        if num_convs < 1:
            raise ValueError(f'ConvTaskHead: num_convs must be >= 1, got '
                             f'{num_convs}')
        c_in = sum(widths)
        self.convs = nn.Sequential(*[
            conv_norm_act(c_in if i == 0 else channels, channels)
            for i in range(num_convs)])

    def decode(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Concatenate the selected maps at the first one's size; convs."""
        maps = [feats[i] for i in self.in_index]
        size = maps[0].shape[-2:]
        x = torch.cat([resize(m, size) for m in maps], dim=1)
        return self.convs(x)
