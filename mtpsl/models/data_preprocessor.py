"""Normalise and batch images; pad every task's GT with its invalid value."""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from mmengine.structures import PixelData

from mtpsl.registry import MODELS
from mtpsl.structures import field_spec, present_fields, task_spec


@MODELS.register_module()
class MultiTaskDataPreprocessor(BaseDataPreprocessor):
    """Batch a list of C x H x W images and their multi-task samples.

    Args:
        mean, std: per-channel normalisation in the units of the stored image
            (None keeps the image as it is: the MTPSL line feeds NYUv2's
            [0, 1] images unnormalised).
        size_divisor: pad height and width up to a multiple of it (SegNet's
            five poolings want 32). In training, GT maps are padded too,
            and every declared per-pixel field (``region_ids`` with 0, no
            region; a stride-``s`` field to ``ceil(H / s) x ceil(W / s)``),
            each with its kind's pad value (``mtpsl.structures.fields``).
        pad_value: value for padded image pixels. GT maps are padded with
            their task's invalid value (-1 for labels, 0 for depth/normals).
    """

    def __init__(self, mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 size_divisor: int = 1, pad_value: float = 0.0,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking)
        if (mean is None) != (std is None):
            raise ValueError('MultiTaskDataPreprocessor: give both mean and '
                             f'std or neither (mean={mean}, std={std})')
        self._normalize = mean is not None
        if self._normalize:
            if any(s <= 0 for s in std):
                raise ValueError(f'std must be positive, got {std}')
            self.register_buffer('mean', torch.tensor(mean).view(-1, 1, 1),
                                 False)
            self.register_buffer('std', torch.tensor(std).view(-1, 1, 1),
                                 False)
        self.size_divisor = int(size_divisor)
        self.pad_value = pad_value

    def forward(self, data: dict, training: bool = False) -> dict:
        """Move to device, normalise, pad and stack; pad GT in the samples.

        A second view (``inputs_view2``, from ``PackTwoViewInputs``) is
        batched the same way, and the GT of each sample's ``view2`` sample
        padded to its size; the output then has ``inputs_view2`` too.
        """
        data = self.cast_data(data)
        samples = data.get('data_samples')
        batch = self._stack(data['inputs'])
        self._update_samples(samples, batch.shape[-2:], training)
        out = dict(inputs=batch, data_samples=samples)
        if data.get('inputs_view2') is not None:
            out['inputs_view2'] = self._stack(data['inputs_view2'])
            self._update_samples(
                [s.get('view2') for s in samples or ()
                 if s.get('view2') is not None],
                out['inputs_view2'].shape[-2:], training)
        return out

    def _stack(self, inputs) -> torch.Tensor:
        """Normalise, pad to a common multiple of ``size_divisor``, stack."""
        if isinstance(inputs, torch.Tensor) and inputs.dim() == 3:
            inputs = [inputs]
        inputs = [img.float() for img in inputs]
        if self._normalize:
            inputs = [(img - self.mean) / self.std for img in inputs]
        h = max(img.shape[-2] for img in inputs)
        w = max(img.shape[-1] for img in inputs)
        d = self.size_divisor
        h, w = math.ceil(h / d) * d, math.ceil(w / d) * d
        return torch.stack([
            F.pad(img, (0, w - img.shape[-1], 0, h - img.shape[-2]),
                  value=self.pad_value) for img in inputs])

    def _update_samples(self, samples, size, training: bool) -> None:
        if samples is None:
            return
        h, w = size
        for sample in samples:
            sample.set_metainfo(dict(batch_input_shape=(h, w)))
            # Only the losses need batch-sized GT; metrics compare the
            # unpadded GT with predictions cropped back to the image.
            if training:
                self._pad_gt(sample, h, w)

    @staticmethod
    def _pad_gt(sample, h: int, w: int) -> None:
        for key in list(sample.keys()):
            if key.startswith('gt_'):
                task = key[3:]
                gt = sample.gt(task)
                ph, pw = h - gt.shape[-2], w - gt.shape[-1]
                if ph or pw:
                    sample.set_gt(task, F.pad(gt, (0, pw, 0, ph),
                                              value=task_spec(task).invalid))
        for key in present_fields(sample.keys()):
            spec = field_spec(key)
            field = sample.get(key)
            rows, cols = math.ceil(h / spec.stride), math.ceil(w / spec.stride)
            ph, pw = rows - field.shape[-2], cols - field.shape[-1]
            if ph or pw:
                padded = F.pad(field.data, (0, pw, 0, ph),
                               value=spec.field_kind.pad_value)
                sample.set_field(PixelData(data=padded), key,
                                 dtype=PixelData)
