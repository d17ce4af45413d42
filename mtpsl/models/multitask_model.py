"""The multi-task model: a shared backbone, one head per task, a balancer."""
from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.dist import get_rank
from mmengine.logging import MessageHub
from mmengine.model import BaseModel, ModuleDict
from mmengine.structures import PixelData

from mtpsl.registry import MODELS
from mtpsl.structures import (TASK_NAMES, MultiTaskDataSample, check_tasks,
                              stack_targets, task_spec)

from .heads.base_head import resize_pred
from .methods.base import MethodBundle, ViewBundle


@MODELS.register_module()
class MultiTaskModel(BaseModel):
    """Backbone -> per-task heads, trained on the labelled tasks of a batch.

    Args:
        backbone: config of the shared backbone; it returns a tuple of
            feature maps, heads pick theirs with ``in_index``.
        heads: ``{task: head config}``; tasks are ordered as in
            ``mtpsl.structures.TASK_NAMES`` whatever the dict order.
            A head may predict below the input size: predictions are
            upsampled to the input size (normals renormalised).
        balancer: loss-weighting config (default: equal fixed weights). It
            receives ``tasks`` as a default argument. A balancer with
            ``needs_shared_params = True`` (GradNorm) is also given
            ``shared_params``: the parameters of ``shared_layer``.
        neck: optional config of a shared neck (e.g. ``mmseg.FPN``) between
            the backbone and the heads; it maps the backbone's tuple to the
            tuple the heads index.
        shared_layer: dotted name of the shared module whose parameters a
            gradient-based balancer watches (e.g. ``'backbone.decoder.0'``);
            default: the last registered convolution of the neck, else of the
            backbone.
        data_preprocessor: normally ``MultiTaskDataPreprocessor``.
        methods: configs of cross-task methods (docs/methods.md), built with
            ``tasks`` as a default argument and kept in ``self.methods``
            under their names. Their losses are added to the balanced task
            losses in ``loss``; they never run in ``predict``/``_forward``.
    """

    def __init__(self, backbone: dict, heads: Mapping[str, dict],
                 balancer: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 neck: Optional[dict] = None,
                 shared_layer: Optional[str] = None,
                 methods: Optional[Sequence[dict]] = None,
                 init_cfg=None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='MultiTaskDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            # BaseModel would build it in MMEngine's root registry, which
            # finds our class only under a Runner's default scope.
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        check_tasks(heads.keys(), 'MultiTaskModel.heads')
        # A canonical order, not the dict's: MMEngine sorts dict keys when
        # it dumps a config, and a resumed optimiser relies on the order.
        self.tasks = tuple(t for t in TASK_NAMES if t in heads)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.shared_layer = shared_layer
        # MMEngine's ModuleDict, so that init_weights reaches the heads (a
        # torch ModuleDict has no init_weights and BaseModule skips it).
        self.heads = ModuleDict()
        for task in self.tasks:
            cfg = heads[task]
            self.heads[task] = MODELS.build(cfg, default_args=dict(task=task))
            if self.heads[task].task != task:
                raise ValueError(f'head configured under {task!r} predicts '
                                 f'{self.heads[task].task!r}')
        balancer = dict(balancer or dict(type='FixedWeights'))
        self.balancer = MODELS.build(balancer,
                                     default_args=dict(tasks=self.tasks))
        # Empty unless configured: a baseline's state dict has no methods.*
        self.methods = ModuleDict()
        for cfg in methods or ():
            method = MODELS.build(cfg, default_args=dict(tasks=self.tasks))
            if method.name in self.methods:
                raise ValueError(f'MultiTaskModel.methods: two methods named '
                                 f'{method.name!r}; give one a name=')
            self.methods[method.name] = method

    # -- the three modes of BaseModel.forward --------------------------------
    def forward(self, inputs: torch.Tensor,
                data_samples: Optional[List[MultiTaskDataSample]] = None,
                mode: str = 'tensor',
                inputs_view2: Optional[torch.Tensor] = None):
        """Dispatch to ``loss`` / ``predict`` / ``_forward``; a second
        view (two-view pipelines) only reaches the methods in ``loss``."""
        if mode == 'loss':
            return self.loss(inputs, data_samples, inputs_view2)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise RuntimeError(f'invalid mode {mode!r}; use loss, predict or '
                           'tensor')

    def extract_feat(self, inputs: torch.Tensor) -> Sequence[torch.Tensor]:
        """Shared features as a tuple."""
        feats = self.backbone(inputs)
        feats = feats if isinstance(feats, (tuple, list)) else (feats,)
        if self.neck is not None:
            feats = self.neck(feats)
            feats = feats if isinstance(feats, (tuple, list)) else (feats,)
        return feats

    def forward_tasks(self, inputs: torch.Tensor) -> Dict[str, dict]:
        """``{task: {'feat': task feature, 'pred': prediction}}``."""
        return self.forward_heads(self.extract_feat(inputs),
                                  inputs.shape[-2:])

    def forward_heads(self, feats: Sequence[torch.Tensor], size
                      ) -> Dict[str, dict]:
        """Heads on shared features; predictions brought to ``size``."""
        out = {}
        for task, head in self.heads.items():
            feat, pred = head(feats)
            out[task] = dict(feat=feat, pred=resize_pred(task, pred, size))
        return out

    def _forward(self, inputs: torch.Tensor, data_samples=None
                 ) -> Dict[str, torch.Tensor]:
        """Raw predictions per task (for export and FLOP counting)."""
        return {t: o['pred'] for t, o in self.forward_tasks(inputs).items()}

    def loss(self, inputs: torch.Tensor,
             data_samples: List[MultiTaskDataSample],
             inputs_view2: Optional[torch.Tensor] = None
             ) -> Dict[str, torch.Tensor]:
        """Balanced task losses ``<task>.loss_<name>`` on labelled pixels,
        plus the losses ``<method>.loss_<what>`` of the methods."""
        view2_out = None
        if self._joint_views(inputs_view2):
            feats, outputs, view2_out = self.forward_joint(inputs,
                                                           inputs_view2)
        else:
            feats = self.extract_feat(inputs)
            outputs = self.forward_heads(feats, inputs.shape[-2:])
        task_losses, labelled, targets, flag_cols = {}, {}, {}, []
        for task, head in self.heads.items():
            target, flags = stack_targets(data_samples, task,
                                          device=inputs.device)
            targets[task] = target
            flag_cols.append(flags)
            # "labelled" for the balancer: some pixel of the batch is
            # supervised (a flagged image may still be all invalid)
            invalid = task_spec(task).invalid
            labelled[task] = bool(flags.any()) and bool(
                (target != invalid).any())
            task_losses[task] = head.loss_by_pred(outputs[task]['pred'],
                                                  target)
        method_losses = {}
        if len(self.methods):
            view1 = make_view_bundle(inputs, feats, outputs, targets,
                                     torch.stack(flag_cols, dim=1),
                                     data_samples)
            method_losses, terms = self.method_losses(
                view1, data_samples, inputs_view2, view2_out)
            task_losses = merge_task_terms(task_losses, terms)
        if getattr(self.balancer, 'needs_shared_params', False):
            losses = self.balancer(task_losses, labelled,
                                   shared_params=self.shared_params())
        else:
            losses = self.balancer(task_losses, labelled)
        if method_losses:
            losses = dict(losses)
            losses.update(method_losses)
        return losses

    def _joint_views(self, inputs_view2) -> bool:
        """Both views in one forward: a method needing view 2 asks so."""
        return inputs_view2 is not None and any(
            m.needs_view2 and m.joint_view_forward
            for m in self.methods.values())

    def forward_joint(self, inputs: torch.Tensor, inputs_view2: torch.Tensor):
        """One forward over both views (one BN batch, XTC's release):
        ``(feats, outputs)`` of view 1 and ``(feats2, outputs2)``."""
        if inputs.shape[1:] != inputs_view2.shape[1:]:
            raise ValueError(f'MultiTaskModel: joint_view_forward needs '
                             f'views of one size, got {tuple(inputs.shape)} '
                             f'and {tuple(inputs_view2.shape)}')
        n = inputs.shape[0]
        feats = self.extract_feat(torch.cat([inputs, inputs_view2]))
        outputs = self.forward_heads(feats, inputs.shape[-2:])
        split = [{t: {k: v[sl] for k, v in o.items()}
                  for t, o in outputs.items()}
                 for sl in (slice(0, n), slice(n, None))]
        return (tuple(f[:n] for f in feats), split[0],
                (tuple(f[n:] for f in feats), split[1]))

    def method_losses(self, view1, data_samples, inputs_view2=None,
                      view2_out=None):
        """Run every method on the bundle (docs/methods.md); the model
        runs on the second view only if a method needs it (``view2_out``:
        its ``(feats, outputs)`` when already computed jointly).

        Returns ``(losses added after the balancer, {task: {loss_x: term}}
        joining the task losses before it)``."""
        view2 = None
        if inputs_view2 is not None and any(
                m.needs_view2 for m in self.methods.values()):
            samples2 = [s.view2 for s in data_samples]
            if view2_out is None:
                feats2 = self.extract_feat(inputs_view2)
                outputs2 = self.forward_heads(feats2,
                                              inputs_view2.shape[-2:])
            else:
                feats2, outputs2 = view2_out
            stacked = {t: stack_targets(samples2, t,
                                        device=inputs_view2.device)
                       for t in self.tasks}
            view2 = make_view_bundle(
                inputs_view2, feats2, outputs2,
                {t: v[0] for t, v in stacked.items()},
                torch.stack([v[1] for v in stacked.values()], dim=1),
                samples2)
        hub = MessageHub.get_current_instance()
        bundle = MethodBundle(
            tasks=self.tasks, view1=view1, view2=view2,
            view_params=[s.metainfo.get('view_params') for s in data_samples],
            iter=int(hub.get_info('iter', 0) or 0),
            data_samples=data_samples,
            seed=int(hub.get_info('seed', 0) or 0), rank=get_rank())
        losses, terms = {}, {}
        for method in self.methods.values():
            method_losses, method_terms = method.collect(bundle)
            losses.update(method_losses)
            for task, named in method_terms.items():
                merged = terms.setdefault(task, {})
                for key, value in named.items():
                    if key in merged:
                        raise KeyError(f'two methods give task {task!r} a '
                                       f'term {key!r}; rename one')
                    merged[key] = value
        return losses, terms

    def shared_params(self) -> List[torch.nn.Parameter]:
        """Parameters of ``shared_layer`` (for gradient-based balancers)."""
        if self.shared_layer is not None:
            module = self.get_submodule(self.shared_layer)
        else:
            module = None
            for part in (self.neck, self.backbone):
                convs = [m for m in part.modules()
                         if isinstance(m, torch.nn.Conv2d)] if part else []
                if convs:
                    module = convs[-1]
                    break
            if module is None:
                raise ValueError('MultiTaskModel: no convolution in the '
                                 'backbone or neck; set shared_layer')
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise ValueError(f'MultiTaskModel: shared_layer '
                             f'{self.shared_layer!r} has no trainable '
                             'parameter')
        return params

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[List[MultiTaskDataSample]] = None
                ) -> List[MultiTaskDataSample]:
        """Per-image predictions, cropped from the padding, at ``ori_shape``."""
        preds = self._forward(inputs)
        if data_samples is None:
            data_samples = [MultiTaskDataSample(metainfo=dict(
                img_shape=inputs.shape[-2:], ori_shape=inputs.shape[-2:]))
                for _ in range(inputs.shape[0])]
        for i, sample in enumerate(data_samples):
            h, w = sample.metainfo.get('img_shape', inputs.shape[-2:])
            ori = tuple(sample.metainfo.get('ori_shape', (h, w)))
            for task, pred in preds.items():
                sample.set_pred(task, self._postprocess(
                    task, pred[i:i + 1, :, :h, :w], ori))
                if task in ('edge', 'saliency') and pred.shape[1] == 2:
                    # max F / ODS F threshold the probability, not the argmax
                    sample.set_field(PixelData(data=self._probability(
                        pred[i:i + 1, :, :h, :w], ori)), f'pred_{task}_prob',
                        dtype=PixelData)
        return data_samples

    @staticmethod
    def _probability(logits: torch.Tensor, size) -> torch.Tensor:
        """1 x H x W softmax probability of class 1 of 1 x 2 x h x w logits,
        resized (as logits) to ``size``."""
        if tuple(logits.shape[-2:]) != tuple(size):
            logits = F.interpolate(logits, size=size, mode='bilinear',
                                   align_corners=False)
        return logits[0].softmax(dim=0)[1:2]

    @staticmethod
    def _postprocess(task: str, pred: torch.Tensor, size) -> torch.Tensor:
        """Resize to ``size`` and turn logits into labels."""
        if tuple(pred.shape[-2:]) != tuple(size):
            pred = F.interpolate(pred, size=size, mode='bilinear',
                                 align_corners=False)
            if task == 'normal':
                pred = F.normalize(pred, dim=1)
        pred = pred[0]
        if task_spec(task).kind == 'label':
            return pred.argmax(dim=0, keepdim=True)
        return pred


def merge_task_terms(task_losses, terms):
    """Task losses with the methods' per-task terms joined in."""
    merged = {t: dict(v) for t, v in task_losses.items()}
    for task, named in terms.items():
        for key, value in named.items():
            if key in merged[task]:
                raise KeyError(f'a method term {key!r} of task {task!r} '
                               'has the name of a supervised loss')
            merged[task][key] = value
    return merged


def make_view_bundle(inputs, feats, outputs, targets, label_flags,
                     data_samples):
    """A :class:`~mtpsl.models.methods.ViewBundle` of what ``loss`` has."""
    regions = [s.get('region_ids') for s in data_samples]
    region_ids = (torch.stack([r.data for r in regions]).to(inputs.device)
                  if regions and all(r is not None for r in regions)
                  else None)
    return ViewBundle(
        inputs=inputs, shared_feats=tuple(feats),
        task_feats={t: o['feat'] for t, o in outputs.items()},
        preds={t: o['pred'] for t, o in outputs.items()},
        targets=targets, label_flags=label_flags, region_ids=region_ids)
