"""Producing HiTTs' offline pseudo supervision with a frozen stage-1 model
(Zhang et al., Sec. 3.3 and "Training Pipeline"): per training image, on the
UN-augmented image, pseudo labels of the tasks it is not labelled for and
the features ``F_i'`` with their mask ``M^f`` for every task.

Shared by ``tools/make_pseudo_labels.py`` and :class:`HiTTsPseudoLabelHook`.
Resumable (entries are written atomically and skipped when present) and
shardable (``shard=(i, n)``: every n-th image from i).
"""
from __future__ import annotations

import os
import time
from typing import Callable, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch

from mtpsl.datasets import pseudo_store as store
from mtpsl.models.hitts.pseudo import discover_labels
from mtpsl.regions.writer import Progress, shard_items

# infer(data) -> {task: dict(logits=B x K x H x W at input size, feat=F_i',
# mask=M^f, centres=K x D or None)} for one collated, preprocessed batch
Infer = Callable[[dict], Dict[str, Dict[str, torch.Tensor]]]


def crop_to(x: torch.Tensor, size: Sequence[int], stride: int = 1
            ) -> torch.Tensor:
    """The part of a (padded) map that covers an image of ``size``."""
    h = -(-int(size[0]) // stride)
    w = -(-int(size[1]) // stride)
    return x[..., :h, :w]


def entry_arrays(outputs: Mapping[str, Mapping[str, torch.Tensor]],
                 label_flags: Mapping[str, bool], tau: Mapping[str, float],
                 img_shape: Sequence[int], stride: int,
                 dtype: str = 'float16') -> Dict[str, np.ndarray]:
    """One image's arrays (batch of one): ``pseudo_<task>`` for the tasks
    NOT labelled, ``feat_<task>`` and ``conf_<task>`` for all."""
    arrays = {}
    for task, out in outputs.items():
        if not label_flags.get(task, False):
            if task not in tau:
                raise KeyError(f'pseudo supervision: no tau for task '
                               f'{task!r} (tau: {dict(tau)})')
            label, _ = discover_labels(task, out['logits'], tau[task],
                                       out.get('centres'))
            label = crop_to(label, img_shape)[0].cpu().numpy()
            arrays[f'pseudo_{task}'] = (label.astype(np.int16)
                                        if label.dtype.kind in 'iu'
                                        else label.astype(np.float32))
        if 'feat' in out:  # not for naive pseudo labels (no features)
            arrays[f'feat_{task}'] = crop_to(out['feat'], img_shape, stride)[
                0].float().cpu().numpy().astype(dtype)
            arrays[f'conf_{task}'] = crop_to(out['mask'], img_shape, stride)[
                0].float().cpu().numpy().astype(dtype)
    return arrays


@torch.no_grad()
def generate(dataset, infer: Infer, out_dir: str, tau: Mapping[str, float],
             stride: int, shard: Tuple[int, int] = (0, 1),
             dtype: str = 'float16', progress: bool = True,
             collate: Optional[Callable] = None) -> dict:
    """Write the entries of this shard's images that are missing.

    ``dataset`` yields un-augmented, packed samples (``dataset[i]``) and
    ``get_data_info(i)`` with ``img_id`` and ``label_flags``.
    """
    from mmengine.dataset import pseudo_collate
    collate = collate or pseudo_collate
    indices = shard_items(list(range(len(dataset))), *shard)
    prefix = f'[shard {shard[0]}/{shard[1]}] ' if shard[1] > 1 else ''
    bar = Progress(len(indices), prefix, enabled=progress)
    computed, kept = 0, {}
    for i in indices:
        info = dataset.get_data_info(i)
        img_id = str(info['img_id'])
        if not store.missing_ids(out_dir, [img_id]):
            bar.step(None)
            continue
        t0 = time.perf_counter()
        sample = dataset[i]
        outputs = infer(collate([sample]))
        shape = sample['data_samples'].metainfo.get(
            'img_shape', sample['inputs'].shape[-2:])
        arrays = entry_arrays(outputs, info['label_flags'], tau, shape,
                              stride, dtype)
        for key, value in arrays.items():
            if key.startswith('pseudo_'):
                task = key[len('pseudo_'):]
                invalid = value == (-1 if value.dtype.kind in 'iu' else 0)
                if value.ndim == 3 and value.shape[0] > 1:
                    invalid = invalid.all(axis=0)
                n, k = kept.get(task, (0, 0))
                kept[task] = (n + invalid.size, k + int((~invalid).sum()))
        store.write_entry(out_dir, img_id, arrays)
        computed += 1
        bar.step(time.perf_counter() - t0)
    return dict(shard=f'{shard[0]}/{shard[1]}', images=len(indices),
                computed=computed, skipped=len(indices) - computed,
                kept_share={t: k / n for t, (n, k) in kept.items() if n})


def model_infer(model, with_features: bool = True) -> Infer:
    """An :data:`Infer` of a built multi-task model (eval mode).

    Logits are brought to the input size (bilinear, as the prediction);
    ``centres`` is the head's ``bin_centres`` extra (binned heads); the
    feature is the task output's ``feat`` and the mask the joint stage's
    ``mask`` (HiTTs). ``with_features=False`` (naive pseudo labels from a
    plain model, Table 5's L_p*) saves no features.
    """
    import torch.nn.functional as F

    def infer(data: dict) -> Dict[str, Dict[str, torch.Tensor]]:
        data = model.data_preprocessor(data, False)
        inputs = data['inputs']
        outputs = model.forward_tasks(inputs)
        result = {}
        for task, out in outputs.items():
            logits = out.logits
            if tuple(logits.shape[-2:]) != tuple(inputs.shape[-2:]):
                logits = F.interpolate(logits, size=inputs.shape[-2:],
                                       mode='bilinear', align_corners=False)
            entry = dict(logits=logits,
                         centres=out.extras.get('bin_centres'))
            if with_features:
                if 'mask' not in out.extras:
                    raise KeyError(
                        f'pseudo supervision: the output of {task!r} has no '
                        "'mask' (M^f): the stage-1 model needs the HiTTs "
                        'joint stage, or pass --no-features')
                entry.update(feat=out.feat, mask=out.extras['mask'])
            result[task] = entry
        return result

    return infer


def stage1_dataset(cfg):
    """The stage-1 config's TRAINING images (its label regime) through its
    un-augmented TEST pipeline (the paper labels clean images)."""
    from mtpsl.registry import DATASETS
    ds_cfg = cfg.train_dataloader.dataset.copy()
    ds_cfg['pipeline'] = cfg.test_dataloader.dataset.pipeline
    return DATASETS.build(ds_cfg)


def build_stage1(config, checkpoint: str, device: str = 'cpu',
                 trust_checkpoint: bool = False):
    """``(cfg, frozen model in eval mode, checkpoint sha256)``; a training
    checkpoint (pickled objects besides tensors) needs
    ``trust_checkpoint`` (see :func:`mtpsl.apis.inference.load_weights`)."""
    from mmengine.registry import init_default_scope

    from mtpsl.apis.config import load_config
    from mtpsl.apis.inference import load_weights
    from mtpsl.registry import MODELS
    cfg = load_config(config) if isinstance(config, str) else config
    init_default_scope(cfg.get('default_scope', 'mtpsl'))
    model = MODELS.build(cfg.model)
    missing, unexpected = model.load_state_dict(
        load_weights(checkpoint, trust_checkpoint), strict=False)
    if missing or unexpected:
        raise ValueError(f'{checkpoint} does not fit the stage-1 model: '
                         f'missing {missing[:5]}, unexpected '
                         f'{unexpected[:5]}')
    model.to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return cfg, model, store.file_sha256(checkpoint)


@torch.no_grad()
def feature_stride_of(model, device: str = 'cpu', size: int = 256) -> int:
    """Image pixels per pixel of the task features ``F_i'`` (the stride the
    features are saved at), from one forward of a blank image."""
    outputs = model.forward_tasks(torch.zeros(1, 3, size, size,
                                              device=device))
    strides = {t: o.stride for t, o in outputs.items()}
    values = set(strides.values())
    if len(values) != 1 or int(next(iter(values))) != next(iter(values)):
        raise ValueError(f'pseudo supervision: task features have strides '
                         f'{strides}; one integer stride is needed')
    return int(values.pop())


def expected_manifest(dataset, checkpoint_sha256: str,
                      tau: Mapping[str, float], stride, features: bool,
                      dtype: str = 'float16') -> dict:
    """The manifest of pseudo supervision for ``dataset``'s regime."""
    entries = [dataset.get_data_info(i) for i in range(len(dataset))]
    return store.make_manifest(
        checkpoint_sha256=checkpoint_sha256,
        label_regime=dataset.label_regime_cfg,
        label_flags=store.flags_digest(entries), tau=tau,
        stride=stride if features else None,
        dtype=dtype if features else None, tasks=dataset.tasks)


def produce(config, checkpoint: str, out_dir: str, tau: Mapping[str, float],
            shard: Tuple[int, int] = (0, 1), overwrite: bool = False,
            features: bool = True, device: str = 'cpu',
            progress: bool = True, trust_checkpoint: bool = False) -> dict:
    """Check (or write) the manifest, then make this shard's entries."""
    cfg, model, sha = build_stage1(config, checkpoint, device,
                                   trust_checkpoint)
    dataset = stage1_dataset(cfg)
    stage = getattr(model, 'joint_stage', None)
    if features and stage is None:
        raise ValueError('pseudo supervision: the stage-1 model has no joint '
                         'stage, so no features F_i\' to save; use the HiTTs '
                         'stage-1 config, or features=False (--no-features) '
                         'for naive pseudo labels')
    stride = feature_stride_of(model, device)
    missing_tau = [t for t in dataset.tasks if t not in tau]
    if missing_tau:
        raise KeyError(f'pseudo supervision: no tau for {missing_tau} '
                       f'(tau: {dict(tau)})')
    manifest = expected_manifest(dataset, sha, tau, stride, features)
    if overwrite:
        # this shard's entries only: other shards remove their own
        for i in shard_items(list(range(len(dataset))), *shard):
            path = store.entry_path(out_dir,
                                    str(dataset.get_data_info(i)['img_id']))
            if os.path.isfile(path):
                os.remove(path)
        store.write_manifest(out_dir, manifest)
    elif not store.check_manifest(out_dir, manifest):
        store.write_manifest(out_dir, manifest)
    summary = generate(dataset, model_infer(model, features), out_dir, tau,
                       stride, shard, progress=progress)
    summary['out_dir'] = out_dir
    return summary
