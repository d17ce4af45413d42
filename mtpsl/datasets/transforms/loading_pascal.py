"""Loading of PASCAL-Context multi-task files (jpg / png / mat).

Conventions (see ``docs/datasets.md``):

* image ``JPEGImages/{id}.jpg``: RGB, float32 in [0, 1].
* sem_seg ``semseg/pascal-context/{id}.png``: single-channel (L or P) PNG of
  class indices; 255 -> -1 (ignore); any other value must be < num_classes.
* human_parts ``human_parts/{id}.mat``: either a PASCAL-Part ``anno`` struct
  (``anno.objects[k]`` with ``class``, ``parts[j]`` with ``part_name`` and
  ``mask``), whose person parts are grouped into 6 parts (``PART_GROUPS``),
  or a preprocessed map under the key ``human_parts`` (0..6, 255 = ignore).
  0 is background. A file without any part pixel means "no people".
* normal ``normals_distill/{id}.png``: RGB PNG, n = 2 v / 255 - 1, then
  L2-renormalised; pixels stored as (0, 0, 0), or decoding to a vector of
  norm < 0.5 (not an encoded unit vector), are invalid (all-zero).
* saliency ``sal_distill/{id}.png``: single-channel PNG; v > 127.5 -> 1,
  else 0 (soft maps are thresholded at 0.5); no ignore value.
* edge ``pascal-context/trainval/{id}.mat``: ``LabelMap`` (H x W ints); a
  pixel is an edge (1) iff one of its 4 neighbours inside the image has a
  different label, so a boundary is marked on both of its sides.
"""
from __future__ import annotations

import os.path as osp
from typing import Dict, Optional, Tuple

import cv2
import numpy as np
import scipy.io
from mmcv.transforms import BaseTransform
from PIL import Image

from mtpsl.registry import TRANSFORMS

from .loading import load_field

PASCAL_IGNORE = 255
PASCAL_NUM_CLASSES = dict(sem_seg=21, human_parts=7)
# PASCAL-Part person part names -> the 6 human-part classes (0 = background).
PART_GROUPS: Dict[str, int] = {
    **dict.fromkeys(('head', 'leye', 'reye', 'lear', 'rear', 'lebrow',
                     'rebrow', 'nose', 'mouth', 'hair'), 1),
    **dict.fromkeys(('torso', 'neck'), 2),
    **dict.fromkeys(('luarm', 'ruarm'), 3),
    **dict.fromkeys(('llarm', 'rlarm', 'lhand', 'rhand'), 4),
    **dict.fromkeys(('luleg', 'ruleg'), 5),
    **dict.fromkeys(('llleg', 'rlleg', 'lfoot', 'rfoot'), 6),
}
HUMAN_PART_CLASSES = ('background', 'head', 'torso', 'upper_arm',
                      'lower_arm', 'upper_leg', 'lower_leg')


def _require(path: str) -> None:
    if not osp.isfile(path):
        raise FileNotFoundError(f'file not found: {path}')


def read_jpg_rgb(path: str) -> np.ndarray:
    """An image file as H x W x 3 float32 RGB in [0, 1]."""
    _require(path)
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f'corrupt or unreadable image file {path}')
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def read_png(path: str) -> np.ndarray:
    """A PNG's stored values (palette indices for P mode), as an array."""
    _require(path)
    try:
        with Image.open(path) as im:
            im.load()
            return np.asarray(im)
    except (OSError, ValueError, SyntaxError) as e:
        raise ValueError(f'corrupt or unreadable PNG file {path}: {e}') \
            from None


def read_mat(path: str) -> dict:
    """A .mat file as nested dicts / lists (``simplify_cells``)."""
    _require(path)
    try:
        return scipy.io.loadmat(path, simplify_cells=True)
    except Exception as e:  # scipy raises many types for a bad file
        raise ValueError(f'corrupt or unreadable .mat file {path}: '
                         f'{type(e).__name__}: {e}') from None


def _mat_key(mat: dict, key: str, path: str):
    if key not in mat:
        keys = [k for k in mat if not k.startswith('__')]
        raise ValueError(f'{path}: no variable {key!r} in the .mat file '
                         f'(variables: {keys})')
    return mat[key]


def _as_list(x) -> list:
    """A loadmat struct array (dict, list or empty array) as a list."""
    if isinstance(x, dict):
        return [x]
    if isinstance(x, np.ndarray):
        return [] if x.size == 0 else list(x.ravel())
    return list(x)


def _single_channel(arr: np.ndarray, path: str) -> np.ndarray:
    if arr.ndim != 2:
        raise ValueError(f'{path}: expected a single-channel (L or P) map, '
                         f'got shape {arr.shape}')
    return arr


def human_parts_map(mat: dict, path: str) -> np.ndarray:
    """The 7-class human-parts map (int64, -1 = ignore) of a parts .mat."""
    if 'human_parts' in mat:
        parts = np.asarray(mat['human_parts'])
        _single_channel(parts, path)
        out = parts.astype(np.int64)
        out[parts == PASCAL_IGNORE] = -1
        return out
    anno = _mat_key(mat, 'anno', path)
    objects = _as_list(anno.get('objects', []) if isinstance(anno, dict)
                       else [])
    out = None
    for obj in objects:
        mask = np.asarray(obj.get('mask', np.zeros((0, 0))))
        if out is None and mask.ndim == 2 and mask.size:
            out = np.zeros(mask.shape, np.int64)
        if obj.get('class') != 'person':
            continue
        for part in _as_list(obj.get('parts', [])):
            name = str(part.get('part_name'))
            if name not in PART_GROUPS:
                raise ValueError(f'{path}: unknown person part {name!r} '
                                 f'(known: {", ".join(PART_GROUPS)})')
            pmask = np.asarray(part['mask'])
            if out is None:
                out = np.zeros(pmask.shape, np.int64)
            if pmask.shape != out.shape:
                raise ValueError(f'{path}: part mask of shape {pmask.shape} '
                                 f'differs from {out.shape}')
            out[pmask > 0] = PART_GROUPS[name]
    return out if out is not None else np.zeros((0, 0), np.int64)


