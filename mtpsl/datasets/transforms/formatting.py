"""Packing of transformed results into model inputs and data samples."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData

from mtpsl.registry import TRANSFORMS
from mtpsl.structures import MultiTaskDataSample


@TRANSFORMS.register_module()
class PackMultiTaskInputs(BaseTransform):
    """Build ``inputs`` (3 x H x W float tensor) and a MultiTaskDataSample.

    Required Keys: img, gt_maps, label_flags.

    Added Keys: inputs, data_samples (``gt_<task>`` fields as C x H x W
    tensors, extra maps such as ``region_ids`` as 1 x H x W fields, and the
    metainfo keys listed in ``meta_keys``).
    """

    def __init__(self, extra_keys: Sequence[str] = ('region_ids',),
                 meta_keys: Sequence[str] = ('img_path', 'img_id',
                                             'ori_shape', 'img_shape',
                                             'tasks', 'label_flags',
                                             'flip', 'scale_factor')) -> None:
        self.extra_keys = tuple(extra_keys)
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        """Pack one sample."""
        img = np.ascontiguousarray(results['img'].transpose(2, 0, 1))
        sample = MultiTaskDataSample()
        for task, gt in results.get('gt_maps', {}).items():
            sample.set_gt(task, torch.from_numpy(
                np.ascontiguousarray(gt.transpose(2, 0, 1))))
        for key in self.extra_keys:
            if key in results:
                sample.set_field(PixelData(data=torch.from_numpy(
                    np.ascontiguousarray(results[key]))[None]), key,
                    dtype=PixelData)
        sample.set_metainfo({k: results[k] for k in self.meta_keys
                             if k in results})
        return dict(inputs=torch.from_numpy(img), data_samples=sample)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(extra_keys={self.extra_keys}, '
                f'meta_keys={self.meta_keys})')
