"""The multi-task data sample: per-task ground truth, predictions, label flags."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import torch
from mmengine.structures import BaseDataElement, PixelData

from .tasks import task_spec


class MultiTaskDataSample(BaseDataElement):
    """One image's annotations and predictions for several dense tasks.

    Data fields are ``gt_<task>`` and ``pred_<task>`` (``PixelData`` whose
    ``data`` is a C x H x W tensor). The metainfo ``label_flags`` maps every
    task of the dataset to whether this image is labelled for it; a task that
    is not labelled has no ``gt_<task>`` field at all.
    """

    # ground truth -------------------------------------------------------
    def set_gt(self, task: str, data: torch.Tensor) -> None:
        """Store the GT map of ``task`` (H x W or C x H x W)."""
        task_spec(task)
        if data.dim() == 2:
            data = data[None]
        self.set_field(PixelData(data=data), f'gt_{task}', dtype=PixelData)

    def gt(self, task: str) -> Optional[torch.Tensor]:
        """The GT map of ``task`` as C x H x W, or None if unlabelled."""
        field = self.get(f'gt_{task}')
        return None if field is None else field.data

    # predictions ----------------------------------------------------------
    def set_pred(self, task: str, data: torch.Tensor) -> None:
        """Store the prediction of ``task`` (C x H x W)."""
        task_spec(task)
        self.set_field(PixelData(data=data), f'pred_{task}', dtype=PixelData)

    def pred(self, task: str) -> Optional[torch.Tensor]:
        """The prediction of ``task`` as C x H x W, or None."""
        field = self.get(f'pred_{task}')
        return None if field is None else field.data

    # label flags -----------------------------------------------------------
    # (``label_flags`` is a metainfo key, so it is not shadowed by a property)
    def labelled_tasks(self) -> List[str]:
        """The tasks this image is labelled for."""
        flags: Dict[str, bool] = self.metainfo.get('label_flags', {})
        return [t for t, on in flags.items() if on]

    def is_labelled(self, task: str) -> bool:
        """Whether this image carries GT for ``task``."""
        flags: Dict[str, bool] = self.metainfo.get('label_flags', {})
        return bool(flags.get(task, False)) and self.gt(task) is not None


def stack_targets(data_samples: Sequence[MultiTaskDataSample], task: str,
                  device: Optional[torch.device] = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch the GT of ``task``; unlabelled images get the invalid value.

    Returns the B x C x H x W targets and a bool tensor (B,) saying which
    images are labelled for the task. GT maps must already share one size
    (the data preprocessor pads them).
    """
    spec = task_spec(task)
    present: List[Optional[torch.Tensor]] = [s.gt(task) if s.is_labelled(task)
                                             else None for s in data_samples]
    ref = next((g for g in present if g is not None), None)
    flags = torch.tensor([g is not None for g in present], dtype=torch.bool,
                         device=device)
    if ref is None:
        h, w = data_samples[0].metainfo['batch_input_shape']
        dtype = torch.long if spec.kind == 'label' else torch.float32
        out = torch.full((len(data_samples), spec.channels, h, w),
                         spec.invalid, dtype=dtype, device=device)
        return out, flags
    filler = torch.full_like(ref, spec.invalid)
    out = torch.stack([g if g is not None else filler for g in present])
    return (out.to(device) if device is not None else out), flags
