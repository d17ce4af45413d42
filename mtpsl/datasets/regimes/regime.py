"""A label regime: which tasks are labelled for which training image.

Rows are keyed by image id (a string), never by position, because a training
split may be a subset of the image folder (a validation part carved off).
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

import numpy as np

from mtpsl.structures.tasks import TASK_NAMES

FILE_FORMAT = 'mtpsl-label-regime'
FILE_VERSION = 1


class RegimeError(ValueError):
    """A label regime, or the file it came from, is invalid."""


class UnknownImageError(KeyError):
    """An image id is not part of a label regime."""

    def __str__(self) -> str:
        # KeyError would print the message with quotes and escapes.
        return str(self.args[0]) if self.args else ''


def _check_task_names(tasks: Sequence[str], where: str) -> tuple:
    """Validate task names (non-empty, known, unique) and return them."""
    tasks = tuple(tasks)
    if not tasks:
        raise RegimeError(f'{where}: at least one task is needed')
    for task in tasks:
        if task not in TASK_NAMES:
            raise RegimeError(f'{where}: unknown task {task!r}; known tasks: '
                              f'{", ".join(TASK_NAMES)}')
    dup = [t for t, c in Counter(tasks).items() if c > 1]
    if dup:
        raise RegimeError(f'{where}: duplicate task {dup[0]!r}')
    return tasks


def _check_image_ids(image_ids: Iterable[Any], where: str) -> tuple:
    """Validate image ids (strings, unique) and return them."""
    ids = tuple(image_ids)
    for image_id in ids:
        if not isinstance(image_id, str):
            raise RegimeError(f'{where}: image id {image_id!r} is a '
                              f'{type(image_id).__name__}, not a str')
    if len(set(ids)) != len(ids):
        dup = next(i for i, c in Counter(ids).items() if c > 1)
        raise RegimeError(f'{where}: duplicate image id {dup!r}')
    return ids


def _jsonable(params: Mapping[str, Any], where: str) -> Dict[str, Any]:
    """Params as plain JSON values, so that save/load gives them back equal."""
    out = {}
    for key, value in dict(params).items():
        try:
            out[str(key)] = json.loads(json.dumps(value))
        except (TypeError, ValueError) as err:
            raise RegimeError(f'{where}: param {key!r}={value!r} is not '
                              f'JSON-serialisable ({err})') from None
    return out


class LabelRegime:
    """Per-image, per-task labelled flags with the ids and tasks they index.

    ``flags[i, k]`` says whether image ``image_ids[i]`` has ground truth for
    ``tasks[k]``. Unless ``allow_empty`` is set, every image must have at least
    one labelled task (the MTPSL setting).
    """

    def __init__(self, name: str, tasks: Sequence[str],
                 image_ids: Sequence[str], flags: Any,
                 params: Optional[Mapping[str, Any]] = None,
                 allow_empty: bool = False) -> None:
        where = f'label regime {name!r}'
        self.name = str(name)
        self.tasks = _check_task_names(tasks, where)
        self.image_ids = _check_image_ids(image_ids, where)
        flags = np.asarray(flags)
        if flags.dtype != bool:
            if not np.isin(flags, (0, 1)).all():
                raise RegimeError(f'{where}: flags must be 0/1 or bool, got '
                                  f'values {np.unique(flags)[:5].tolist()}')
            flags = flags.astype(bool)
        expected = (len(self.image_ids), len(self.tasks))
        if flags.shape != expected:
            raise RegimeError(f'{where}: flags have shape {flags.shape}, '
                              f'expected (images, tasks) = {expected}')
        self.flags = flags.copy()
        self.flags.setflags(write=False)
        self.params = _jsonable(params or {}, where)
        self.allow_empty = bool(allow_empty)
        self._row = {image_id: i for i, image_id in enumerate(self.image_ids)}
        if not self.allow_empty and self.num_empty():
            raise RegimeError(
                f'{where}: {self.num_empty()} image(s) have no labelled task, '
                f'first {self.empty_ids()[0]!r}; pass allow_empty=True to '
                'keep them')

    def __len__(self) -> int:
        return len(self.image_ids)

    def __repr__(self) -> str:
        return (f'LabelRegime(name={self.name!r}, tasks={self.tasks}, '
                f'images={len(self)}, counts={self.counts()})')

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelRegime):
            return NotImplemented
        return (self.name == other.name and self.tasks == other.tasks
                and self.image_ids == other.image_ids
                and self.params == other.params
                and self.allow_empty == other.allow_empty
                and np.array_equal(self.flags, other.flags))

    __hash__ = None  # mutable-looking container: equality only

    def __contains__(self, image_id: object) -> bool:
        return image_id in self._row

    def _row_of(self, image_id: str) -> int:
        """Row index of ``image_id``; a clear error naming id and regime."""
        try:
            return self._row[image_id]
        except KeyError:
            raise UnknownImageError(
                f'image id {image_id!r} is not in label regime '
                f'{self.name!r} ({len(self)} images)') from None

    def flags_for(self, image_id: str) -> Dict[str, bool]:
        """Which tasks are labelled for ``image_id``, as {task: bool}."""
        row = self.flags[self._row_of(image_id)]
        return {task: bool(flag) for task, flag in zip(self.tasks, row)}

    def labelled_tasks(self, image_id: str) -> List[str]:
        """The names of the tasks labelled for ``image_id``, in task order."""
        return [t for t, f in self.flags_for(image_id).items() if f]

    def subset(self, image_ids: Iterable[str]) -> 'LabelRegime':
        """The regime restricted to (and reordered as) ``image_ids``."""
        ids = _check_image_ids(image_ids, f'subset of {self.name!r}')
        rows = [self._row_of(i) for i in ids]
        return LabelRegime(self.name, self.tasks, ids,
                           self.flags[rows].reshape(len(ids), len(self.tasks)),
                           self.params, allow_empty=self.allow_empty)

    def select_tasks(self, tasks: Sequence[str],
                     allow_empty: bool = True) -> 'LabelRegime':
        """The regime with columns ``tasks`` (by name, in that order).

        Dropping tasks can leave an image with no label (e.g. a single-task
        baseline trained in the onelabel regime), so that is allowed unless
        ``allow_empty=False``.
        """
        tasks = _check_task_names(tasks, f'select_tasks of {self.name!r}')
        missing = [t for t in tasks if t not in self.tasks]
        if missing:
            raise RegimeError(f'task {missing[0]!r} is not in label regime '
                              f'{self.name!r} (tasks {self.tasks})')
        cols = [self.tasks.index(t) for t in tasks]
        return LabelRegime(self.name, tasks, self.image_ids,
                           self.flags[:, cols], self.params,
                           allow_empty=allow_empty or self.allow_empty)

    def counts(self) -> Dict[str, int]:
        """Number of labelled images per task."""
        return {t: int(c) for t, c in zip(self.tasks, self.flags.sum(0))}

    def labels_per_image(self) -> Dict[int, int]:
        """Histogram {number of labelled tasks: number of images}."""
        hist = np.bincount(self.flags.sum(1), minlength=len(self.tasks) + 1)
        return {k: int(c) for k, c in enumerate(hist)}

    def num_empty(self) -> int:
        """Number of images with no labelled task."""
        return int((~self.flags.any(1)).sum())

    def empty_ids(self) -> List[str]:
        """Ids of the images with no labelled task."""
        return [self.image_ids[i] for i in np.flatnonzero(~self.flags.any(1))]

    def summary(self) -> str:
        """Readable counts: labelled images per task, labels per image."""
        n = len(self)
        lines = [f'label regime {self.name!r}: {n} images, '
                 f'{len(self.tasks)} tasks, params {self.params}']
        width = max(len(t) for t in self.tasks)
        for task, count in self.counts().items():
            pct = 100.0 * count / n if n else 0.0
            lines.append(f'  {task:<{width}}  {count:>6} / {n} ({pct:.1f}%)')
        hist = ', '.join(f'{k}: {c}'
                         for k, c in self.labels_per_image().items())
        lines.append(f'  labels per image -> images: {hist}')
        return '\n'.join(lines)

    def save(self, path: str | Path) -> Path:
        """Write the regime as JSON, one image per line (diff-friendly)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        head = [('format', FILE_FORMAT), ('version', FILE_VERSION),
                ('name', self.name), ('params', self.params),
                ('tasks', list(self.tasks)),
                ('allow_empty', self.allow_empty)]
        lines = ['{']
        for key, value in head:
            lines.append(f'  {json.dumps(key)}: '
                         f'{json.dumps(value, sort_keys=True)},')
        rows = [f'    {json.dumps(i)}: {json.dumps(self.labelled_tasks(i))}'
                for i in self.image_ids]
        lines.append('  "labels": {')
        lines.append(',\n'.join(rows))
        lines.append('  }')
        lines.append('}')
        path.write_text('\n'.join(lines) + '\n', encoding='utf-8')
        return path


