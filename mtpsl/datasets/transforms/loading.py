"""Loading of images and per-task maps stored as ``.npy`` files."""
from __future__ import annotations

from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mtpsl.registry import TRANSFORMS
from mtpsl.structures import FIELDS, register_field, task_spec


def load_npy(path: str) -> np.ndarray:
    """``np.load`` without pickles, with errors that name the file."""
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f'file not found: {path}') from None
    except (ValueError, OSError, EOFError) as e:
        raise ValueError(f'corrupt or unreadable .npy file {path}: {e}') \
            from None


def _as_hwc(arr: np.ndarray, channels: int, path: str) -> np.ndarray:
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[-1] != channels:
        raise ValueError(f'{path}: expected shape HxWx{channels}'
                         f'{" or HxW" if channels == 1 else ""}, got '
                         f'{arr.shape}')
    return arr


def load_field(key: str, path: str, hw) -> np.ndarray:
    """A declared per-pixel field from ``path`` (an undeclared key is
    declared a region id map, what extra maps always were): one channel
    as ``h x w``, more as ``h x w x C``, the kind's dtype, size checked
    against the image and the field's stride."""
    spec = FIELDS.get(key) or register_field(key, 'region_id')
    arr = _as_hwc(load_npy(path), spec.channels, path)
    want = (-(-int(hw[0]) // spec.stride), -(-int(hw[1]) // spec.stride))
    if arr.shape[:2] != want:
        raise ValueError(f'{path}: size {arr.shape[:2]} of field {key!r} '
                         f'does not fit its {tuple(hw)} image at stride '
                         f'{spec.stride} (expected {want})')
    dtype = spec.field_kind.dtype
    if dtype == 'float32' and not np.isfinite(arr).all():
        raise ValueError(f'{path}: field {key!r} contains NaN/Inf')
    arr = arr.astype(dtype)
    return arr[..., 0] if spec.channels == 1 else arr


def _finite_or_invalid(arr: np.ndarray, path: str, strict: bool
                       ) -> tuple[np.ndarray, int]:
    """Mark non-finite pixels invalid (0 in every channel); count them."""
    bad = ~np.isfinite(arr).all(axis=-1)
    n = int(bad.sum())
    if n and strict:
        raise ValueError(f'{path}: {n} pixels are NaN/Inf')
    if n:
        arr = arr.copy()
        arr[bad] = 0.0
    return arr, n


@TRANSFORMS.register_module()
class LoadMultiTaskNpy(BaseTransform):
    """Load the image and the GT maps of the tasks labelled for it.

    Required Keys: img_path, gt_paths ({task: path}, labelled tasks only),
    extra_paths ({key: path}, optional).

    Added Keys: img (H x W x 3 float32), gt_maps ({task: H x W x C array};
    labels int64 with -1 = ignore, dense maps float32 with 0 = invalid),
    extra maps under their own key (declared fields, by their kind:
    ``mtpsl.structures.fields``; region ids H x W int64), num_nonfinite
    ({task: n}),
    img_shape, ori_shape.

    Args:
        num_classes: ``{task: C}`` for label tasks; labels outside [0, C)
            other than the ignore value -1 are an error naming the file.
        strict: NaN/Inf in depth or normals are an error instead of being
            counted and treated as invalid pixels.
    """

    def __init__(self, num_classes: Optional[dict] = None,
                 strict: bool = False) -> None:
        self.num_classes = dict(num_classes or {})
        self.strict = strict

    def _load_gt(self, task: str, path: str, hw) -> tuple[np.ndarray, int]:
        spec = task_spec(task)
        arr = _as_hwc(load_npy(path), spec.channels, path)
        if arr.shape[:2] != hw:
            raise ValueError(f'{path}: size {arr.shape[:2]} differs from its '
                             f'image {hw}')
        if spec.kind == 'label':
            if not np.isfinite(arr).all():
                raise ValueError(f'{path}: labels contain NaN/Inf')
            labels = arr[..., 0]
            if np.any(labels != np.round(labels)):
                raise ValueError(f'{path}: labels must be integers')
            labels = labels.astype(np.int64)
            num = self.num_classes.get(task)
            if num is not None:
                bad = (labels != spec.invalid) & ((labels < 0) |
                                                  (labels >= num))
                if bad.any():
                    raise ValueError(
                        f'{path}: label {int(labels[bad][0])} outside '
                        f'[0, {num}) and not the ignore value '
                        f'{int(spec.invalid)}')
            return labels[..., None], 0
        return _finite_or_invalid(arr.astype(np.float32), path, self.strict)

    def transform(self, results: dict) -> dict:
        """Load image, labelled GT and extra maps."""
        path = results['img_path']
        img = _as_hwc(load_npy(path), 3, path).astype(np.float32)
        if not np.isfinite(img).all():
            raise ValueError(f'{path}: image contains NaN/Inf')
        hw = img.shape[:2]
        results['img'] = img
        results['img_shape'] = hw
        results['ori_shape'] = hw
        results['gt_maps'] = {}
        results['num_nonfinite'] = {}
        for task, gt_path in results.get('gt_paths', {}).items():
            gt, n = self._load_gt(task, gt_path, hw)
            results['gt_maps'][task] = gt
            results['num_nonfinite'][task] = n
        for key, extra_path in results.get('extra_paths', {}).items():
            results[key] = load_field(key, extra_path, hw)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_classes={self.num_classes}, '
                f'strict={self.strict})')
