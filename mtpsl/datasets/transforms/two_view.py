"""Two independently augmented views of one image, and how their pixels relate.

Format of the relation (``results['view_params'] = (params1, params2)``),
one dict per view, built by :func:`view_params`:

- ``homography_matrix``: 3 x 3 float64, ORIGINAL image coordinates -> this
  view's coordinates. Coordinates are continuous ``(x, y)``; pixel
  ``(row i, col j)`` covers ``[j, j+1) x [i, i+1)``, its centre is
  ``(j + 0.5, i + 0.5)``. Nearest resampling makes view pixel ``(i, j)``
  show the original pixel under ``inv(H) @ (j + 0.5, i + 0.5, 1)``.
- ``img_shape``: (H, W) of the view.
- ``crop_box``: ``[x1, y1, x2, y2]`` of the last RandomScaleCrop (None if
  none ran), ``zoom_scale``: product of the zooms ``s`` applied (the view's
  depth is the original depth divided by it), ``flip``: mirrored or not.

:func:`relate_views` gives the 3 x 3 map from view-1 to view-2 coordinates
(continuous); :func:`map_pixels` maps integer pixels (view 1 -> the
original pixel it shows -> the view-2 pixel showing it). At corresponding
pixels ``depth2 = depth1 * zoom_scale1 / zoom_scale2``.
"""
from __future__ import annotations

import copy
from typing import Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mtpsl.registry import TRANSFORMS
from mtpsl.structures import MultiTaskDataSample, present_fields

from .formatting import PackMultiTaskInputs

# What a view owns; everything else (paths, ids, flags) the views share.
VIEW_KEYS = ('img', 'gt_maps', 'img_shape', 'scale_factor', 'crop_box',
             'zoom_scale', 'flip', 'flip_direction', 'homography_matrix')


def view_params(results: dict) -> dict:
    """The geometric record of one augmented view (format: module doc)."""
    crop = results.get('crop_box')
    return dict(
        homography_matrix=np.asarray(results.get('homography_matrix',
                                                 np.eye(3)), np.float64),
        img_shape=tuple(int(v) for v in results['img_shape']),
        crop_box=None if crop is None else np.asarray(crop, np.int64),
        zoom_scale=float(results.get('zoom_scale', 1.0)),
        flip=bool(results.get('flip', False)))


def relate_views(params1: dict, params2: dict) -> np.ndarray:
    """3 x 3 matrix taking view-1 coordinates ``(x, y, 1)`` to view 2's."""
    return (np.asarray(params2['homography_matrix'], np.float64) @
            np.linalg.inv(np.asarray(params1['homography_matrix'],
                                     np.float64)))


def _apply(m: np.ndarray, x: np.ndarray, y: np.ndarray
           ) -> Tuple[np.ndarray, np.ndarray]:
    w = m[2, 0] * x + m[2, 1] * y + m[2, 2]
    return ((m[0, 0] * x + m[0, 1] * y + m[0, 2]) / w,
            (m[1, 0] * x + m[1, 1] * y + m[1, 2]) / w)


def _pixel(v: np.ndarray) -> np.ndarray:
    # The epsilon keeps a point exactly on a pixel edge, computed as
    # 0.9999999999, in the pixel that integer nearest resampling picks.
    return np.floor(v + 1e-9).astype(np.int64)


