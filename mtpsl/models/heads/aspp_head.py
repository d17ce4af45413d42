"""An ASPP task head (DeepLabv3, Chen et al. 2017), as HiTTs uses on PASCAL."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

from mtpsl.registry import MODELS

from .base_head import DenseTaskHead, conv_norm_act, resize


class ImagePool(nn.Module):
    """Global average pool, 1x1 conv(-BN)-ReLU, broadcast back."""

    def __init__(self, in_channels: int, channels: int, norm: bool) -> None:
        super().__init__()
        self.norm = norm
        self.conv = nn.Conv2d(in_channels, channels, 1, bias=not norm)
        self.bn = nn.BatchNorm2d(channels) if norm else nn.Identity()
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Image-level feature at the size of ``x``."""
        if self.norm and self.training and x.shape[0] == 1:
            # BatchNorm over one 1x1 value per channel has no variance.
            raise ValueError(
                'ASPPTaskHead: the image-pooling BatchNorm needs more than '
                'one image per process in training (got a batch of 1); use '
                'a batch of >= 2 per process or image_pool_norm=False')
        y = x.mean(dim=(2, 3), keepdim=True)
        y = self.act(self.bn(self.conv(y)))
        return y.expand(-1, -1, x.shape[2], x.shape[3])


@MODELS.register_module()
class ASPPTaskHead(DenseTaskHead):
    """Atrous spatial pyramid pooling, then a 3x3 conv-BN-ReLU and 1x1.

    Branches: image pooling, a 1x1 conv and one 3x3 conv per dilation
    greater than 1, concatenated and fused by a 3x3 conv-BN-ReLU (the task
    feature).

    Args:
        in_channels: channels of ``feats[in_index]``.
        channels: channels of every branch and of the task feature.
        dilations: 1 gives the 1x1 branch; (1, 12, 24, 36) suits an output
            stride of 8, (1, 6, 12, 18) one of 16.
        in_index: which backbone output to use.
        image_pool_norm: BatchNorm in the image-pooling branch (DeepLabv3).
            It cannot train on a batch of one image per process: the head
            then raises a clear error; set False for such runs.
        **kwargs: task, num_classes, loss, dropout, init_cfg.
    """

    def __init__(self, in_channels: int, channels: int = 256,
                 dilations: Sequence[int] = (1, 12, 24, 36),
                 in_index: int = -1, image_pool_norm: bool = True,
                 **kwargs) -> None:
        super().__init__(channels=channels, **kwargs)
        if not dilations or min(dilations) < 1:
            raise ValueError(f'ASPPTaskHead: dilations must be >= 1, got '
                             f'{dilations}')
        self.in_index = in_index
        self.image_pool = ImagePool(in_channels, channels, image_pool_norm)
        self.branches = nn.ModuleList([
            conv_norm_act(in_channels, channels, 1 if d == 1 else 3, d)
            for d in dilations])
        self.fuse = conv_norm_act(channels * (len(dilations) + 1), channels)

    def decode(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Pyramid of dilated convs plus the image feature, fused."""
        x = feats[self.in_index]
        outs = [self.image_pool(x)] + [b(x) for b in self.branches]
        return self.fuse(torch.cat([resize(o, x.shape[-2:]) for o in outs],
                                   dim=1))
