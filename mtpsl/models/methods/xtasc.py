"""XTasC-Net: cross-task consistency through Task-Transfer Networks.

Nakano, Chen, Demachi, "Cross-Task Consistency Learning Framework for
Multi-Task Learning", for two tasks: semantic segmentation (task 1) and
depth (task 2). Two Task-Transfer Networks map each direct prediction to
the other task: ``T_sd`` takes the log-softmax of the seg logits and
predicts depth, ``T_ds`` takes the depth prediction and predicts seg
logits (neither input is detached, as the release). The transferred
prediction is compared with the OTHER head's direct prediction, detached
(Eq. (13), (15)): no gradient reaches a head through its role as target.

Grouping (the release): each transfer term joins the group of the task
whose prediction FEEDS its TTNet, before the balancer (Eq. (11), (16))::

    L_seg   = (1 - lambda) CE(seg, y_seg)  + lambda * l(T_sd(seg), depth^)
    L_depth = (1 - lambda) L1(depth, y_d)  + lambda * l(T_ds(depth), seg^)

``(1 - lambda)`` is the heads' ``loss_weight`` in the configs; ``lambda``
is this method's ``loss_weight``. Partial labels are our extension (the
paper is fully supervised): the direct losses average over the labelled
pixels only, so an image unlabelled for task t contributes nothing to
``(1 - lambda) l_t`` and only ``lambda`` times its consistency terms, which
need no GT and apply to every image.

``mode='align'`` is the paper's Align-Net (Eq. (8)): the transferred
prediction against the GT instead of the direct prediction, on the images
labelled for the target task.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F

from mtpsl.registry import MODELS

from .base import BaseCrossTaskMethod, MethodBundle
from .toolkit import image_region_mask
from .ttnet import TaskTransferNet

MODES = ('consistency', 'align')
SEG_TARGETS = ('hard', 'soft')
UNLABELLED_DEPTH_MASKS = ('positive', 'all')


def per_image_masked_l1(pred: torch.Tensor, target: torch.Tensor,
                        mask: torch.Tensor) -> Optional[torch.Tensor]:
    """Mean |pred - target| over each image's masked pixels, then the mean
    over the images with one or more; None when no pixel is masked.

    ``pred``, ``target`` B x 1 x H x W; ``mask`` B x 1 x H x W bool.
    """
    mask = mask.to(pred.dtype)
    count = mask.flatten(1).sum(1)
    keep = count > 0
    if not bool(keep.any()):
        return None
    per_image = ((pred - target).abs() * mask).flatten(1).sum(1)
    return (per_image[keep] / count[keep]).mean()


def soft_cross_entropy(logits: torch.Tensor, probs: torch.Tensor,
                       region: torch.Tensor) -> torch.Tensor:
    """Eq. (13): ``-sum_c p_c log softmax(logits)_c``, mean over the
    pixels of ``region`` (B x 1 x H x W bool)."""
    per_pixel = -(probs * F.log_softmax(logits, dim=1)).sum(1, keepdim=True)
    return per_pixel[region].mean()


@MODELS.register_module()
class XTasC(BaseCrossTaskMethod):
    """XTasC-Net's two TTNets and their consistency (or alignment) terms.

    Args:
        tasks: the model's tasks (the model passes them); must hold
            ``seg_task`` and ``depth_task``.
        num_classes: classes of the seg task.
        seg_task, depth_task: the two tasks of the pair.
        loss_weight: ``lambda`` (0.01 Cityscapes, 1e-4 NYUv2 in the paper).
        mode: ``'consistency'`` (XTasC-Net) or ``'align'`` (Align-Net).
        seg_target: ``'hard'`` (the release: argmax of the detached seg
            prediction, CE with ``label_smoothing``) or ``'soft'`` (Eq.
            (13): its softmax).
        label_smoothing: of the hard target's CE (0 in the release's main
            runs, 0.1 in its ablation).
        unlabelled_depth_mask: pixels of the depth consistency on an image
            without depth GT (labelled images use the GT validity mask):
            ``'positive'`` where the detached depth prediction is > 0,
            ``'all'`` every pixel. Our extension (the paper is fully
            supervised).
        down_channels, up_channels: the TTNets' widths.
    """
    default_name = 'xtasc'

    def __init__(self, tasks: Sequence[str], num_classes: int,
                 seg_task: str = 'sem_seg', depth_task: str = 'depth',
                 loss_weight: float = 0.01, mode: str = 'consistency',
                 seg_target: str = 'hard', label_smoothing: float = 0.0,
                 unlabelled_depth_mask: str = 'positive',
                 down_channels: Sequence[int] = (64, 128, 256),
                 up_channels: Sequence[int] = (128, 64, 64),
                 name: Optional[str] = None, init_cfg=None) -> None:
        super().__init__(name=name, loss_weight=loss_weight,
                         init_cfg=init_cfg)
        self.tasks = tuple(tasks)
        for key, task in (('seg_task', seg_task), ('depth_task', depth_task)):
            if task not in self.tasks:
                raise ValueError(f'XTasC: {key}={task!r} is not a task of '
                                 f'the model {list(self.tasks)}')
        for key, value, allowed in (
                ('mode', mode, MODES), ('seg_target', seg_target, SEG_TARGETS),
                ('unlabelled_depth_mask', unlabelled_depth_mask,
                 UNLABELLED_DEPTH_MASKS)):
            if value not in allowed:
                raise ValueError(f'XTasC: {key}={value!r} must be one of '
                                 f'{allowed}')
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f'XTasC: num_classes must be an int >= 2, got '
                             f'{num_classes!r}')
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f'XTasC: label_smoothing must be in [0, 1), got '
                             f'{label_smoothing}')
        self.seg_task, self.depth_task = seg_task, depth_task
        self.num_classes = num_classes
        self.mode = mode
        self.seg_target = seg_target
        self.label_smoothing = float(label_smoothing)
        self.unlabelled_depth_mask = unlabelled_depth_mask
        self.seg_to_depth = TaskTransferNet(num_classes, 1, down_channels,
                                            up_channels)
        self.depth_to_seg = TaskTransferNet(1, num_classes, down_channels,
                                            up_channels)

    def init_weights(self) -> None:
        """The TTNets keep their own Xavier-normal init (or ``init_cfg``)."""
        if self.init_cfg is not None:
            super().init_weights()

    def transfer(self, seg_logits: torch.Tensor, depth: torch.Tensor):
        """``(T_sd(log_softmax(seg)), T_ds(depth))``; inputs not detached."""
        return (self.seg_to_depth(F.log_softmax(seg_logits, dim=1)),
                self.depth_to_seg(depth))

    def depth_term(self, transferred: torch.Tensor, depth_pred: torch.Tensor,
                   depth_gt: torch.Tensor, labelled: torch.Tensor,
                   region: Optional[torch.Tensor] = None
                   ) -> Optional[torch.Tensor]:
        """Eq. (15) (or Eq. (8) in align mode): per-image masked L1.

        ``region``: the images' pixels without batch padding (default
        all); it bounds the unlabelled images' mask."""
        gt_valid = (depth_gt != 0).any(dim=1, keepdim=True)
        gt_valid = gt_valid & labelled[:, None, None, None]
        if self.mode == 'align':
            return per_image_masked_l1(transferred, depth_gt, gt_valid)
        target = depth_pred.detach()
        if self.unlabelled_depth_mask == 'positive':
            free = target > 0
        else:
            free = torch.ones_like(target, dtype=torch.bool)
        if region is not None:
            free = free & region
        mask = torch.where(labelled[:, None, None, None], gt_valid, free)
        return per_image_masked_l1(transferred, target, mask)

    def seg_term(self, transferred: torch.Tensor, seg_logits: torch.Tensor,
                 seg_gt: torch.Tensor, region: Optional[torch.Tensor] = None
                 ) -> Optional[torch.Tensor]:
        """Eq. (13) soft, the release's hard target, or Eq. (8) with GT;
        consistency over the pixels of ``region`` (default all)."""
        if self.mode == 'align':
            labels = seg_gt[:, 0].long()
            if not bool((labels != -1).any()):
                return None
            return F.cross_entropy(transferred, labels, ignore_index=-1,
                                   label_smoothing=self.label_smoothing)
        target = seg_logits.detach()
        if region is None:
            region = torch.ones_like(target[:, :1], dtype=torch.bool)
        if self.seg_target == 'soft':
            return soft_cross_entropy(transferred, target.softmax(dim=1),
                                      region)
        labels = target.argmax(dim=1).masked_fill(~region[:, 0], -1)
        return F.cross_entropy(transferred, labels, ignore_index=-1,
                               label_smoothing=self.label_smoothing)

    def loss(self, bundle: MethodBundle) -> Dict[str, torch.Tensor]:
        """Nothing after the balancer: every term is a group term."""
        return {}

    def task_terms(self, bundle: MethodBundle
                   ) -> Dict[str, Dict[str, torch.Tensor]]:
        """``{seg: {loss_<name>: lambda * l(T_sd)}, depth: {loss_<name>:
        lambda * l(T_ds)}}``: each term in the group of its TTNet's input."""
        view = bundle.view1
        seg_logits = view.preds[self.seg_task]
        depth_pred = view.preds[self.depth_task]
        to_depth, to_seg = self.transfer(seg_logits, depth_pred)
        # the consistency needs no GT: it must not count the batch padding
        b, _, h, w = seg_logits.shape
        region = image_region_mask(bundle.data_samples, (b, h, w),
                                   seg_logits.device)
        d_term = self.depth_term(to_depth, depth_pred,
                                 view.targets[self.depth_task],
                                 bundle.flags(self.depth_task), region)
        s_term = self.seg_term(to_seg, seg_logits,
                               view.targets[self.seg_task], region)
        key = f'loss_{self.name}'
        out = {}
        for task, term in ((self.seg_task, d_term),
                           (self.depth_task, s_term)):
            out[task] = {key: (self.zero_loss() if term is None
                               else self.loss_weight * term)}
        return out
