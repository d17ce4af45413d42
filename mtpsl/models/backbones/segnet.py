"""SegNet encoder-decoder as used by the MTPSL line (after MTAN, Liu et al.).

A faithful port: five encoder stages with max-pooling that keeps indices,
five decoder stages that unpool with them. With the default widths the 3-task
model (this backbone + three :class:`SegNetTaskHead` + the 3 log-variances of
the uncertainty balancer, which the public release also carries) has exactly
25,055,188 parameters.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mtpsl.registry import MODELS


def conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 convolution, batch norm, ReLU: SegNet's unit layer."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1),
        nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


def init_segnet_weights(module: nn.Module) -> None:
    """Xavier-normal convs with zero bias, unit BN: the release's init."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.xavier_normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


@MODELS.register_module()
class SegNet(BaseModule):
    """SegNet backbone returning ``(bottleneck, decoder_output)``.

    Args:
        in_channels: image channels.
        widths: channels of the five stages; (64, 128, 256, 512, 512) is the
            published model, narrower widths make CPU demos fast.
    """

    def __init__(self, in_channels: int = 3,
                 widths: Sequence[int] = (64, 128, 256, 512, 512),
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(widths) != 5 or min(widths) < 1:
            raise ValueError(f'SegNet needs 5 positive widths, got {widths}')
        f = list(widths)
        self.widths = tuple(f)
        self.out_channels = f[0]
        # Stage i: one conv that changes width, then 1 (i < 2) or 2 more.
        enc: List[nn.Module] = []
        dec: List[nn.Module] = []
        for i in range(5):
            c_in = in_channels if i == 0 else f[i - 1]
            extra = 1 if i < 2 else 2
            enc.append(nn.Sequential(
                conv_bn_relu(c_in, f[i]),
                *[conv_bn_relu(f[i], f[i]) for _ in range(extra)]))
            # Decoder stage i maps width f[i] back to f[i-1] (f[0] at the top).
            c_out = f[0] if i == 0 else f[i - 1]
            dec.append(nn.Sequential(
                conv_bn_relu(f[i], c_out),
                *[conv_bn_relu(c_out, c_out) for _ in range(extra)]))
        self.encoder = nn.ModuleList(enc)
        self.decoder = nn.ModuleList(dec)
        self.pool = nn.MaxPool2d(2, stride=2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2, stride=2)

    def init_weights(self) -> None:
        """Release init unless an ``init_cfg`` (e.g. pretrained) is given."""
        if self.init_cfg is not None:
            super().init_weights()
        else:
            init_segnet_weights(self)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Encode with pooling indices, decode with unpooling."""
        indices, sizes = [], []
        for stage in self.encoder:
            x = stage(x)
            sizes.append(x.shape[-2:])
            x, idx = self.pool(x)
            indices.append(idx)
        bottleneck = x
        for i in reversed(range(5)):
            x = self.unpool(x, indices[i], output_size=sizes[i])
            x = self.decoder[i](x)
        return bottleneck, x
