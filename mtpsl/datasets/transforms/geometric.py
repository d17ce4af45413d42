"""Geometric transforms that move the image and every task map together.

Per-map rules come from the field table (``mtpsl.structures.fields``) and
are applied in one place (:func:`warp_field`, :func:`flip_field`):

- image: bilinear (half-pixel centres, OpenCV ``INTER_LINEAR``);
- label maps (``sem_seg``, ``edge``, ``saliency``, ...), depth, region ids
  and confidence: nearest, so values are never blended and ``-1`` / ``0``
  invalid pixels stay exactly what they were; depth is divided by a zoom;
- normals: bilinear, then renormalised to unit length; the validity mask is
  resampled with nearest and every invalid pixel is set to exactly zero; a
  flip negates x;
- float feature maps: bilinear; at a stride ``s`` a map covers the image in
  ``s x s`` cells and is resampled at the centres of the output's cells.

Every GT map and every declared field present in ``results`` moves; a
transform's ``fields`` argument (None: all of them) may name a subset of
the declared fields.

Every transform composes its own map into ``results['homography_matrix']``
(3 x 3 float64, original image coordinates -> current image coordinates,
pixel ``(row i, col j)`` covering ``[j, j+1) x [i, i+1)``), the convention
of MMDetection 3.x, so the pixels of two augmented views can be related
(see ``two_view.py``).
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mtpsl.registry import TRANSFORMS
from mtpsl.structures import field_spec, present_fields, task_field

from .resample import Box, _bilinear, check_field, flip_field, warp_field


def _compose(results: dict, matrix: np.ndarray) -> None:
    prev = results.get('homography_matrix')
    if prev is None:
        prev = np.eye(3)
    results['homography_matrix'] = matrix @ prev


def moving_fields(results: dict, fields: Optional[Sequence[str]] = None
                  ) -> List[str]:
    """The declared fields of ``results`` a transform moves: all of them,
    or those of ``fields`` present."""
    if fields is None:
        return present_fields(results.keys())
    return [k for k in fields if k in results and field_spec(k)]


def warp_maps(results: dict, box: Box, out_hw: Tuple[int, int],
              fields: Optional[Sequence[str]] = None,
              depth_divisor: float = 1.0) -> None:
    """Crop ``box`` from the image, every GT map and every declared field
    (or those of ``fields``), resize to ``out_hw``.

    Depth-kind maps are divided by ``depth_divisor`` (invalid 0 stays 0).
    Updates ``img_shape`` and composes the map into ``homography_matrix``.
    """
    out_hw = (int(out_hw[0]), int(out_hw[1]))
    hw = results['img'].shape[:2]
    results['img'] = _bilinear(results['img'], box, out_hw)
    gt_maps = results.get('gt_maps', {})
    for task, gt in list(gt_maps.items()):
        # an unknown task is an error, never a silent guess
        gt_maps[task] = warp_field(gt, task_field(task), box, out_hw,
                                   depth_divisor)
    for key in moving_fields(results, fields):
        spec = field_spec(key)
        check_field(key, results[key], spec, hw)
        results[key] = warp_field(results[key], spec, box, out_hw,
                                  depth_divisor)
    x1, y1, x2, y2 = box
    sx, sy = out_hw[1] / (x2 - x1), out_hw[0] / (y2 - y1)
    _compose(results, np.array([[sx, 0., -x1 * sx], [0., sy, -y1 * sy],
                                [0., 0., 1.]]))
    results['img_shape'] = out_hw
    results['scale_factor'] = (sx, sy)


def _check_prob(owner: str, prob: float) -> float:
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f'{owner}: prob must be in [0, 1], got {prob!r}')
    return float(prob)


@TRANSFORMS.register_module()
class RandomScaleCrop(BaseTransform):
    """Zoom in as the MTPSL line does: crop H/s x W/s, resize back to H x W.

    ``s`` is drawn uniformly from ``scales``; the window size is
    ``(int(H / s), int(W / s))`` (truncated, as the MTPSL line does; exact
    at 288x384 for 1.0 / 1.2 / 1.5), its top-left corner uniform over all
    positions that fit. Depth is divided by ``s``: zooming in by ``s`` makes
    the scene look ``s`` times closer. With probability ``1 - prob`` the
    sample passes unchanged (recorded as ``s = 1``, full-image box).

    Required Keys: img, gt_maps (optional), declared fields (optional).

    Modified Keys: img, gt_maps, declared fields, img_shape.

    Added Keys: crop_box (int64 array ``[x1, y1, x2, y2]`` in the input's
    pixels, half-open), scale_factor (``(w, h)`` output / crop),
    zoom_scale (product of every ``s`` applied so far = the total factor
    depth was divided by), homography_matrix.

    Args:
        scales: zoom factors, each >= 1.
        prob: probability of zooming at all.
        fields: declared fields to move (None: every one present).
    """

    def __init__(self, scales: Sequence[float] = (1.0, 1.2, 1.5),
                 prob: float = 1.0,
                 fields: Optional[Sequence[str]] = None) -> None:
        scales = tuple(float(s) for s in scales)
        if not scales or any(not np.isfinite(s) or s < 1.0 for s in scales):
            raise ValueError(f'{type(self).__name__}: scales must be a '
                             f'non-empty list of numbers >= 1, got {scales!r}')
        self.scales = scales
        self.prob = _check_prob(type(self).__name__, prob)
        self.fields = None if fields is None else tuple(fields)

    @staticmethod
    def crop_size(hw: Tuple[int, int], scale: float) -> Tuple[int, int]:
        """The (h, w) window that ``scale`` crops from an ``hw`` image."""
        # The epsilon keeps 288 / 1.2 = 240.00000000000003 -> 240, not 239.
        return (max(1, int(hw[0] / scale + 1e-6)),
                max(1, int(hw[1] / scale + 1e-6)))

    def apply(self, results: dict, scale: float, top: int, left: int
              ) -> dict:
        """Crop at ``(top, left)`` with zoom ``scale``; no randomness."""
        h, w = results['img'].shape[:2]
        ch, cw = self.crop_size((h, w), scale)
        if not (0 <= top <= h - ch and 0 <= left <= w - cw):
            raise ValueError(f'{type(self).__name__}: crop {ch}x{cw} at '
                             f'(top={top}, left={left}) does not fit in '
                             f'{h}x{w}')
        box = (int(left), int(top), int(left) + cw, int(top) + ch)
        warp_maps(results, box, (h, w), self.fields, depth_divisor=scale)
        results['crop_box'] = np.array(box, dtype=np.int64)
        results['zoom_scale'] = results.get('zoom_scale', 1.0) * scale
        return results

    def transform(self, results: dict) -> dict:
        """Draw (apply?, s, top, left) from ``np.random`` and crop."""
        if self.prob < 1.0 and np.random.rand() >= self.prob:
            return self.apply(results, 1.0, 0, 0)
        scale = self.scales[np.random.randint(len(self.scales))]
        h, w = results['img'].shape[:2]
        ch, cw = self.crop_size((h, w), scale)
        top = int(np.random.randint(h - ch + 1))
        left = int(np.random.randint(w - cw + 1))
        return self.apply(results, scale, top, left)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(scales={self.scales}, '
                f'prob={self.prob}, fields={self.fields})')


@TRANSFORMS.register_module()
class Resize(BaseTransform):
    """Resize the image and every map to a fixed ``size = (H, W)``.

    Note the order: (height, width), unlike MMCV's ``scale=(w, h)``. Depth
    is NOT divided: resizing changes the pixel grid, not the distance of
    the scene (a zoom crops a part of the view; a resize keeps all of it).

    Required Keys: img, gt_maps (optional), declared fields (optional).

    Modified Keys: img, gt_maps, declared fields, img_shape.

    Added Keys: scale_factor (``(w, h)`` new / old), homography_matrix.
    """

    def __init__(self, size: Sequence[int],
                 fields: Optional[Sequence[str]] = None) -> None:
        size = tuple(size)
        if (len(size) != 2 or any(not isinstance(v, (int, np.integer))
                                  or v < 1 for v in size)):
            raise ValueError(f'{type(self).__name__}: size must be two '
                             f'positive integers (H, W), got {size!r}')
        self.size = (int(size[0]), int(size[1]))
        self.fields = None if fields is None else tuple(fields)

    def transform(self, results: dict) -> dict:
        """Resize everything to ``size``."""
        h, w = results['img'].shape[:2]
        warp_maps(results, (0, 0, w, h), self.size, self.fields)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, '
                f'fields={self.fields})')


@TRANSFORMS.register_module()
class RandomFlip(BaseTransform):
    """Mirror left-right with probability ``prob``.

    Every map is mirrored; the normal's x component (camera frame, x to the
    right) changes sign, since a mirrored surface faces the other way (the
    field table's ``flip_negate``).

    Required Keys: img, gt_maps (optional), declared fields (optional).

    Modified Keys: img, gt_maps, declared fields.

    Added Keys: flip (whether the result is mirrored w.r.t. the original:
    a second flip toggles it back), flip_direction, homography_matrix.
    """

    def __init__(self, prob: float = 0.5,
                 fields: Optional[Sequence[str]] = None) -> None:
        self.prob = _check_prob(type(self).__name__, prob)
        self.fields = None if fields is None else tuple(fields)

    @staticmethod
    def apply(results: dict, fields: Optional[Sequence[str]] = None
              ) -> dict:
        """Mirror everything; no randomness."""
        w = results['img'].shape[1]
        results['img'] = results['img'][:, ::-1].copy()
        gt_maps = results.get('gt_maps', {})
        for task, gt in list(gt_maps.items()):
            gt_maps[task] = flip_field(gt, task_field(task), w)
        for key in moving_fields(results, fields):
            results[key] = flip_field(results[key], field_spec(key), w)
        _compose(results, np.array([[-1., 0., w], [0., 1., 0.],
                                    [0., 0., 1.]]))
        results['flip'] = not results.get('flip', False)
        results['flip_direction'] = 'horizontal'
        return results

    def transform(self, results: dict) -> dict:
        """Flip with probability ``prob`` (one ``np.random.rand`` draw)."""
        if np.random.rand() < self.prob:
            return self.apply(results, self.fields)
        results.setdefault('flip', False)
        results.setdefault('flip_direction', None)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, '
                f'fields={self.fields})')
