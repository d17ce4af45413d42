"""The multi-task model: a shared backbone, one head per task, a balancer."""
from __future__ import annotations

import inspect
from typing import Dict, List, Mapping, Optional, Sequence

import torch
from mmengine.dist import get_rank
from mmengine.logging import MessageHub
from mmengine.model import BaseModel, ModuleDict
from mmengine.structures import PixelData

from mtpsl.registry import MODELS
from mtpsl.structures import (TASK_NAMES, MultiTaskDataSample, check_tasks,
                              present_fields, stack_targets, task_spec)

from .heads.task_output import TaskOutput, feature_stride
from .methods.base import MethodBundle, ViewBundle


@MODELS.register_module()
class MultiTaskModel(BaseModel):
    """Backbone -> per-task heads, trained on the labelled tasks of a batch.

    Args:
        backbone: config of the shared backbone; it returns a tuple of
            feature maps, heads pick theirs with ``in_index``.
        heads: ``{task: head config}``; tasks are ordered as in
            ``mtpsl.structures.TASK_NAMES`` whatever the dict order.
            Each head returns a :class:`~mtpsl.models.heads.TaskOutput`
            (feature, logits, prediction at input size, stride, extras) and
            owns its losses and post-processing.
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
        joint_stage: optional config of a joint decoding stage
            (``mtpsl.models.joint``), built with ``tasks`` as a default
            argument: it sees every task's decoder feature and the shared
            features at once, between the decoders and the classifiers.
            None (default): every head decodes alone, and the state dict
            has no ``joint_stage.*`` key.
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
                 joint_stage: Optional[dict] = None,
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
        # None is no submodule: a model without a stage keeps its keys
        self.joint_stage = (MODELS.build(joint_stage, default_args=dict(
            tasks=self.tasks)) if joint_stage is not None else None)
        balancer = dict(balancer or dict(type='FixedWeights'))
        self.balancer = MODELS.build(balancer,
                                     default_args=dict(tasks=self.tasks))
        # Empty unless configured: a baseline's state dict has no methods.*
        self.methods = ModuleDict()
        for cfg in methods or ():
            method = MODELS.build(cfg, default_args=self.method_defaults(cfg))
            if method.name in self.methods:
                raise ValueError(f'MultiTaskModel.methods: two methods named '
                                 f'{method.name!r}; give one a name=')
            self.methods[method.name] = method

    def method_defaults(self, cfg: dict) -> dict:
        """Default arguments of a method: ``tasks``, and ``num_classes``
        (``{label task: classes}`` of the heads) for a method that takes
        it, so configs do not repeat the dataset's class counts."""
        defaults = dict(tasks=self.tasks)
        cls = cfg.get('type')
        cls = MODELS.get(cls) if isinstance(cls, str) else cls
        if cls is not None and 'num_classes' in inspect.signature(
                cls.__init__).parameters:
            defaults['num_classes'] = {
                t: h.num_classes for t, h in self.heads.items()
                if task_spec(t).kind == 'label'}
        return defaults

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

    def forward_tasks(self, inputs: torch.Tensor) -> Dict[str, TaskOutput]:
        """``{task: TaskOutput}`` of a batch of images."""
        return self.forward_heads(self.extract_feat(inputs),
                                  inputs.shape[-2:])

    def forward_heads(self, feats: Sequence[torch.Tensor], size
                      ) -> Dict[str, TaskOutput]:
        """Heads (and the joint stage) on shared features; predictions at
        ``size``."""
        if self.joint_stage is None:
            # one head after the other, as a plain model always did (the
            # order of dropout draws stays the same)
            return {task: head(feats, size)
                    for task, head in self.heads.items()}
        task_feats = {task: head.decode(feats)
                      for task, head in self.heads.items()}
        task_feats, extras = self.joint_stage(task_feats, tuple(feats), size)
        return {task: head.output(task_feats[task], size, extras[task])
                for task, head in self.heads.items()}

    def _forward(self, inputs: torch.Tensor, data_samples=None
                 ) -> Dict[str, torch.Tensor]:
        """Raw predictions per task (for export and FLOP counting)."""
        return {t: o.pred for t, o in self.forward_tasks(inputs).items()}

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
            task_losses[task] = head.loss_by_feat(outputs[task], target)
        method_losses, terms = {}, {}
        if len(self.methods):
            view1 = make_view_bundle(inputs, feats, outputs, targets,
                                     torch.stack(flag_cols, dim=1),
                                     data_samples)
            method_losses, terms = self.method_losses(
                view1, data_samples, inputs_view2, view2_out)
            task_losses = merge_task_terms(task_losses, terms)
        # what a method added to a task's group needs no label of that task
        # (XTasC's consistency, HiTTs' pseudo labels): the log keeps it on a
        # step where the task is unsupervised (UnsupervisedLossLogHook)
        self.method_term_keys = frozenset(
            f'{t}.{k}' for t, named in terms.items() for k in named)
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
        split = [{t: o.batch_slice(sl) for t, o in outputs.items()}
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
        """Per-image predictions, cropped from the padding, at ``ori_shape``
        (each head's ``predict_by_feat``)."""
        outputs = self.forward_tasks(inputs)
        if data_samples is None:
            data_samples = [MultiTaskDataSample(metainfo=dict(
                img_shape=inputs.shape[-2:], ori_shape=inputs.shape[-2:]))
                for _ in range(inputs.shape[0])]
        metas = [s.metainfo for s in data_samples]
        for task, output in outputs.items():
            results = self.heads[task].predict_by_feat(output, metas)
            for sample, res in zip(data_samples, results):
                sample.set_pred(task, res['pred'])
                if 'prob' in res:
                    sample.set_field(PixelData(data=res['prob']),
                                     f'pred_{task}_prob', dtype=PixelData)
        return data_samples


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
    fields = batch_fields(data_samples, inputs.device)
    region_ids = fields.get('region_ids')
    size = inputs.shape[-2:]
    return ViewBundle(
        inputs=inputs, shared_feats=tuple(feats),
        task_feats={t: o.feat for t, o in outputs.items()},
        preds={t: o.pred for t, o in outputs.items()},
        targets=targets, label_flags=label_flags, region_ids=region_ids,
        outputs=dict(outputs),
        strides={t: o.stride for t, o in outputs.items()},
        shared_strides=tuple(feature_stride(size, f) for f in feats),
        fields=fields)


def batch_fields(data_samples, device) -> Dict[str, torch.Tensor]:
    """``{name: B x C x h x w}`` of the declared per-pixel fields every
    sample of the batch carries (the preprocessor padded them)."""
    names = present_fields(data_samples[0].keys()) if data_samples else []
    out = {}
    for name in names:
        maps = [s.get(name) for s in data_samples]
        if all(m is not None for m in maps):
            out[name] = torch.stack([m.data for m in maps]).to(device)
    return out
