"""Packing of transformed results into model inputs and data samples."""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData

from mtpsl.registry import TRANSFORMS
from mtpsl.structures import (MultiTaskDataSample, field_spec,
                              present_fields, register_field)


def pack_field(arr: np.ndarray) -> torch.Tensor:
    """An ``h x w`` or ``h x w x C`` field as a ``C x h x w`` tensor."""
    arr = np.asarray(arr)
    if arr.ndim == 2:
        arr = arr[..., None]
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


@TRANSFORMS.register_module()
class PackMultiTaskInputs(BaseTransform):
    """Build ``inputs`` (3 x H x W float tensor) and a MultiTaskDataSample.

    Required Keys: img, gt_maps, label_flags.

    Added Keys: inputs, data_samples (``gt_<task>`` fields as C x H x W
    tensors, every declared per-pixel field present (``region_ids``,
    pseudo labels, features; ``mtpsl.structures.fields``) as a C x h x w
    field of its name, and the metainfo keys listed in ``meta_keys``).

    Args:
        fields: declared fields to pack (None: every one present).
        meta_keys: results keys copied into the metainfo.
    """

    def __init__(self, fields: Optional[Sequence[str]] = None,
                 meta_keys: Sequence[str] = ('img_path', 'img_id',
                                             'ori_shape', 'img_shape',
                                             'tasks', 'label_flags',
                                             'flip', 'scale_factor')) -> None:
        self.fields = None if fields is None else tuple(fields)
        self.meta_keys = tuple(meta_keys)

    def field_names(self, results: dict) -> List[str]:
        """The declared fields of ``results`` this packer packs."""
        if self.fields is None:
            return present_fields(results.keys())
        return [k for k in self.fields if k in results and field_spec(k)]

    def transform(self, results: dict) -> dict:
        """Pack one sample."""
        img = np.ascontiguousarray(results['img'].transpose(2, 0, 1))
        sample = MultiTaskDataSample()
        for task, gt in results.get('gt_maps', {}).items():
            sample.set_gt(task, torch.from_numpy(
                np.ascontiguousarray(gt.transpose(2, 0, 1))))
        for key in self.field_names(results):
            sample.set_field(PixelData(data=pack_field(results[key])), key,
                             dtype=PixelData)
        sample.set_metainfo({k: results[k] for k in self.meta_keys
                             if k in results})
        return dict(inputs=torch.from_numpy(img), data_samples=sample)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(fields={self.fields}, '
                f'meta_keys={self.meta_keys})')


@TRANSFORMS.register_module()
class DeclareFields(BaseTransform):
    """Declare per-pixel fields in a config (one entry each); no-op on data.

    Example: ``dict(type='DeclareFields', fields=dict(pseudo_depth='depth',
    feat_normal=dict(kind='feature', channels=64, stride=8)))``. Put it
    first in a pipeline: every later transform, the packer, the data
    preprocessor and the method bundle then handle the fields by their
    kind. Declaring again (each dataloader worker) is harmless.

    Args:
        fields: ``{name: kind}`` or ``{name: dict(kind=, channels=,
            stride=)}`` (kinds: ``mtpsl.structures.FIELD_KINDS``).
    """

    def __init__(self, fields: dict) -> None:
        if not isinstance(fields, dict) or not fields:
            raise ValueError(f'DeclareFields: fields must be a non-empty '
                             f'dict, got {fields!r}')
        self.specs = {}
        for name, spec in fields.items():
            spec = dict(kind=spec) if isinstance(spec, str) else dict(spec)
            self.specs[name] = spec
        self._declare()

    def _declare(self) -> None:
        for name, spec in self.specs.items():
            register_field(name, **spec)

    def transform(self, results: dict) -> dict:
        """Declare again (a spawned worker has a fresh table)."""
        self._declare()
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(fields={self.specs})'

