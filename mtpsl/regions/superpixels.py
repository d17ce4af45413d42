"""Superpixels (SLIC or Felzenszwalb, from scikit-image) as region maps,
computed on the fly or cached on disk."""
from __future__ import annotations

import json
import os
import os.path as osp
from typing import Any, Dict, Optional

import numpy as np

from mtpsl.registry import REGION_SOURCES

from .deps import import_optional
from .io import read_region_map, write_region_map
from .merge import relabel_raster_order
from .sources import RegionMap, RegionSource

METHOD_DEFAULTS: Dict[str, Dict[str, Any]] = dict(
    slic=dict(n_segments=200, compactness=10.0, sigma=1.0),
    felzenszwalb=dict(scale=100.0, sigma=0.8, min_size=50))
PARAMS_FILE = 'superpixels.json'


def _as_float_rgb(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    if img.dtype == np.uint8:
        return img.astype(np.float64) / 255.0
    return np.clip(img.astype(np.float64), 0.0, 1.0)


def compute_superpixels(img: np.ndarray, method: str = 'slic',
                        **params: Any) -> np.ndarray:
    """Superpixel ids 1..K (raster order of first pixel) of an RGB image."""
    if method not in METHOD_DEFAULTS:
        raise ValueError(f'superpixels: method must be one of '
                         f'{sorted(METHOD_DEFAULTS)}, got {method!r}')
    segmentation = import_optional('skimage.segmentation',
                                   'superpixel regions')
    rgb = _as_float_rgb(img)
    params = dict(METHOD_DEFAULTS[method], **params)
    if method == 'slic':
        labels = segmentation.slic(rgb, channel_axis=-1, start_label=1,
                                   **params)
    else:
        labels = segmentation.felzenszwalb(rgb, channel_axis=-1, **params) + 1
    return relabel_raster_order(labels)


@REGION_SOURCES.register_module(name=['superpixels', 'SuperpixelRegions'])
class SuperpixelRegions(RegionSource):
    """Superpixels of the (un-augmented) image; put the loading transform
    before any geometric one.

    Args:
        method: ``'slic'`` or ``'felzenszwalb'``.
        cache_dir: if set, maps are saved there as ``<img_id>.npy`` and read
            back next time; the parameters are recorded in
            ``superpixels.json`` and a cache made with others is refused.
        **params: parameters of ``skimage.segmentation.slic`` /
            ``felzenszwalb`` (defaults in ``METHOD_DEFAULTS``).
    """

    def __init__(self, method: str = 'slic', cache_dir: Optional[str] = None,
                 **params: Any) -> None:
        if method not in METHOD_DEFAULTS:
            raise ValueError(f'superpixels: method must be one of '
                             f'{sorted(METHOD_DEFAULTS)}, got {method!r}')
        self.method = method
        self.params = dict(METHOD_DEFAULTS[method], **params)
        self.cache_dir = cache_dir
        self._cache_checked = False

    def _check_cache(self) -> None:
        record = dict(method=self.method, params=self.params)
        path = osp.join(self.cache_dir, PARAMS_FILE)
        if osp.isfile(path):
            with open(path) as f:
                old = json.load(f)
            if old != json.loads(json.dumps(record)):
                raise ValueError(f'{path}: cache made with {old}, not '
                                 f'{record}; use another cache_dir')
        else:
            os.makedirs(self.cache_dir, exist_ok=True)
            tmp = f'{path}.{os.getpid()}.tmp'
            with open(tmp, 'w') as f:
                json.dump(record, f, sort_keys=True)
            os.replace(tmp, path)
        self._cache_checked = True

    def __call__(self, results: dict) -> RegionMap:
        if self.cache_dir is None:
            return (compute_superpixels(results['img'], self.method,
                                        **self.params),
                    f'superpixels of {results["img_path"]}')
        if not self._cache_checked:
            self._check_cache()
        path = osp.join(self.cache_dir, f'{results["img_id"]}.npy')
        if osp.isfile(path):
            return read_region_map(path), path
        ids = compute_superpixels(results['img'], self.method, **self.params)
        write_region_map(path, ids)
        return ids, path
