"""The U-Net decoder of XTasC-Net (one per task)."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

from mtpsl.registry import MODELS

from .base_head import DenseTaskHead, conv_norm_act, resize


def _block_conv(in_channels: int, out_channels: int,
                bias: bool) -> nn.Sequential:
    """3x3 conv-BN-ReLU, the conv with a bias if ``bias``."""
    block = conv_norm_act(in_channels, out_channels)
    if bias:
        block[0] = nn.Conv2d(in_channels, out_channels, 3, padding=1)
    return block


@MODELS.register_module()
class UNetDecoderHead(DenseTaskHead):
    """XTasC-Net's decoder: blocks of three 3x3 conv-BN-ReLU, 128 channels.

    Block 1 takes the deepest encoder map; block k > 1 takes the previous
    block's output, upsampled to the next shallower encoder map, concatenated
    with that map (U-Net skip). Blocks beyond the encoder maps take the
    upsampled previous output alone. The last block's output is upsampled by
    2 and fed to the 1x1 classifier (the paper's "1 convolutional layer").

    With :class:`ResNetWithStem` (maps at strides 2, 4, 8, 16, 32) the five
    blocks end at stride 1: the input resolution.

    Args:
        in_channels: channels of the encoder maps, shallowest first (e.g.
            ``(64, 64, 128, 256, 512)`` for ResNet-34 with its stem).
        channels: channels of every conv (128 in the paper).
        num_blocks: decoder blocks (5 in the paper).
        convs_per_block: 3x3 conv-BN-ReLU per block (3 in the paper).
        conv_bias: the block convs carry a bias before their BN (the XTasC
            release does: 1,920 parameters per head at 128 channels).
        cls_bias: the 1x1 classifier has a bias (the XTasC release: none).
        xavier_init: Xavier-normal convs (classifier too), zero biases, unit
            BN (the XTasC release) instead of the default Kaiming init.
        **kwargs: task, num_classes, loss, dropout, init_cfg.
    """

    def __init__(self, in_channels: Sequence[int] = (64, 64, 128, 256, 512),
                 channels: int = 128, num_blocks: int = 5,
                 convs_per_block: int = 3, conv_bias: bool = False,
                 cls_bias: bool = True, xavier_init: bool = False,
                 **kwargs) -> None:
        super().__init__(channels=channels, **kwargs)
        self.xavier_init = bool(xavier_init)
        if not cls_bias:
            self.cls = nn.Conv2d(channels, self.cls.out_channels, 1,
                                 bias=False)
        in_channels = list(in_channels)
        if not 1 <= len(in_channels) <= num_blocks:
            raise ValueError(f'UNetDecoderHead: {len(in_channels)} encoder '
                             f'maps for {num_blocks} blocks')
        self.num_skips = len(in_channels)
        deep_first = in_channels[::-1]
        blocks = []
        for k in range(num_blocks):
            if k == 0:
                c_in = deep_first[0]
            else:
                c_in = channels + (deep_first[k] if k < len(deep_first)
                                   else 0)
            blocks.append(nn.Sequential(*[
                _block_conv(c_in if j == 0 else channels, channels, conv_bias)
                for j in range(convs_per_block)]))
        self.blocks = nn.ModuleList(blocks)

    def init_weights(self) -> None:
        """Xavier-normal if ``xavier_init`` (and no ``init_cfg``), else the
        base head's init."""
        if not self.xavier_init or self.init_cfg is not None:
            return super().init_weights()
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_normal_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def decode(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Decode the last ``len(in_channels)`` maps of ``feats``."""
        enc = list(feats[-self.num_skips:])[::-1]  # deepest first
        x = self.blocks[0](enc[0])
        for k in range(1, len(self.blocks)):
            if k < len(enc):
                x = torch.cat([resize(x, enc[k].shape[-2:]), enc[k]], dim=1)
            else:
                x = resize(x, [2 * s for s in x.shape[-2:]])
            x = self.blocks[k](x)
        return resize(x, [2 * s for s in x.shape[-2:]])
