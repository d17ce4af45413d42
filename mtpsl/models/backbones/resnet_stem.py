"""MMSegmentation's ResNet that also returns its stem (stride-2) map.

A U-Net decoder (XTasC-Net) concatenates the encoder map of every
resolution, the stride-2 stem included, which ``mmseg.ResNet`` does not
return. The class is made on first use, so that importing mtpsl does not
import mmseg's model zoo.
"""
from __future__ import annotations

import functools

from mtpsl.registry import MODELS


@functools.lru_cache(maxsize=None)
def resnet_with_stem_class() -> type:
    """The ``mmseg.ResNet`` subclass (built once)."""
    from mmseg.models.backbones import ResNet

    class _ResNetWithStem(ResNet):
        def forward(self, x):
            """Stem map, then the selected stage maps (strides 2..32)."""
            if self.deep_stem:
                x = self.stem(x)
            else:
                x = self.relu(self.norm1(self.conv1(x)))
            outs = [x]
            x = self.maxpool(x)
            for i, layer_name in enumerate(self.res_layers):
                x = getattr(self, layer_name)(x)
                if i in self.out_indices:
                    outs.append(x)
            return tuple(outs)

    _ResNetWithStem.__name__ = _ResNetWithStem.__qualname__ = \
        'ResNetWithStem'
    return _ResNetWithStem


@MODELS.register_module(name='ResNetWithStem')
def build_resnet_with_stem(**kwargs):
    """``mmseg.ResNet`` returning ``(stem, *stages[out_indices])``.

    All arguments are those of ``mmseg.models.backbones.ResNet`` (``depth``,
    ``deep_stem`` / ``avg_down`` for the V1c / V1d variants, ``init_cfg``
    for pretrained weights, ...). The stem map is taken after the stem's
    ReLU, before max-pooling: stride 2, ``stem_channels`` channels.
    """
    return resnet_with_stem_class()(**kwargs)
