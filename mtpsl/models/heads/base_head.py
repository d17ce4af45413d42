"""Shared machinery of the decoder heads: losses, the classifier, blocks.

Every head follows the contract of :class:`SegNetTaskHead`: ``forward(feats)``
returns ``(task_feature, prediction)`` with the prediction activated by
:func:`activate`, and ``loss_by_pred(pred, target)`` returns named losses.
A head may predict below the input resolution: :class:`MultiTaskModel`
upsamples every prediction to the input size (see :func:`resize_pred`).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple, Union

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


def conv_norm_act(in_channels: int, out_channels: int, kernel_size: int = 3,
                  dilation: int = 1) -> nn.Sequential:
    """Conv (no bias, a BN follows), BatchNorm, ReLU."""
    padding = dilation * (kernel_size // 2)
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding,
                  dilation=dilation, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


def resize(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Bilinear resize to ``size`` (no-op when already there)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=tuple(size), mode='bilinear',
                         align_corners=False)


def resize_pred(task: str, pred: torch.Tensor, size: Sequence[int]
                ) -> torch.Tensor:
    """An activated prediction brought to ``size``; normals stay unit."""
    if tuple(pred.shape[-2:]) == tuple(size):
        return pred
    return activate(task, resize(pred, size))


def as_index_list(in_index: Union[int, Sequence[int]]) -> List[int]:
    """``in_index`` as a list of ints."""
    return [in_index] if isinstance(in_index, int) else list(in_index)


class DenseTaskHead(BaseModule):
    """Base of the decoder heads: ``decode(feats)`` gives the task feature.

    Args:
        task: the task this head predicts.
        channels: channels of the task feature fed to the 1x1 classifier.
        num_classes: classes of a label task (sem_seg, human_parts, edge,
            saliency: 2 for the binary ones).
        loss: one loss config or a list of them.
        dropout: dropout before the classifier (0 = none).
    """

    def __init__(self, task: str, channels: int,
                 num_classes: Optional[int] = None,
                 loss: Union[dict, Sequence[dict], None] = None,
                 dropout: float = 0.0, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.task = task
        self.channels = channels
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        self.cls = nn.Conv2d(channels, task_out_channels(task, num_classes),
                             1)
        losses = loss if isinstance(loss, (list, tuple)) else [loss]
        self.losses = nn.ModuleList(
            [MODELS.build(c) for c in losses if c is not None])
        if not len(self.losses):
            raise ValueError(f'{type(self).__name__} for {task!r} has no '
                             'loss configured')

    def init_weights(self) -> None:
        """Kaiming convs, unit BN, small classifier; or ``init_cfg``."""
        if self.init_cfg is not None:
            return super().init_weights()
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out',
                                        nonlinearity='relu')
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.cls.weight, std=0.01)
        if self.cls.bias is not None:
            nn.init.zeros_(self.cls.bias)

    def decode(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """The task feature from the shared features."""
        raise NotImplementedError

    def forward(self, feats: Sequence[torch.Tensor]
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Task feature and activated prediction (at the feature's size)."""
        feat = self.decode(feats)
        return feat, activate(self.task, self.cls(self.dropout(feat)))

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