def _no_duplicate_keys(path: Path):
    """A json object hook that refuses duplicate keys (e.g. image ids)."""
    def hook(pairs: List[tuple]) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise RegimeError(f'{path}: duplicate key {key!r} '
                                  '(image ids must be unique)')
            out[key] = value
        return out
    return hook


def load_regime(path: str | Path) -> LabelRegime:
    """Read a regime written by :meth:`LabelRegime.save`, exactly."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'label regime file not found: {path}')
    try:
        data = json.loads(path.read_text(encoding='utf-8'),
                          object_pairs_hook=_no_duplicate_keys(path))
    except json.JSONDecodeError as err:
        raise RegimeError(f'{path}: invalid JSON ({err})') from None
    if not isinstance(data, dict) or data.get('format') != FILE_FORMAT:
        raise RegimeError(f'{path}: not a label regime file (expected '
                          f'"format": "{FILE_FORMAT}")')
    if data.get('version') != FILE_VERSION:
        raise RegimeError(f'{path}: unsupported version '
                          f'{data.get("version")!r} (expected {FILE_VERSION})')
    for key in ('name', 'params', 'tasks', 'labels'):
        if key not in data:
            raise RegimeError(f'{path}: missing key {key!r}')
    labels = data['labels']
    if not isinstance(labels, dict):
        raise RegimeError(f'{path}: "labels" must map image id -> task list')
    try:
        tasks = _check_task_names(data['tasks'], str(path))
    except RegimeError as err:
        raise RegimeError(str(err)) from None
    flags = np.zeros((len(labels), len(tasks)), dtype=bool)
    for row, (image_id, labelled) in enumerate(labels.items()):
        if not isinstance(labelled, list):
            raise RegimeError(f'{path}: image {image_id!r}: expected a list '
                              f'of task names, got {labelled!r}')
        if len(set(labelled)) != len(labelled):
            raise RegimeError(f'{path}: image {image_id!r}: a task is listed '
                              f'twice in {labelled!r}')
        for task in labelled:
            if task not in tasks:
                raise RegimeError(f'{path}: image {image_id!r}: unknown task '
                                  f'{task!r} (tasks of this file: {tasks})')
            flags[row, tasks.index(task)] = True
    try:
        return LabelRegime(data['name'], tasks, list(labels), flags,
                           data['params'],
                           allow_empty=bool(data.get('allow_empty', False)))
    except RegimeError as err:
        raise RegimeError(f'{path}: {err}') from None
