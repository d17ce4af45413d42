"""Bad values never pass silently into training or testing.

One policy, ``bad_values`` on every mtpsl dataset, applied to each sample
right after it is loaded (before any resize):

=============================  ==========  ==========  =====================
value                          ``error``   ``warn``    ``mask``
                               (default)
=============================  ==========  ==========  =====================
negative depth                 raise       warn        pixels invalid, warn
non-unit normals (valid px)    raise       warn        pixels invalid, warn
image outside [0, 1]           raise       warn        raise
(e.g. stored in [0, 255])
NaN / Inf depth or normals     pixels invalid (the loader), warn, all modes
depth above ``max_depth`` m    warn (millimetres?), all modes
=============================  ==========  ==========  =====================

Warnings are printed once per file, with the count of pixels. The
detectors are shared with ``check_dataset`` (:mod:`mtpsl.datasets.checks`).

A sample whose files all passed clean is not checked again while none of
them changes on disk (path, size and modification time are compared): the
check runs right after loading, before any augmentation, so the arrays it
sees depend on the files alone. Each process (each DataLoader worker)
remembers its own clean samples; with ``persistent_workers`` the check
costs one pass over the data, then a ``stat`` per file.
"""
from __future__ import annotations

import os

from typing import Dict, List, Optional, Set, Tuple

import numpy as np

from mtpsl.structures import task_spec

POLICIES = ('error', 'warn', 'mask')
NORMAL_TOLERANCE = 1e-2  # | |n| - 1 | allowed on a valid normal pixel
IMAGE_SLACK = 1e-3  # float rounding allowed outside [0, 1]
MAX_DEPTH = 100.0  # metres; above it depth is likely in millimetres


