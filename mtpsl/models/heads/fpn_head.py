"""Semantic FPN task decoder (Kirillov et al., CVPR 2019), CCR's baseline."""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn as nn

from mtpsl.registry import MODELS

from .base_head import DenseTaskHead, conv_norm_act, resize


@MODELS.register_module()
class SemanticFPNTaskHead(DenseTaskHead):
    """Per pyramid level: conv-BN-ReLU and 2x upsampling down to the finest
    level (``max(1, log2(stride / finest stride))`` convs); the levels are
    summed into the task feature.

    Used on an FPN neck over HRNet-18 (CCR's 'MT Baseline': a shared FPN
    encoder and one SemanticFPN decoder per task).

    Args:
        in_channels: channels of every selected level (an FPN's
            ``out_channels``).
        channels: channels of the level branches and the task feature.
        feature_strides: stride of each selected level, finest first.
        in_index: the levels to use, finest first.
        **kwargs: task, num_classes, loss, dropout, init_cfg.
    """

    def __init__(self, in_channels: int = 256, channels: int = 128,
                 feature_strides: Sequence[int] = (4, 8, 16, 32),
                 in_index: Sequence[int] = (0, 1, 2, 3), **kwargs) -> None:
        super().__init__(channels=channels, **kwargs)
        if len(feature_strides) != len(in_index) or sorted(
                feature_strides) != list(feature_strides):
            raise ValueError(
                f'SemanticFPNTaskHead: feature_strides {feature_strides} must '
                f'be increasing, one per in_index {tuple(in_index)}')
        self.in_index = list(in_index)
        self.levels = nn.ModuleList()
        for stride in feature_strides:
            n = max(1, int(math.log2(stride / feature_strides[0])))
            self.levels.append(nn.ModuleList([
                conv_norm_act(in_channels if k == 0 else channels, channels)
                for k in range(n)]))
        self.feature_strides = tuple(feature_strides)

    def decode(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Sum of the levels brought to the finest level's size."""
        maps = [feats[i] for i in self.in_index]
        size = maps[0].shape[-2:]
        out = 0
        for x, stride, convs in zip(maps, self.feature_strides, self.levels):
            for conv in convs:
                x = conv(x)
                if stride > self.feature_strides[0]:
                    x = resize(x, [2 * s for s in x.shape[-2:]])
            # odd input sizes: the doubled maps may overshoot by a pixel
            out = out + resize(x, size)
        return out
