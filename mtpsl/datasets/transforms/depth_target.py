"""Change of the depth target: inverse depth (the XTasC target)."""
from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform

from mtpsl.registry import TRANSFORMS
from mtpsl.structures import field_spec, present_fields


def inverse_depth(depth: np.ndarray) -> np.ndarray:
    """1 / d where d > 0; every other pixel 0 (the invalid value)."""
    depth = np.asarray(depth, dtype=np.float32)
    out = np.zeros_like(depth)
    valid = depth > 0
    out[valid] = 1.0 / depth[valid]
    return out


@TRANSFORMS.register_module()
class InverseDepth(BaseTransform):
    """Replace the depth target by its inverse, keeping 0 as invalid.

    Put it AFTER the geometric transforms and before packing: a random
    scale-crop divides depth by the zoom s, and inverting afterwards gives
    s / d, the right inverse depth of the zoomed view (inverting first would
    make the crop divide an inverse depth by s, which is wrong).

    Required Keys: gt_maps (without ``depth``, e.g. unlabelled: no change).

    Modified Keys: gt_maps['depth'] (1 / d on pixels with d > 0; pixels
    with d == 0 stay 0), and every declared field of kind ``depth`` (a
    pseudo depth is stored in GT units and changes target with the GT).

    Added Keys: depth_target (``'inverse_depth'``).
    """

    def transform(self, results: dict) -> dict:
        """Invert the depth map if the image has one."""
        gt_maps = results.get('gt_maps', {})
        if 'depth' in gt_maps:
            gt_maps['depth'] = inverse_depth(gt_maps['depth'])
        for key in present_fields(results.keys()):
            if field_spec(key).kind == 'depth':
                results[key] = inverse_depth(results[key])
        results['depth_target'] = 'inverse_depth'
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'
