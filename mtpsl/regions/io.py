"""Reading and writing region id maps and the images they belong to.

A region map is H x W, 0 = no region, ids >= 1. On disk it is uint16, as
``.npy`` or as a 16-bit single-channel ``.png``; in memory int64.
"""
from __future__ import annotations

import os
import os.path as osp
import tempfile

import cv2
import numpy as np

from mtpsl.utils.safe_load import load_npy_safely

from .merge import MAX_REGIONS

REGION_SUFFIXES = ('.npy', '.png')


def _check_suffix(path: str) -> str:
    suffix = osp.splitext(path)[1].lower()
    if suffix not in REGION_SUFFIXES:
        raise ValueError(f'{path}: region maps are '
                         f'{" or ".join(REGION_SUFFIXES)} files, not '
                         f'{suffix or "(no suffix)"!r}')
    return suffix


def encode_region_map(ids: np.ndarray, suffix: str) -> bytes:
    """The bytes of ``ids`` saved as uint16 ``.npy`` or ``.png``."""
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise ValueError(f'a region map is H x W, got shape {ids.shape}')
    if ids.size and (ids.min() < 0 or ids.max() > MAX_REGIONS):
        raise ValueError(f'region ids must be in [0, {MAX_REGIONS}], got '
                         f'[{ids.min()}, {ids.max()}]')
    ids = np.ascontiguousarray(ids, dtype=np.uint16)
    if suffix == '.png':
        ok, buf = cv2.imencode('.png', ids)
        if not ok:
            raise ValueError('OpenCV could not encode the region map as PNG')
        return buf.tobytes()
    import io
    out = io.BytesIO()
    np.save(out, ids, allow_pickle=False)
    return out.getvalue()


def write_region_map(path: str, ids: np.ndarray) -> None:
    """Write atomically: a reader sees the old file, or the whole new one."""
    data = encode_region_map(ids, _check_suffix(path))
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.',
                               suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.unlink(tmp)
        raise


def read_region_map(path: str) -> np.ndarray:
    """An H x W int64 region map (``.npy`` / ``.png``); errors name the file."""
    suffix = _check_suffix(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'region map not found: {path}')
    if suffix == '.png':
        arr = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if arr is None:
            raise ValueError(f'corrupt or unreadable region map {path}')
    else:
        arr = load_npy_safely(path, 'region map')
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    elif (suffix == '.png' and arr.ndim == 3 and arr.shape[-1] in (3, 4)
          and (arr[..., 1:3] == arr[..., :1]).all()):
        arr = arr[..., 0]   # a gray map saved as RGB(A): gray value = id
    if arr.ndim != 2:
        raise ValueError(f'{path}: a region map is H x W, got shape '
                         f'{arr.shape}')
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f'{path}: region ids must be integers')
    signed = not np.issubdtype(arr.dtype, np.unsignedinteger)
    arr = arr.astype(np.int64)
    if signed and arr.size and arr.min() < 0:
        raise ValueError(f'{path}: negative region id {arr.min()}')
    return arr


def read_image_rgb(path: str) -> np.ndarray:
    """An image (``.npy`` float in [0, 1] or uint8, jpg, png) as uint8 RGB."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'image not found: {path}')
    if path.lower().endswith('.npy'):
        img = np.load(path, allow_pickle=False)
        if img.dtype != np.uint8:
            img = (np.clip(img.astype(np.float32), 0, 1) * 255 + 0.5
                   ).astype(np.uint8)
    else:
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f'corrupt or unreadable image file {path}')
        img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if img.ndim != 3 or img.shape[-1] != 3:
        raise ValueError(f'{path}: expected an H x W x 3 image, got '
                         f'{img.shape}')
    return np.ascontiguousarray(img)
