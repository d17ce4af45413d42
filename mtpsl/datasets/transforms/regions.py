"""Loading (or computing) the region id map of an image."""
from __future__ import annotations

from typing import Union

import numpy as np
from mmcv.transforms import BaseTransform

from mtpsl.registry import REGION_SOURCES, TRANSFORMS
from mtpsl.structures import FIELDS, register_field


@TRANSFORMS.register_module()
class LoadRegionMap(BaseTransform):
    """Put the image's region id map into ``results[key]``.

    Place it right after the image is loaded and before any geometric
    transform: the map must match the image as stored, and RandomScaleCrop,
    Resize and RandomFlip then move it (nearest sampling) as a declared
    field of kind ``region_id`` (``region_ids`` is built in; another
    ``key`` is declared so).

    Required Keys: img, img_path, img_id.

    Added Keys: ``key`` (H x W int64, 0 = no region), region_origin (the
    file the map was read from, or what it was computed from).

    Args:
        source: a region source or its config, e.g.
            ``dict(type='sam', root='data/nyuv2/train/sam')``,
            ``dict(type='superpixels', method='slic', n_segments=200)``,
            ``dict(type='patches', grid=(4, 4))``, ``dict(type='oracle')``.
        key: results key to write.
    """

    def __init__(self, source: Union[dict, object],
                 key: str = 'region_ids') -> None:
        self.source = (REGION_SOURCES.build(source)
                       if isinstance(source, dict) else source)
        self.key = key
        if key not in FIELDS:
            register_field(key, 'region_id')

    def transform(self, results: dict) -> dict:
        """Load or compute the map and check it matches the image."""
        ids, origin = self.source(results)
        hw = tuple(results['img'].shape[:2])
        if tuple(ids.shape) != hw:
            raise ValueError(f'{origin}: region map size {tuple(ids.shape)} '
                             f'differs from its image {hw} '
                             f'({results["img_path"]})')
        results[self.key] = np.asarray(ids, dtype=np.int64)
        results['region_origin'] = origin
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(source={self.source!r}, '
                f'key={self.key!r})')