def negative_depth(gt: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Mask of valid depth pixels below 0 (H x W)."""
    return valid & (gt[..., 0] < 0)


def _squared_length(gt: np.ndarray) -> np.ndarray:
    # three strided products: numpy reduces a length-3 last axis slowly
    g = np.asarray(gt, dtype=np.float32)
    sq = g[..., 0] * g[..., 0]
    sq += g[..., 1] * g[..., 1]
    sq += g[..., 2] * g[..., 2]
    return sq.reshape(-1)


def non_unit_normals(gt: np.ndarray, valid: Optional[np.ndarray],
                     tol: float = NORMAL_TOLERANCE
                     ) -> Tuple[np.ndarray, float]:
    """Mask of valid normal pixels whose length is not 1 (within ``tol``),
    and the largest | |n| - 1 | seen."""
    sq = _squared_length(gt).reshape(gt.shape[:-1])
    hi2, lo2 = (1 + tol) ** 2, (1 - tol) ** 2
    if valid is None:  # an all-zero normal is the invalid value
        # the common case, in two passes: sq * (sq - lo2) < 0 exactly
        # where 0 < sq < lo2
        if sq.max() <= hi2 and (sq * (sq - lo2)).min() >= 0:
            return np.zeros(sq.shape, bool), 0.0
        valid = sq > 0
    off = valid & ((sq > hi2) | (sq < lo2))
    if not off.any():
        return off, 0.0
    worst = float(np.abs(np.sqrt(sq[off]) - 1.0).max())
    return off, worst


def image_out_of_range(img: np.ndarray) -> Tuple[int, float, float]:
    """Pixels of a float image outside [0, 1]; its min and max."""
    lo, hi = float(img.min()), float(img.max())
    if lo >= -IMAGE_SLACK and hi <= 1 + IMAGE_SLACK:
        return 0, lo, hi
    bad = (img < -IMAGE_SLACK) | (img > 1 + IMAGE_SLACK)
    return int(bad.any(axis=-1).sum()), lo, hi


def valid_mask(task: str, gt: np.ndarray) -> np.ndarray:
    """Pixels that are not the task's invalid value (H x W)."""
    invalid = task_spec(task).invalid
    valid = gt[..., 0] != invalid
    for c in range(1, gt.shape[-1]):
        valid |= gt[..., c] != invalid
    return valid


def find_bad_values(task: str, gt: np.ndarray,
                    valid: Optional[np.ndarray] = None,
                    max_depth: float = MAX_DEPTH
                    ) -> List[Tuple[str, bool, np.ndarray, str]]:
    """``(kind, certain, mask, what)`` of each defect of one GT map;
    ``certain`` marks what is wrong for sure (vs. may be intended).
    ``valid`` (H x W) is computed only when a defect may be present."""
    found = []
    if task == 'depth':
        lo, hi = float(gt.min()), float(gt.max())
        if lo >= 0 and hi <= max_depth:  # the common case: one pass each
            return found
        valid = valid_mask(task, gt) if valid is None else valid
        neg = negative_depth(gt, valid)
        if neg.any():
            found.append(('negative_depth', True, neg,
                          f'{int(neg.sum())} negative depth values (min '
                          f'{lo:.4g})'))
        far = valid & (gt[..., 0] > max_depth)
        if far.any():
            found.append(('large_depth', False, far,
                          f'{int(far.sum())} depth values above '
                          f'{max_depth:g} m (max {hi:.4g}): '
                          'millimetres instead of metres?'))
    if task == 'normal':
        off, worst = non_unit_normals(gt, valid)
        if off.any():
            found.append(('non_unit_normal', True, off,
                          f'{int(off.sum())} normals not unit length '
                          f'(| |n| - 1 | up to {worst:.3g})'))
    return found


class CheckValues:
    """The ``bad_values`` policy as a pipeline step after loading.

    Args:
        policy: ``'error'``, ``'warn'`` or ``'mask'`` (table above).
        max_depth: depth above this (metres) is warned about.
        where: who applies it (for messages), e.g. the dataset's name.
    """

    def __init__(self, policy: str = 'error', max_depth: float = MAX_DEPTH,
                 where: str = 'dataset') -> None:
        if policy not in POLICIES:
            raise ValueError(f'{where}: bad_values={policy!r} must be one of '
                             f'{", ".join(map(repr, POLICIES))}')
        self.policy, self.max_depth, self.where = policy, max_depth, where
        self._warned: Set[Tuple[str, str]] = set()
        self.messages: List[str] = []  # every warning printed, in order
        # (path, size, mtime_ns) of the files of each sample that passed
        self._clean: Set[tuple] = set()
        self._found = False  # a defect seen in the sample being checked

    @staticmethod
    def _signature(results: dict) -> Optional[tuple]:
        """The sample's files with their size and modification time (None
        when a file is not known or cannot be stat-ed)."""
        gt_paths = results.get('gt_paths', {})
        paths = [results.get('img_path')] + [
            gt_paths.get(t) for t in sorted(results.get('gt_maps', {}))]
        if any(p is None for p in paths):
            return None
        try:
            stats = [os.stat(p) for p in paths]
        except (OSError, TypeError):
            return None
        return tuple((p, st.st_size, st.st_mtime_ns)
                     for p, st in zip(paths, stats))

    def _warn(self, path: str, kind: str, message: str) -> None:
        self._found = True
        if (path, kind) in self._warned:
            return
        self._warned.add((path, kind))
        from mmengine.logging import print_log
        text = f'{path}: {message} (bad_values={self.policy!r})'
        self.messages.append(text)
        print_log(text, logger='current', level=30)

    def _check_image(self, results: dict) -> None:
        img, path = results.get('img'), results.get('img_path', '?')
        if img is None or not np.issubdtype(np.asarray(img).dtype,
                                            np.floating):
            return
        n, lo, hi = image_out_of_range(img)
        if not n:
            return
        hint = ' (stored in [0, 255]? divide by 255)' if hi > 1.5 else ''
        message = (f'{n} image pixels outside [0, 1] (range [{lo:.4g}, '
                   f'{hi:.4g}]){hint}')
        if self.policy == 'warn':
            self._warn(path, 'image_range', message)
        else:
            raise ValueError(f'{path}: {message}; set bad_values=\'warn\' '
                             f'on the dataset to accept it')

    def __call__(self, results: dict) -> dict:
        """Apply the policy to one loaded sample (``img``, ``gt_maps``)."""
        signature = self._signature(results)
        if signature is not None and signature in self._clean:
            return results
        self._found = False
        self._check(results)
        if signature is not None and not self._found:
            self._clean.add(signature)
        return results

    def _check(self, results: dict) -> None:
        self._check_image(results)
        gt_paths: Dict[str, str] = results.get('gt_paths', {})
        nonfinite: Dict[str, int] = results.get('num_nonfinite', {})
        for task, gt in results.get('gt_maps', {}).items():
            path = gt_paths.get(task, results.get('img_path', '?'))
            if nonfinite.get(task):
                self._warn(path, 'nonfinite',
                           f'{nonfinite[task]} {task} pixels are NaN/Inf; '
                           'they are treated as invalid (unlabelled)')
            if task_spec(task).kind == 'label':
                continue
            for kind, certain, mask, what in find_bad_values(
                    task, gt, None, self.max_depth):
                if certain and self.policy == 'error':
                    raise ValueError(
                        f'{path}: {what}; fix the file, or set bad_values='
                        "'mask' (make them invalid) or 'warn' (use them) on "
                        'the dataset')
                if certain and self.policy == 'mask':
                    gt = gt.copy()
                    gt[mask] = task_spec(task).invalid
                    results['gt_maps'][task] = gt
                    self._warn(path, kind, f'{what}; made invalid')
                else:
                    self._warn(path, kind, what)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(policy={self.policy!r}, '
                f'max_depth={self.max_depth})')


def insert_value_check(pipeline, policy: str, where: str,
                       max_depth: float = MAX_DEPTH) -> Optional[CheckValues]:
    """Put a :class:`CheckValues` right after the pipeline's loading step
    (the first transform whose class name starts with ``Load``); returns it,
    or None if the pipeline has no loading step."""
    check = CheckValues(policy, max_depth, where)
    transforms = getattr(pipeline, 'transforms', None)
    if transforms is None:
        return None
    for i, t in enumerate(transforms):
        if type(t).__name__.startswith('Load'):
            transforms.insert(i + 1, check)
            return check
    return None
