"""XTC: cross-task consistency in a learned joint space.

Li, Liu, Bilen, "Learning Multiple Dense Prediction Tasks from Partially
Annotated Data", CVPR 2022. For an image where task ``s`` is labelled and
``t`` is not, the pair-conditioned mapper maps the GT of ``s`` and the
prediction of ``t``; the loss is (Eq. (3)-(4) of the paper, released
weights)::

    (1 - cos(m_s, m_t)) + 0.5 * ((1 - cos(m_s, f)) + (1 - cos(m_t, f)))

with ``f`` the image's own shared feature, detached (it anchors the joint
space so the mapper cannot collapse it to a constant).
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import torch

from mtpsl.registry import MODELS
from mtpsl.structures import task_spec

from .base import BaseCrossTaskMethod, MethodBundle, ViewBundle
from .film_mapper import PairFiLMMapper
from .toolkit import (cosine_distance, encode_prediction, encode_target,
                      labelled_unlabelled_pairs)


@MODELS.register_module()
class XTC(BaseCrossTaskMethod):
    """XTC's joint-space consistency on (labelled, unlabelled) task pairs.

    Args:
        tasks: the model's tasks (the model passes them).
        num_classes: ``{task: classes}`` of the label tasks (the model
            passes its heads' counts; an explicit value is kept).
        mapper_widths, mapper_convs_per_stage: the mapper's encoder; its
            output has ``feat_channels`` channels.
        feat_channels: channels of the image feature ``shared_feats[
            feat_index]`` (the SegNet bottleneck: index 0).
        feat_index: which shared feature is the image's own feature.
        loss_weight: consistency weight (2.0 in the release).
        reg_weight: weight of the pull towards the image feature (0.5).
        gumbel_tau: temperature of the Gumbel-softmax.
        use_view2: also apply the loss on the second augmented view, when
            the batch has one (the model then runs on it).
    """
    default_name = 'xtc'

    def __init__(self, tasks: Sequence[str],
                 num_classes: Optional[Dict[str, int]] = None,
                 feat_channels: int = 512, feat_index: int = 0,
                 mapper_widths: Sequence[int] = (64, 128, 256, 512, 512),
                 mapper_convs_per_stage: int = 2,
                 loss_weight: float = 2.0, reg_weight: float = 0.5,
                 gumbel_tau: float = 1.0, use_view2: bool = True,
                 name: Optional[str] = None, init_cfg=None) -> None:
        super().__init__(name=name, loss_weight=loss_weight,
                         init_cfg=init_cfg)
        self.tasks = tuple(tasks)
        self.num_classes = dict(num_classes or {})
        in_channels = {}
        for task in self.tasks:
            spec = task_spec(task)
            if spec.kind == 'label' and task not in self.num_classes:
                raise ValueError(f'XTC: num_classes has no entry for label '
                                 f'task {task!r}')
            in_channels[task] = (self.num_classes[task]
                                 if spec.kind == 'label' else spec.channels)
        self.mapper = PairFiLMMapper(in_channels, self.tasks, mapper_widths,
                                     feat_channels, mapper_convs_per_stage)
        self.feat_index = feat_index
        self.reg_weight = float(reg_weight)
        self.gumbel_tau = float(gumbel_tau)
        self.use_view2 = bool(use_view2)
        self.needs_view2 = self.use_view2

    def view_terms(self, view: ViewBundle,
                   generator: Optional[torch.Generator] = None
                   ) -> Optional[Tuple[torch.Tensor, torch.Tensor]]:
        """Per-pair consistency and regularisation terms of one view, each
        of shape (number of (image, s, t) triples,); None when no pair.
        The Gumbel noise comes from ``generator``."""
        image_feat = view.shared_feats[self.feat_index].detach()
        cons, regs = [], []
        for s, t, images in labelled_unlabelled_pairs(view.label_flags):
            src, tgt = self.tasks[s], self.tasks[t]
            # GT is a constant, whatever produced it (pseudo labels too)
            gt_map = encode_target(src, view.targets[src][images].detach(),
                                   self.num_classes.get(src))
            pred_map = encode_prediction(tgt, view.preds[tgt][images],
                                         self.gumbel_tau, generator)
            pair_ids = torch.full((images.numel(),),
                                  self.mapper.pair_index(src, tgt),
                                  dtype=torch.long, device=images.device)
            mapped_s, mapped_t = self.mapper(
                [(gt_map.to(pred_map.dtype), src), (pred_map, tgt)],
                pair_ids)
            feat = image_feat[images]
            cons.append(cosine_distance(mapped_s, mapped_t))
            regs.append(cosine_distance(mapped_s, feat) +
                        cosine_distance(mapped_t, feat))
        if not cons:
            return None
        return torch.cat(cons), torch.cat(regs)

    def loss(self, bundle: MethodBundle) -> Dict[str, torch.Tensor]:
        """``xtc.loss_con`` and ``xtc.loss_reg``, means over all
        (image, labelled s, unlabelled t) triples of the views."""
        views = [bundle.view1]
        if self.use_view2 and bundle.view2 is not None:
            views.append(bundle.view2)
        terms = [self.view_terms(v, bundle.generator(
            f'{self.name}.gumbel.view{k}', v.inputs.device))
            for k, v in enumerate(views)]
        terms = [x for x in terms if x is not None]
        if not terms:
            zero = self.zero_loss()
            return {f'{self.name}.loss_con': zero,
                    f'{self.name}.loss_reg': zero.clone()}
        con = torch.cat([c for c, _ in terms]).mean()
        reg = torch.cat([r for _, r in terms]).mean()
        return {f'{self.name}.loss_con': self.loss_weight * con,
                f'{self.name}.loss_reg':
                    self.loss_weight * self.reg_weight * reg}
