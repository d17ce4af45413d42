"""Loading HiTTs' offline pseudo supervision as per-pixel fields."""
from __future__ import annotations

from typing import Mapping, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mtpsl.registry import TRANSFORMS
from mtpsl.structures import register_field, task_spec

from ..pseudo_store import read_entry


def pseudo_field_kind(task: str) -> str:
    """Field kind of the pseudo label of ``task`` (that of its GT)."""
    return 'label' if task_spec(task).kind == 'label' else task


@TRANSFORMS.register_module()
class LoadPseudoSupervision(BaseTransform):
    """Add an image's pseudo labels, saved features and masks as fields.

    Put it right after the image and GT are loaded, before any geometric
    transform: the fields then move exactly as the GT (labels nearest,
    pseudo depth divided by the zoom, pseudo normals' x negated by a flip,
    features bilinear at their stride). A task the image is labelled for
    has no stored pseudo label: its field is all invalid.

    Required Keys: img, img_id.

    Added Keys: ``pseudo_<task>`` (H x W labels / depth, H x W x 3
    normals), and with ``features``: ``feat_<task>`` (h x w x C at
    ``stride``), ``conf_<task>`` (h x w).

    Args:
        pseudo_dir: the folder written by ``tools/make_pseudo_labels.py`` or
            :class:`~mtpsl.engine.hooks.HiTTsPseudoLabelHook`.
        tasks: the tasks of the model.
        features: load ``feat_*`` / ``conf_*`` too (False: naive L_p*).
        feat_channels: C of the saved features (one int, or per task).
        stride: stride of the saved features (the joint stage's).
    """

    def __init__(self, pseudo_dir: str, tasks: Sequence[str],
                 features: bool = True,
                 feat_channels: Union[int, Mapping[str, int]] = 64,
                 stride: int = 4) -> None:
        self.pseudo_dir = pseudo_dir
        self.tasks = tuple(tasks)
        self.features = bool(features)
        self.stride = int(stride)
        self.feat_channels = ({t: int(feat_channels) for t in self.tasks}
                              if isinstance(feat_channels, int)
                              else {t: int(feat_channels[t])
                                    for t in self.tasks})
        self._declare()

    def _declare(self) -> None:
        for task in self.tasks:
            register_field(f'pseudo_{task}', pseudo_field_kind(task),
                           task_spec(task).channels)
            if self.features:
                register_field(f'feat_{task}', 'feature',
                               self.feat_channels[task], self.stride)
                register_field(f'conf_{task}', 'confidence', 1, self.stride)

    def transform(self, results: dict) -> dict:
        """Read ``pseudo_dir/{img_id}.npz`` into the fields."""
        self._declare()  # a spawned worker has a fresh field table
        entry = read_entry(self.pseudo_dir, str(results['img_id']))
        h, w = results['img'].shape[:2]
        fh, fw = -(-h // self.stride), -(-w // self.stride)
        for task in self.tasks:
            spec = task_spec(task)
            value = entry.get(f'pseudo_{task}')
            if value is None:
                value = np.full((spec.channels, h, w), spec.invalid)
            if value.shape[-2:] != (h, w):
                raise ValueError(
                    f'LoadPseudoSupervision: pseudo_{task} of image '
                    f'{results["img_id"]!r} is {value.shape[-2:]}, the image '
                    f'{(h, w)}: the folder was made for other images')
            value = (value[0].astype(np.int64) if spec.kind == 'label' else
                     np.ascontiguousarray(value.transpose(1, 2, 0)).astype(
                         np.float32))
            results[f'pseudo_{task}'] = (value[..., 0] if value.ndim == 3
                                         and value.shape[2] == 1 else value)
            if not self.features:
                continue
            feat = entry.get(f'feat_{task}')
            if feat is None or feat.shape != (self.feat_channels[task], fh,
                                              fw):
                raise ValueError(
                    f'LoadPseudoSupervision: feat_{task} of image '
                    f'{results["img_id"]!r} is '
                    f'{None if feat is None else feat.shape}, expected '
                    f'{(self.feat_channels[task], fh, fw)} (feat_channels, '
                    f'stride {self.stride})')
            results[f'feat_{task}'] = np.ascontiguousarray(
                feat.transpose(1, 2, 0)).astype(np.float32)
            results[f'conf_{task}'] = entry[f'conf_{task}'][0].astype(
                np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(pseudo_dir={self.pseudo_dir!r}, '
                f'tasks={self.tasks}, features={self.features}, '
                f'feat_channels={self.feat_channels}, stride={self.stride})')
