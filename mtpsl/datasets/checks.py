"""Validation of a dataset on disk: load every image, report every problem.

``check_dataset`` loads each image of a split through the dataset's own
loading transform and gathers statistics and problems. A problem (missing,
corrupt or wrongly shaped file, NaN/Inf, label out of range) is recorded with
its file and checking goes on. Suspicious but loadable data (image values
outside [0, 1], negative depth, non-unit normals, a map with no valid pixel)
are warnings, which ``strict`` turns into problems.
"""
from __future__ import annotations

import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from mtpsl.structures import task_spec

from .value_checks import find_bad_values, image_out_of_range

DATASET_TYPES = ('nyuv2', 'cityscapes', 'pascal_context', 'procedural')


@dataclass
class Problem:
    """Something wrong with one file."""
    path: str
    message: str

    def __str__(self) -> str:
        return f'{self.path}: {self.message}' if self.path else self.message


@dataclass
class TaskStats:
    """Value range, invalid share and class histogram of one task's maps."""
    task: str
    num_classes: Optional[int] = None
    num_maps: int = 0
    num_pixels: int = 0
    num_invalid: int = 0
    vmin: float = float('inf')
    vmax: float = float('-inf')
    histogram: Optional[np.ndarray] = None

    @property
    def invalid_share(self) -> float:
        """Invalid (ignore / 0 / all-zero) pixels over all pixels loaded."""
        return self.num_invalid / self.num_pixels if self.num_pixels else 0.0

    def update(self, gt: np.ndarray) -> np.ndarray:
        """Add one H x W x C map; return its valid-pixel mask."""
        spec = task_spec(self.task)
        invalid = (gt == spec.invalid).all(axis=-1)
        self.num_maps += 1
        self.num_pixels += invalid.size
        self.num_invalid += int(invalid.sum())
        values = gt[~invalid]
        if values.size:
            self.vmin = min(self.vmin, float(values.min()))
            self.vmax = max(self.vmax, float(values.max()))
        if spec.kind == 'label':
            labels = values.ravel().astype(np.int64)
            size = max(self.num_classes or 0, int(labels.max(initial=-1)) + 1)
            counts = np.bincount(labels, minlength=size)
            if self.histogram is None:
                self.histogram = counts
            else:
                if counts.size > self.histogram.size:
                    self.histogram = np.pad(
                        self.histogram, (0, counts.size - self.histogram.size))
                self.histogram[:counts.size] += counts
        return ~invalid


