"""HiTTs stage 2 (Zhang et al., Sec. 3.3): the pseudo-label loss L_p
(Eq. 7) and the feature loss L_f (Eq. 6) from offline pseudo supervision.

Re-implemented from the paper (no public code). The pipeline carries the
stage-1 pseudo labels (``pseudo_<task>``, GT units, invalid under tau and
for labelled tasks), features (``feat_<task>``) and masks (``conf_<task>``)
as per-pixel fields moved with augmentation as GT. Per task:

- L_p joins the task's loss BEFORE the balancer (``loss_pseudo_<name>``),
  so the configs' ``FixedWeights`` of 1/T give Eq. (7)'s 1/T; it is the
  task's own loss (Eq. 13: the configured regression loss on the
  prediction plus, for a binned task, the cross-entropy to the bin of the
  pseudo label) on the images NOT labelled for the task (1 - alpha_i) and
  the pixels kept (M^p).
- L_f (Eq. 6) is the method's own loss ``hitts.loss_feat``, the mean over
  tasks (the 1/T) of :func:`~mtpsl.models.hitts.feature_loss`.
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional, Sequence, Union

import torch
import torch.nn as nn

from mtpsl.registry import MODELS
from mtpsl.structures import task_spec

from ..heads.base_head import resize
from ..hitts.losses import feature_loss
from ..losses.task_losses import CrossEntropyLoss
from .base import BaseCrossTaskMethod, MethodBundle

LossCfg = Union[dict, Sequence[dict]]


@MODELS.register_module()
class HiTTsPseudoSupervision(BaseCrossTaskMethod):
    """L_p and L_f of HiTTs' stage 2.

    Args:
        tasks: the model's tasks (the model passes them).
        losses: ``{task: loss config(s)}`` on the prediction, the same as the
            heads' (Eq. 13: CE for labels; 0.1 L1 depth, 0.1 angle normals).
        bins: ``{task: bins config}`` of the binned heads (the same configs:
            the centres are checked against the head's ``bin_centres``).
        pseudo_labels: use L_p (Table 5, "w. L_p").
        features: use L_f (Table 5, "w. L_f").
        mask_source: M^f of L_f: ``'saved'`` (the stage-1 mask saved with
            the features, default) or ``'current'`` (the model's own mask,
            detached).
        loss_weight: multiplies L_f (L_p is weighed by the balancer).
    """
    default_name = 'hitts'

    def __init__(self, tasks: Sequence[str],
                 losses: Optional[Mapping[str, LossCfg]] = None,
                 bins: Optional[Mapping[str, dict]] = None,
                 pseudo_labels: bool = True, features: bool = True,
                 mask_source: str = 'saved', name: Optional[str] = None,
                 loss_weight: float = 1.0, init_cfg=None) -> None:
        super().__init__(name=name, loss_weight=loss_weight,
                         init_cfg=init_cfg)
        self.tasks = tuple(tasks)
        if mask_source not in ('saved', 'current'):
            raise ValueError(f"HiTTsPseudoSupervision: mask_source must be "
                             f"'saved' or 'current', got {mask_source!r}")
        self.mask_source = mask_source
        self.use_pseudo = bool(pseudo_labels)
        self.use_features = bool(features)
        losses = dict(losses or {})
        unknown = sorted(set(losses) - set(self.tasks))
        if unknown:
            raise KeyError(f'HiTTsPseudoSupervision: losses for {unknown}, '
                           f'not tasks of the model {list(self.tasks)}')
        self.pseudo_losses = nn.ModuleDict()
        for task in self.tasks:
            cfgs = losses.get(task)
            if cfgs is None:
                cfgs = (dict(type='CrossEntropyLoss', ignore_index=-1)
                        if task_spec(task).kind == 'label' else [])
            cfgs = cfgs if isinstance(cfgs, (list, tuple)) else [cfgs]
            self.pseudo_losses[task] = nn.ModuleList(
                [MODELS.build(c) for c in cfgs])
        self.bins = nn.ModuleDict({t: MODELS.build(c)
                                   for t, c in (bins or {}).items()})
        self.bin_ce = CrossEntropyLoss(ignore_index=-1,
                                       loss_name='loss_bin_ce')

    def _pseudo_terms(self, bundle: MethodBundle, task: str
                      ) -> Dict[str, torch.Tensor]:
        """Eq. (7) for one task."""
        view = bundle.view1
        key = f'pseudo_{task}'
        if key not in view.fields:
            raise KeyError(f'HiTTsPseudoSupervision: the batch has no field '
                           f'{key!r} (fields: {sorted(view.fields)}); add '
                           'LoadPseudoSupervision to the train pipeline')
        out = view.outputs[task]
        invalid = task_spec(task).invalid
        keep = (~bundle.flags(task).bool()).view(-1, 1, 1, 1)
        pseudo = view.fields[key]
        pseudo = torch.where(keep, pseudo.to(out.pred.dtype if
                                             task_spec(task).kind != 'label'
                                             else pseudo.dtype),
                             torch.full_like(pseudo, invalid))
        terms = {}
        for loss in self.pseudo_losses[task]:
            terms[loss.loss_name.replace('loss_', 'loss_pseudo_', 1)] = \
                loss(out.pred, pseudo)
        if task in self.bins:
            centres = out.extras.get('bin_centres')
            if centres is None or not torch.equal(
                    centres.to(self.bins[task].centres),
                    self.bins[task].centres):
                raise ValueError(f'HiTTsPseudoSupervision: bins of {task!r} '
                                 "differ from the head's bin_centres; give "
                                 'the method the head\'s bins config')
            logits = resize(out.logits, pseudo.shape[-2:])
            terms['loss_pseudo_bin_ce'] = self.bin_ce(
                logits, self.bins[task].assign(pseudo))
        return terms

    def task_terms(self, bundle: MethodBundle
                   ) -> Dict[str, Dict[str, torch.Tensor]]:
        """L_p per task, joining the task's loss before the balancer."""
        if not self.use_pseudo:
            return {}
        return {t: self._pseudo_terms(bundle, t) for t in self.tasks}

    def loss(self, bundle: MethodBundle) -> Dict[str, torch.Tensor]:
        """``hitts.loss_feat``: Eq. (6), 1/T sum over tasks."""
        if not self.use_features:
            return {f'{self.name}.loss_feat': self.zero_loss()}
        view = bundle.view1
        total = 0.0
        for task in self.tasks:
            out = view.outputs[task]
            saved = view.fields.get(f'feat_{task}')
            if saved is None:
                raise KeyError(f'HiTTsPseudoSupervision: the batch has no '
                               f'field feat_{task!r}; add '
                               'LoadPseudoSupervision to the train pipeline')
            conf = view.fields[f'conf_{task}'].to(out.feat.dtype)
            mask = (conf if self.mask_source == 'saved'
                    else out.extras['mask'].detach())
            # the saved mask is 0 only where nothing was saved (padding)
            total = total + feature_loss(out.feat, saved, bundle.flags(task),
                                         mask, valid=conf > 0)
        return {f'{self.name}.loss_feat':
                total / len(self.tasks) * self.loss_weight}
