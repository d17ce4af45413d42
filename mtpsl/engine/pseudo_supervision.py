"""Producing HiTTs' offline pseudo supervision with a frozen stage-1 model
(Zhang et al., Sec. 3.3 and "Training Pipeline"): per training image, on the
UN-augmented image, pseudo labels of the tasks it is not labelled for and
the features ``F_i'`` with their mask ``M^f`` for every task.

Shared by ``tools/make_pseudo_labels.py`` and :class:`HiTTsPseudoLabelHook`.
Resumable (entries are written atomically and skipped when present) and
shardable (``shard=(i, n)``: every n-th image from i).
"""
from __future__ import annotations

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