def has_human_parts(path: str) -> bool:
    """Whether a parts file exists and labels at least one part pixel."""
    if not osp.isfile(path):
        return False
    return bool((human_parts_map(read_mat(path), path) > 0).any())


def label_edges(label_map: np.ndarray) -> np.ndarray:
    """1 where a 4-neighbour has a different label, else 0 (uint8)."""
    edge = np.zeros(label_map.shape, bool)
    dy = label_map[1:, :] != label_map[:-1, :]
    dx = label_map[:, 1:] != label_map[:, :-1]
    edge[1:, :] |= dy
    edge[:-1, :] |= dy
    edge[:, 1:] |= dx
    edge[:, :-1] |= dx
    return edge.astype(np.uint8)


def decode_normals(rgb: np.ndarray, path: str) -> np.ndarray:
    """Unit normals from an RGB PNG; invalid pixels all-zero (float32)."""
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f'{path}: expected an RGB normal map H x W x 3, '
                         f'got shape {rgb.shape}')
    n = 2.0 * rgb.astype(np.float32) / 255.0 - 1.0
    norm = np.linalg.norm(n, axis=-1, keepdims=True)
    invalid = (rgb == 0).all(-1) | (norm[..., 0] < 0.5)
    n = n / np.maximum(norm, 1e-12)
    n[invalid] = 0.0
    return n.astype(np.float32)


@TRANSFORMS.register_module()
class LoadPascalContext(BaseTransform):
    """Load a PASCAL-Context image and the GT of the tasks labelled for it.

    Required Keys: img_path, gt_paths ({task: path}, labelled tasks only),
    extra_paths ({key: .npy path}, optional).

    Added Keys: img (H x W x 3 float32 RGB in [0, 1]), gt_maps ({task:
    H x W x C}; label tasks int64 with -1 = ignore, normal float32 with
    all-zero = invalid), extra maps under their own key (H x W int64),
    num_nonfinite ({task: 0}: PNG / mat maps cannot hold NaN), img_shape,
    ori_shape.

    Args:
        num_classes: ``{task: C}`` for sem_seg / human_parts (defaults 21
            and 7); a label outside [0, C) other than the ignore value is an
            error naming the file.
    """

    def __init__(self, num_classes: Optional[dict] = None) -> None:
        self.num_classes = {**PASCAL_NUM_CLASSES, **dict(num_classes or {})}

    def _check_range(self, task: str, labels: np.ndarray, path: str) -> None:
        num = self.num_classes[task]
        bad = (labels != -1) & ((labels < 0) | (labels >= num))
        if bad.any():
            raise ValueError(f'{path}: label {int(labels[bad][0])} outside '
                             f'[0, {num}) and not the ignore value '
                             f'{PASCAL_IGNORE}')

    def load_gt(self, task: str, path: str, hw: Tuple[int, int]
                ) -> np.ndarray:
        """The GT map of ``task`` from ``path`` as H x W x C."""
        if task == 'sem_seg':
            raw = _single_channel(read_png(path), path)
            gt = raw.astype(np.int64)
            gt[raw == PASCAL_IGNORE] = -1
            self._check_range(task, gt, path)
        elif task == 'human_parts':
            gt = human_parts_map(read_mat(path), path)
            self._check_range(task, gt, path)
        elif task == 'saliency':
            raw = _single_channel(read_png(path), path)
            gt = (raw.astype(np.float32) > 127.5).astype(np.int64)
        elif task == 'edge':
            mat = read_mat(path)
            labels = np.asarray(_mat_key(mat, 'LabelMap', path))
            gt = label_edges(_single_channel(labels, path)).astype(np.int64)
        elif task == 'normal':
            gt = decode_normals(read_png(path), path)
        else:
            raise KeyError(f'{type(self).__name__}: no PASCAL-Context '
                           f'ground truth for task {task!r} ({path})')
        if gt.shape[:2] != tuple(hw):
            raise ValueError(f'{path}: size {gt.shape[:2]} differs from its '
                             f'image {tuple(hw)}')
        return gt if gt.ndim == 3 else gt[..., None]

    def transform(self, results: dict) -> dict:
        """Load image, labelled GT and extra maps."""
        img = read_jpg_rgb(results['img_path'])
        hw = img.shape[:2]
        results.update(img=img, img_shape=hw, ori_shape=hw, gt_maps={},
                       num_nonfinite={})
        for task, gt_path in results.get('gt_paths', {}).items():
            results['gt_maps'][task] = self.load_gt(task, gt_path, hw)
            results['num_nonfinite'][task] = 0
        for key, extra_path in results.get('extra_paths', {}).items():
            results[key] = load_field(key, extra_path, hw)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(num_classes={self.num_classes})'
