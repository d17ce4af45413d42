"""XTasC-Net's Task-Transfer Network: a small U-Net from one task to another.

Nakano, Chen, Demachi, "Cross-Task Consistency Learning Framework for
Multi-Task Learning" (Sec. IV-A; the layout of the official release):
three contracting blocks of two 3x3 conv + ReLU, each followed by a 2x2
max-pool (64 / 128 / 256 channels); three expansive blocks, each
upsampling by 2 FIRST and then two 3x3 conv + ReLU (128 / 64 / 64), the
second and third concatenating the output of contracting blocks 2 and 1
(U-Net skips); a 1x1 head without bias or activation. No normalisation.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


def _two_convs(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two 3x3 conv (with bias) + ReLU, no normalisation."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1),
        nn.ReLU(inplace=True))


class TaskTransferNet(nn.Module):
    """Maps a B x in_channels x H x W prediction to B x out_channels x H x W.

    Args:
        in_channels: channels of the source prediction.
        out_channels: channels of the transferred prediction.
        down_channels: widths of the three contracting blocks.
        up_channels: widths of the three expansive blocks.
        xavier: Xavier-normal weights and zero biases (the release).
    """

    def __init__(self, in_channels: int, out_channels: int,
                 down_channels: Sequence[int] = (64, 128, 256),
                 up_channels: Sequence[int] = (128, 64, 64),
                 xavier: bool = True) -> None:
        super().__init__()
        down, up = list(down_channels), list(up_channels)
        if len(down) != 3 or len(up) != 3:
            raise ValueError(f'TaskTransferNet: 3 down and 3 up widths, got '
                             f'down_channels={down}, up_channels={up}')
        self.down = nn.ModuleList([
            _two_convs(in_channels, down[0]), _two_convs(down[0], down[1]),
            _two_convs(down[1], down[2])])
        # up block k upsamples, then (k > 0) concatenates down block 3 - k
        self.up = nn.ModuleList([
            _two_convs(down[2], up[0]),
            _two_convs(up[0] + down[1], up[1]),
            _two_convs(up[1] + down[0], up[2])])
        self.head = nn.Conv2d(up[2], out_channels, 1, bias=False)
        if xavier:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.xavier_normal_(m.weight)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The transferred prediction at the input's size."""
        size = x.shape[-2:]
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        # upsample to the skip's size (x2 when H, W are multiples of 8)
        targets = [skips[2].shape[-2:], skips[1].shape[-2:], size]
        for k, block in enumerate(self.up):
            x = F.interpolate(x, size=tuple(targets[k]), mode='bilinear',
                              align_corners=False)
            if k > 0:
                x = torch.cat([x, skips[2 - k]], dim=1)
            x = block(x)
        return self.head(x)