def map_pixels(params1: dict, params2: dict, rows: np.ndarray,
               cols: np.ndarray
               ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """View-2 (rows, cols) showing what given view-1 pixels show, and a mask.

    Through the original image: the original pixel a view-1 pixel shows
    (the one under its centre), then the view-2 pixel under that original
    pixel's centre. Exact (view 2 shows the same original pixel) when view 2
    is not zoomed relative to it, for views made by one crop/resize followed
    by flips (RandomScaleCrop before RandomFlip); otherwise the pixel shown
    by view 2 is at most one original pixel away (resampling). ``inside``
    is False where view 2 does not see the point (its crop cut it); rows
    and cols there are out of range and must not be used.
    """
    h1 = np.asarray(params1['homography_matrix'], np.float64)
    h2 = np.asarray(params2['homography_matrix'], np.float64)
    x0, y0 = _apply(np.linalg.inv(h1), np.asarray(cols, np.float64) + 0.5,
                    np.asarray(rows, np.float64) + 0.5)
    x2, y2 = _apply(h2, _pixel(x0) + 0.5, _pixel(y0) + 0.5)
    r2, c2 = _pixel(y2), _pixel(x2)
    hh, ww = params2['img_shape']
    inside = (r2 >= 0) & (r2 < hh) & (c2 >= 0) & (c2 < ww)
    return r2, c2, inside


@TRANSFORMS.register_module()
class TwoViewTransform(BaseTransform):
    """Run ``view_pipeline`` twice, independently, on the same loaded sample.

    View 1 stays at the top level of ``results`` (so packing works as
    usual); view 2 goes under ``results['view2']``. Both start from the same
    input (view 2 from a deep copy taken before view 1 runs), and the random
    draws of view 2 follow those of view 1 in ``np.random``.

    Required Keys: img, gt_maps, img_shape, declared fields (optional).

    Modified Keys: those ``view_pipeline`` modifies (for view 1).

    Added Keys: view2 (dict with view 2's ``VIEW_KEYS`` present and its
    declared per-pixel fields), view_params ((params1, params2), see
    module docstring).

    Args:
        view_pipeline: transform configs (or transforms) of one view; a
            view whose pipeline returns None drops the sample (None).
        fields: declared fields each view carries (None: all present).
    """

    def __init__(self, view_pipeline: Sequence,
                 fields: Optional[Sequence[str]] = None) -> None:
        if (not isinstance(view_pipeline, (list, tuple))
                or not view_pipeline):
            raise ValueError(f'{type(self).__name__}: view_pipeline must be '
                             f'a non-empty list of transforms, got '
                             f'{view_pipeline!r}')
        self.transforms = []
        for t in view_pipeline:
            t = TRANSFORMS.build(t) if isinstance(t, dict) else t
            if not callable(t):
                raise ValueError(f'{type(self).__name__}: view_pipeline '
                                 f'entry {t!r} is not a transform')
            self.transforms.append(t)
        self.fields = None if fields is None else tuple(fields)

    def _run(self, results: dict) -> Optional[dict]:
        for t in self.transforms:
            results = t(results)
            if results is None:
                return None
        return results

    def transform(self, results: dict) -> Optional[dict]:
        """Make both views; attach view 2 and the relation to view 1."""
        second = copy.deepcopy(results)
        first = self._run(results)
        if first is None:
            return None
        second = self._run(second)
        if second is None:
            return None
        fields = (present_fields(second.keys()) if self.fields is None
                  else list(self.fields))
        first['view2'] = {k: second[k] for k in VIEW_KEYS + tuple(fields)
                          if k in second}
        first['view_params'] = (view_params(first), view_params(second))
        return first

    def __repr__(self) -> str:
        inner = ', '.join(repr(t) for t in self.transforms)
        return (f'{type(self).__name__}(view_pipeline=[{inner}], '
                f'fields={self.fields})')


@TRANSFORMS.register_module()
class PackTwoViewInputs(BaseTransform):
    """Pack both views: PackMultiTaskInputs for each, view 2 alongside.

    Required Keys: those of PackMultiTaskInputs, view2, view_params.

    Added Keys: inputs (view 1, 3 x H x W), inputs_view2 (view 2),
    data_samples (view 1's MultiTaskDataSample, with metainfo
    ``view_params`` and a field ``view2``: view 2's MultiTaskDataSample with
    its own ``gt_<task>`` and extra maps).

    Note: MultiTaskDataPreprocessor batches ``inputs`` only; a two-view
    method needs a preprocessor that also batches ``inputs_view2``.
    """

    def __init__(self, fields: Optional[Sequence[str]] = None,
                 meta_keys: Optional[Sequence[str]] = None) -> None:
        base = PackMultiTaskInputs(fields=fields)
        if meta_keys is None:
            meta_keys = base.meta_keys + ('crop_box', 'zoom_scale',
                                          'view_params')
        self.packer = PackMultiTaskInputs(fields=fields,
                                          meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        """Pack view 1 and view 2."""
        if 'view2' not in results:
            raise KeyError(f'{type(self).__name__}: results have no '
                           "'view2'; put TwoViewTransform before it")
        # view 2's fields come from view2 only, never from view 1
        view2 = {k: v for k, v in results.items()
                 if k not in self.packer.field_names(results)}
        view2.update(results['view2'])
        packed1 = self.packer(results)
        packed2 = self.packer(view2)
        sample = packed1['data_samples']
        sample.set_field(packed2['data_samples'], 'view2',
                         dtype=MultiTaskDataSample)
        return dict(inputs=packed1['inputs'], data_samples=sample,
                    inputs_view2=packed2['inputs'])

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(fields={self.packer.fields}, '
                f'meta_keys={self.packer.meta_keys})')
