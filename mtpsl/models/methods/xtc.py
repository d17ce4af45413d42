"""XTC: cross-task consistency in a learned joint space.

Li, Liu, Bilen, "Learning Multiple Dense Prediction Tasks from Partially
Annotated Data", CVPR 2022. For an image where task ``s`` is labelled and
``t`` is not, the pair-conditioned mapper maps the GT of ``s`` and the
prediction of ``t``; the term of the pair is (Eq. (3)-(4) of the paper,
released weights)::

    c = (1 - cos(m_s, m_t)) + 0.5 * ((1 - cos(m_s, f)) + (1 - cos(m_t, f)))

with ``f`` the image's own shared feature, detached (it anchors the joint
space so the mapper cannot collapse it to a constant). As the release
(docs/FACTS.md), the terms of an image's pairs are summed, times the weight
(2.0), and divided by the batch size: ``loss = w / B sum_i sum_pairs c``
(``reduction='image_sum'``; configs/xtc/README.md has the balance).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import torch

from mtpsl.registry import MODELS
from mtpsl.structures import task_spec

from .base import BaseCrossTaskMethod, MethodBundle, ViewBundle
from .film_mapper import XTC_RELEASE, PairFiLMMapper
from .toolkit import (consistency_pairs, cosine_distance, encode_prediction,
                      encode_target)

REDUCTIONS = ('image_sum', 'mean')


@MODELS.register_module()
class XTC(BaseCrossTaskMethod):
    """XTC's joint-space consistency on the (labelled, unlabelled) task
    pairs of each image (and every pair of a fully labelled one).

    Args:
        tasks: the model's tasks (the model passes them).
        num_classes: ``{task: classes}`` of the label tasks (the model
            passes its heads' counts; an explicit value is kept).
        feat_channels: channels of the image feature ``shared_feats[
            feat_index]`` (the SegNet bottleneck: index 0); the mapper's
            output channels.
        feat_index: which shared feature is the image's own feature.
        mapper: :class:`PairFiLMMapper` arguments over
            ``film_mapper.XTC_RELEASE`` (e.g. ``dict(widths=...)``).
        loss_weight: consistency weight (2.0 NYUv2, 1.0 Cityscapes).
        reg_weight: weight of the pull towards the image feature (0.5).
        gumbel_tau: temperature of the Gumbel-softmax.
        views: the views the term is computed on: ``(2,)`` (the release:
            view 2 only; the batch must have a second view), ``(1,)`` or
            ``(1, 2)``.
        reduction: ``'image_sum'`` (the release: per view, the terms of all
            (image, pair) summed and divided by the batch size) or
            ``'mean'`` (the mean over (image, pair) of all views).
        full_label_pairs: on a fully labelled image, every ordered pair
            ``(s, t)`` (the release); False: such an image has no pair.
        map_each_image: map each image's GT and prediction maps one image
            at a time (BN statistics of that map alone, the release); False
            maps the images of a pair as one batch.
        normal_invalid: encoding of invalid normal GT pixels (0.5 release).
        joint_view_forward: the model runs both views in one forward (one
            BN batch, the release) instead of two.
    """
    default_name = 'xtc'

    def __init__(self, tasks: Sequence[str],
                 num_classes: Optional[Dict[str, int]] = None,
                 feat_channels: int = 512, feat_index: int = 0,
                 mapper: Optional[dict] = None,
                 loss_weight: float = 2.0, reg_weight: float = 0.5,
                 gumbel_tau: float = 1.0, views: Sequence[int] = (2,),
                 reduction: str = 'image_sum',
                 full_label_pairs: bool = True, map_each_image: bool = True,
                 normal_invalid: float = 0.5,
                 joint_view_forward: bool = True,
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
        cfg = dict(XTC_RELEASE, out_channels=feat_channels)
        cfg.update(mapper or {})
        self.mapper = PairFiLMMapper(in_channels, self.tasks, **cfg)
        self.views = tuple(sorted(set(int(v) for v in views)))
        if not self.views or not set(self.views) <= {1, 2}:
            raise ValueError(f'XTC: views must be a non-empty subset of '
                             f'(1, 2), got {views!r}')
        if reduction not in REDUCTIONS:
            raise ValueError(f'XTC: reduction must be one of {REDUCTIONS}, '
                             f'got {reduction!r}')
        self.reduction = reduction
        self.feat_index = feat_index
        self.reg_weight = float(reg_weight)
        self.gumbel_tau = float(gumbel_tau)
        self.full_label_pairs = bool(full_label_pairs)
        self.map_each_image = bool(map_each_image)
        self.normal_invalid = float(normal_invalid)
        self.needs_view2 = 2 in self.views
        self.joint_view_forward = bool(joint_view_forward)

    def _map(self, gt_map: torch.Tensor, src: str, pred_map: torch.Tensor,
             tgt: str, pair: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """Mapped (GT of src, prediction of tgt) of one pair, the two maps
        each through the mapper as one batch (``map_each_image=False``)."""
        ids = torch.full((gt_map.shape[0],), pair, dtype=torch.long,
                         device=gt_map.device)
        return self.mapper.map_all([(gt_map, src), (pred_map, tgt)], ids)

    def _map_each_image(self, jobs) -> List[Tuple[torch.Tensor,
                                                 torch.Tensor]]:
        """``map_each_image``: every image's GT map, then its prediction
        map, pair after pair, each normalised on its own as the release's
        per-image calls do; computed in one batched mapper pass
        (:meth:`PairFiLMMapper.map_per_sample`). ``jobs``: per pair
        ``(gt_map, src, pred_map, tgt, pair index)``; returns per pair
        (mapped GT, mapped prediction)."""
        maps, ids = [], []
        for gt_map, src, pred_map, tgt, pair in jobs:
            for i in range(gt_map.shape[0]):
                maps += [(gt_map[i:i + 1], src), (pred_map[i:i + 1], tgt)]
                ids += [pair, pair]
        if not maps:
            return []
        out = self.mapper.map_per_sample(
            maps, torch.tensor(ids, dtype=torch.long,
                               device=jobs[0][0].device))
        mapped, k = [], 0
        for gt_map, *_ in jobs:
            n = gt_map.shape[0]
            mapped.append((torch.cat(out[k:k + 2 * n:2]),
                           torch.cat(out[k + 1:k + 2 * n:2])))
            k += 2 * n
        return mapped

    def view_terms(self, view: ViewBundle,
                   generator: Optional[torch.Generator] = None
                   ) -> Optional[Tuple[torch.Tensor, torch.Tensor]]:
        """Per-(image, s, t) consistency and regularisation terms of one
        view, each of shape (number of triples,); None when no pair. The
        Gumbel noise comes from ``generator``."""
        image_feat = view.shared_feats[self.feat_index].detach()
        jobs, which = [], []
        for s, t, images in consistency_pairs(view.label_flags,
                                              self.full_label_pairs):
            src, tgt = self.tasks[s], self.tasks[t]
            # GT is a constant, whatever produced it (pseudo labels too)
            gt_map = encode_target(src, view.targets[src][images].detach(),
                                   self.num_classes.get(src),
                                   self.normal_invalid)
            pred_map = encode_prediction(tgt, view.preds[tgt][images],
                                         self.gumbel_tau, generator)
            jobs.append((gt_map.to(pred_map.dtype), src, pred_map, tgt,
                         self.mapper.pair_index(src, tgt)))
            which.append(images)
        if not jobs:
            return None
        mapped = (self._map_each_image(jobs) if self.map_each_image else
                  [self._map(*job) for job in jobs])
        cons, regs = [], []
        for (mapped_s, mapped_t), images in zip(mapped, which):
            feat = image_feat[images]
            cons.append(cosine_distance(mapped_s, mapped_t))
            regs.append(cosine_distance(mapped_s, feat) +
                        cosine_distance(mapped_t, feat))
        return torch.cat(cons), torch.cat(regs)

    def _views(self, bundle: MethodBundle) -> List[ViewBundle]:
        views = []
        if 1 in self.views:
            views.append(bundle.view1)
        if 2 in self.views:
            if bundle.view2 is None:
                raise ValueError(
                    f'{self.name}: views={self.views} but the batch has no '
                    'second view; use a two-view pipeline (TwoViewTransform '
                    'and PackTwoViewInputs) or views=(1,)')
            views.append(bundle.view2)
        return views

    def loss(self, bundle: MethodBundle) -> Dict[str, torch.Tensor]:
        """``xtc.loss_con`` and ``xtc.loss_reg`` over the (image, s, t)
        triples of the chosen views, reduced as ``reduction`` says."""
        cons, regs, sizes = [], [], []
        for view in self._views(bundle):
            k = 1 if view is bundle.view1 else 2
            terms = self.view_terms(view, bundle.generator(
                f'{self.name}.gumbel.view{k - 1}', view.inputs.device))
            if terms is not None:
                cons.append(terms[0])
                regs.append(terms[1])
                sizes.append(view.inputs.shape[0])
        if not cons:
            zero = self.zero_loss()
            return {f'{self.name}.loss_con': zero,
                    f'{self.name}.loss_reg': zero.clone()}
        if self.reduction == 'image_sum':
            con = sum(c.sum() / b for c, b in zip(cons, sizes))
            reg = sum(r.sum() / b for r, b in zip(regs, sizes))
        else:
            con = torch.cat(cons).mean()
            reg = torch.cat(regs).mean()
        return {f'{self.name}.loss_con': self.loss_weight * con,
                f'{self.name}.loss_reg':
                    self.loss_weight * self.reg_weight * reg}