@dataclass
class DatasetReport:
    """What ``check_dataset`` found."""
    dataset_type: str
    root: str
    split: str
    num_images: int = 0
    image_shapes: Counter = field(default_factory=Counter)
    image_range: Tuple[float, float] = (float('inf'), float('-inf'))
    tasks: Dict[str, TaskStats] = field(default_factory=dict)
    problems: List[Problem] = field(default_factory=list)
    warnings: List[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems

    def format(self) -> str:
        """The report as text, one fact per line."""
        lines = [f'{self.dataset_type} {self.root} split={self.split}',
                 f'images: {self.num_images}',
                 'image shapes: ' + ', '.join(
                     f'{"x".join(map(str, s))} ({n})'
                     for s, n in self.image_shapes.most_common()),
                 f'image range: [{self.image_range[0]:.4g}, '
                 f'{self.image_range[1]:.4g}]']
        for st in self.tasks.values():
            lines.append(f'{st.task}: {st.num_maps} maps, range '
                         f'[{st.vmin:.4g}, {st.vmax:.4g}], invalid '
                         f'{100 * st.invalid_share:.2f}%')
            if st.histogram is not None:
                total = max(int(st.histogram.sum()), 1)
                lines.append('  classes: ' + ' '.join(
                    f'{c}:{n}({100 * n / total:.1f}%)'
                    for c, n in enumerate(st.histogram.tolist())))
        lines.append(f'warnings: {len(self.warnings)}')
        lines += [f'  WARNING {w}' for w in self.warnings]
        lines.append(f'problems: {len(self.problems)}')
        lines += [f'  PROBLEM {p}' for p in self.problems]
        return '\n'.join(lines)


def _build(dataset_type: str, root: str, split: str,
           num_classes: Optional[int]):
    """The dataset (no pipeline) and the loader of ``dataset_type``."""
    from mtpsl.datasets import (CityscapesDataset, NYUv2Dataset,
                                PascalContextDataset)
    from mtpsl.datasets.transforms import LoadMultiTaskNpy, LoadPascalContext
    common = dict(data_root=root, split=split, pipeline=[],
                  on_listing_error='defer', serialize_data=False)
    if dataset_type == 'nyuv2':
        classes = dict(sem_seg=num_classes or 13)
        ds = NYUv2Dataset(tasks=('sem_seg', 'depth', 'normal'), **common)
        return ds, LoadMultiTaskNpy(num_classes=classes, strict=False), classes
    if dataset_type == 'procedural':
        tasks = ['sem_seg', 'depth', 'normal'] + [
            t for t in ('edge', 'saliency')
            if osp.isdir(osp.join(root, split, t))]
        classes = dict(sem_seg=num_classes or 13, edge=2, saliency=2)
        ds = NYUv2Dataset(tasks=tasks, **common)
        return ds, LoadMultiTaskNpy(num_classes=classes, strict=False), classes
    if dataset_type == 'cityscapes':
        classes = dict(sem_seg=num_classes or 7)
        ds = CityscapesDataset(num_classes=classes['sem_seg'], **common)
        return ds, LoadMultiTaskNpy(num_classes=classes, strict=False), classes
    if dataset_type == 'pascal_context':
        classes = dict(sem_seg=num_classes or 21, human_parts=7, edge=2,
                       saliency=2)
        ds = PascalContextDataset(**common)
        return ds, LoadPascalContext(num_classes=classes), classes
    raise ValueError(f'unknown dataset type {dataset_type!r} (known: '
                     f'{", ".join(DATASET_TYPES)})')


def _warn_values(report: DatasetReport, task: str, gt: np.ndarray,
                 valid: np.ndarray, path: str) -> None:
    if not valid.any():
        report.warnings.append(Problem(path, f'{task}: no valid pixel'))
    # the detectors of the training-time bad_values policy
    for _, _, _, what in find_bad_values(task, gt, valid):
        report.warnings.append(Problem(path, what))


def _load(loader, entry: dict, gt_paths: dict, extras: bool):
    results = dict(entry, gt_paths=gt_paths,
                   extra_paths=entry.get('extra_paths', {}) if extras else {})
    return loader(results)


def _record(report: DatasetReport, results: dict, entry: dict) -> None:
    for task, gt in results['gt_maps'].items():
        path = entry['gt_paths'][task]
        valid = report.tasks[task].update(gt)
        n = results.get('num_nonfinite', {}).get(task, 0)
        if n:
            report.problems.append(Problem(path, f'{n} pixels are NaN/Inf'))
        _warn_values(report, task, gt, valid, path)


def check_dataset(root: str, dataset_type: str, split: str = 'train',
                  limit: Optional[int] = None, strict: bool = False,
                  num_classes: Optional[int] = None) -> DatasetReport:
    """Load every image of ``split`` (the first ``limit``) and report."""
    report = DatasetReport(dataset_type, str(root), split)
    try:
        ds, loader, classes = _build(dataset_type, str(root), split,
                                     num_classes)
    except Exception as e:  # no dataset at all: nothing more to check
        report.problems.append(Problem('', f'{type(e).__name__}: {e}'))
        return report
    report.tasks = {t: TaskStats(t, classes.get(t)) for t in ds.tasks}
    count = len(ds) if limit is None else min(limit, len(ds))
    lo, hi = report.image_range
    for i in range(count):
        entry = ds.get_data_info(i)
        report.num_images += 1
        try:
            results = _load(loader, entry, entry['gt_paths'], True)
        except Exception:  # find every bad file of this image, one by one
            results = None
        if results is None:
            try:
                img_results = _load(loader, entry, {}, False)
            except Exception as e:
                report.problems.append(Problem(entry['img_path'], str(e)))
                continue
            results = dict(img_results, gt_maps={}, num_nonfinite={})
            for task, path in entry['gt_paths'].items():
                try:
                    one = _load(loader, entry, {task: path}, False)
                except Exception as e:
                    report.problems.append(Problem(path, str(e)))
                    continue
                results['gt_maps'][task] = one['gt_maps'][task]
                results['num_nonfinite'][task] = \
                    one.get('num_nonfinite', {}).get(task, 0)
            for key, path in entry.get('extra_paths', {}).items():
                try:
                    _load(loader, dict(entry, extra_paths={key: path}), {},
                          True)
                except Exception as e:
                    report.problems.append(Problem(path, str(e)))
        img = results['img']
        report.image_shapes[tuple(img.shape)] += 1
        lo, hi = min(lo, float(img.min())), max(hi, float(img.max()))
        if image_out_of_range(img)[0]:
            report.warnings.append(Problem(entry['img_path'],
                                           'image values outside [0, 1]'))
        _record(report, results, entry)
    report.image_range = (lo, hi)
    if strict:
        report.problems += report.warnings
        report.warnings = []
    return report
