"""Shared machinery of the decoder heads: losses, the classifier, blocks.

Every head follows one contract (docs/architecture.md):
``decode(feats)`` gives the task feature, ``output(feat, input_size)`` the
:class:`~.task_output.TaskOutput` (raw logits at the head's resolution, the
prediction activated and brought to the input size, the feature's stride),
and ``forward(feats, input_size)`` is the two in a row. The head also owns
its losses (``loss_by_feat``) and its post-processing (``predict_by_feat``:
labels from logits, resizing to the original shape, binary probabilities);
the model holds no per-task logic of its own.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mtpsl.registry import MODELS
from mtpsl.structures import task_spec

from ..losses.task_losses import CrossEntropyLoss
from .bins import check_bins_task
from .task_output import TaskOutput, feature_stride

# Binary tasks whose metrics (max F, ODS F) threshold a probability: their
# heads also predict the softmax probability of class 1.
PROBABILITY_TASKS = ('edge', 'saliency')


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
        loss: one loss config or a list of them (on the prediction).
        dropout: dropout before the classifier (0 = none).
        bins: binned regression for depth or normals: config of fixed
            centres (``LogDepthBins``, ``NormalBins``). The classifier then
            gives one logit per centre, the prediction is the soft-weighted
            centre (HiTTs Eq. (10)), and ``loss_by_feat`` adds
            ``loss_bin_ce``, a cross-entropy towards each pixel's nearest
            centre. None (default): direct regression, and no ``bins.*``
            state-dict key.
        bin_loss_weight: weight of ``loss_bin_ce`` (HiTTs Eq. (13): 1, with
            the regression loss weighted 0.1).
    """

    def __init__(self, task: str, channels: int,
                 num_classes: Optional[int] = None,
                 loss: Union[dict, Sequence[dict], None] = None,
                 dropout: float = 0.0, bins: Optional[dict] = None,
                 bin_loss_weight: float = 1.0, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.task = task
        self.channels = channels
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        out_channels = task_out_channels(task, num_classes)
        # classes of a label task (None for depth / normals)
        self.num_classes = (out_channels if task_spec(task).kind == 'label'
                            else None)
        self.bins = None
        if bins is not None:
            if task_spec(task).kind == 'label':
                raise ValueError(f'{type(self).__name__}: bins are for depth '
                                 f'and normals, not the label task {task!r}')
            self.bins = MODELS.build(bins) if isinstance(bins, dict) else bins
            check_bins_task(type(self).__name__, task, self.bins)
            out_channels = self.bins.num_bins
            self.bin_ce = CrossEntropyLoss(ignore_index=-1,
                                           loss_weight=bin_loss_weight,
                                           loss_name='loss_bin_ce')
        self.cls = nn.Conv2d(channels, out_channels, 1)
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
        nn.init.zeros_(self.cls.bias)

    def decode(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """The task feature from the shared features."""
        raise NotImplementedError

    def forward(self, feats: Sequence[torch.Tensor],
                input_size: Optional[Sequence[int]] = None) -> TaskOutput:
        """Decode, classify and activate; the prediction is brought to
        ``input_size`` (default: the feature's size)."""
        feat = self.decode(feats)
        return self.output(feat, feat.shape[-2:] if input_size is None
                           else input_size)

    def classify(self, feat: torch.Tensor) -> torch.Tensor:
        """Raw logits of a task feature (dropout, 1x1 classifier)."""
        return self.cls(self.dropout(feat))

    def activate_logits(self, logits: torch.Tensor) -> torch.Tensor:
        """The activated prediction at the logits' resolution (the
        soft-weighted centre for a binned head)."""
        if self.bins is not None:
            return activate(self.task, self.bins.expect(logits))
        return activate(self.task, logits)

    def output(self, feat: torch.Tensor, input_size: Sequence[int],
               extras: Optional[Dict[str, torch.Tensor]] = None
               ) -> TaskOutput:
        """The :class:`TaskOutput` of a (possibly jointly refined) feature.

        ``extras`` come from a joint decoding stage; an entry ``'logits'``
        there replaces this head's classifier (a stage that refines the
        logits itself), the others are passed on.
        """
        extras = dict(extras or {})
        logits = extras.pop('logits', None)
        if logits is None:
            logits = self.classify(feat)
        pred = resize_pred(self.task, self.activate_logits(logits),
                           input_size)
        if self.bins is not None:
            extras.setdefault('bin_centres', self.bins.centres)
        return TaskOutput(feat=feat, logits=logits, pred=pred,
                          stride=feature_stride(input_size, feat),
                          extras=extras)

    def loss_by_feat(self, output: TaskOutput, target: torch.Tensor
                     ) -> Dict[str, torch.Tensor]:
        """Named losses of this task on the labelled pixels of the batch
        (each configured loss compares ``output.pred`` with ``target``; a
        binned head adds ``loss_bin_ce`` on its logits)."""
        losses = self.loss_by_pred(output.pred, target)
        if self.bins is not None:
            if 'loss_bin_ce' in losses:
                raise ValueError(f'a loss of {self.task!r} is named '
                                 "'loss_bin_ce', the binned head's own")
            logits = resize(output.logits, target.shape[-2:])
            losses['loss_bin_ce'] = self.bin_ce(logits,
                                                self.bins.assign(target))
        return losses

    def loss_by_pred(self, pred: torch.Tensor,
                     target: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Named losses of an activated prediction at the target's size."""
        out: Dict[str, torch.Tensor] = {}
        for loss in self.losses:
            if loss.loss_name in out:
                raise ValueError(f'two losses of {self.task!r} are named '
                                 f'{loss.loss_name!r}')
            out[loss.loss_name] = loss(pred, target)
        return out

    def predict_by_feat(self, output: TaskOutput,
                        batch_img_metas: Sequence[dict]
                        ) -> List[Dict[str, torch.Tensor]]:
        """Per image: ``{'pred': C x H x W}`` at its ``ori_shape``, cropped
        from the padding (``img_shape``); labels for label tasks, and
        ``'prob'`` (1 x H x W) for binary tasks with two classes."""
        pred = output.pred
        results = []
        for i, meta in enumerate(batch_img_metas):
            h, w = meta.get('img_shape', pred.shape[-2:])
            ori = tuple(meta.get('ori_shape', (h, w)))
            one = pred[i:i + 1, :, :h, :w]
            res = dict(pred=self.postprocess(one, ori))
            if self.task in PROBABILITY_TASKS and one.shape[1] == 2:
                # max F / ODS F threshold the probability, not the argmax
                res['prob'] = class1_probability(one, ori)
            results.append(res)
        return results

    def postprocess(self, pred: torch.Tensor, size: Sequence[int]
                    ) -> torch.Tensor:
        """1 x C x h x w prediction -> C x H x W at ``size``: bilinear
        resize (normals renormalised), then labels for label tasks."""
        if tuple(pred.shape[-2:]) != tuple(size):
            pred = F.interpolate(pred, size=tuple(size), mode='bilinear',
                                 align_corners=False)
            if self.task == 'normal':
                pred = F.normalize(pred, dim=1)
        pred = pred[0]
        if task_spec(self.task).kind == 'label':
            return pred.argmax(dim=0, keepdim=True)
        return pred


def class1_probability(logits: torch.Tensor, size: Sequence[int]
                       ) -> torch.Tensor:
    """1 x H x W softmax probability of class 1 of 1 x 2 x h x w logits,
    resized (as logits) to ``size``."""
    if tuple(logits.shape[-2:]) != tuple(size):
        logits = F.interpolate(logits, size=tuple(size), mode='bilinear',
                               align_corners=False)
    return logits[0].softmax(dim=0)[1:2]
