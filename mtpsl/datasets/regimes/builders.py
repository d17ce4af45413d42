"""Label regime builders, registered in ``LABEL_REGIMES``.

Each builder is called as
``LABEL_REGIMES.build(dict(type='onelabel', seed=0),
default_args=dict(image_ids=ids, tasks=tasks))`` and returns a
:class:`LabelRegime`. Random builders draw from ``np.random.default_rng(seed)``
only, and sample over the ids in a canonical order (numeric ids by value, the
others as strings), so the regime of an image depends on the seed and the SET
of ids, not on the order a dataset happens to list them in.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np

from mtpsl.registry import LABEL_REGIMES

from .published import load_published_split
from .regime import (LabelRegime, RegimeError, _check_image_ids,
                     _check_task_names, load_regime)


def _canonical_order(image_ids: Sequence[str]) -> np.ndarray:
    """Positions of ``image_ids`` in canonical (numeric-aware sorted) order."""
    def key(image_id: str) -> tuple:
        return (0, int(image_id), '') if image_id.isdigit() else (1, 0,
                                                                  image_id)
    return np.array(sorted(range(len(image_ids)),
                           key=lambda i: key(image_ids[i])), dtype=np.int64)


def _prepare(name: str, image_ids: Sequence[str], tasks: Sequence[str]):
    """Validated ids and tasks for builder ``name``."""
    where = f'label regime {name!r}'
    ids = _check_image_ids([str(i) for i in image_ids], where)
    if not ids:
        raise RegimeError(f'{where}: no image ids given')
    return ids, _check_task_names(tasks, where)


def _in_id_order(canonical_flags: np.ndarray, ids: Sequence[str]):
    """Flags drawn in canonical order, put back in the order of ``ids``."""
    flags = np.empty_like(canonical_flags)
    flags[_canonical_order(ids)] = canonical_flags
    return flags


def _round_half_up(x: float) -> int:
    """round(x) with halves going up (Python's round() goes to even)."""
    return int(np.floor(x + 0.5))


@LABEL_REGIMES.register_module(name='full')
def build_full(image_ids: Sequence[str], tasks: Sequence[str]) -> LabelRegime:
    """Every image labelled for every task."""
    ids, tasks = _prepare('full', image_ids, tasks)
    return LabelRegime('full', tasks, ids,
                       np.ones((len(ids), len(tasks)), dtype=bool),
                       dict(type='full'))


@LABEL_REGIMES.register_module(name='onelabel')
def build_onelabel(image_ids: Sequence[str], tasks: Sequence[str],
                   seed: int = 0) -> LabelRegime:
    """Each image exactly one task; tasks balanced to within one image.

    Every task gets N // K images; the N % K remaining images go to distinct
    tasks drawn at random; the resulting task list is randomly permuted over
    the images (as the published NYUv2 split, 265/265/265 of 795).
    """
    ids, tasks = _prepare('onelabel', image_ids, tasks)
    n, k = len(ids), len(tasks)
    rng = np.random.default_rng(seed)
    per_task = np.full(k, n // k)
    per_task[rng.choice(k, n % k, replace=False)] += 1
    assignment = rng.permutation(np.repeat(np.arange(k), per_task))
    flags = np.zeros((n, k), dtype=bool)
    flags[np.arange(n), assignment] = True
    return LabelRegime('onelabel', tasks, ids, _in_id_order(flags, ids),
                       dict(type='onelabel', seed=seed))


@LABEL_REGIMES.register_module(name='randomlabels')
def build_randomlabels(image_ids: Sequence[str], tasks: Sequence[str],
                       seed: int = 0) -> LabelRegime:
    """Each image a random subset of 1..K-1 tasks.

    Per image, independently: the subset size is uniform on {1, ..., K-1},
    then the subset is uniform among the subsets of that size.
    """
    ids, tasks = _prepare('randomlabels', image_ids, tasks)
    n, k = len(ids), len(tasks)
    if k < 2:
        raise RegimeError(f"label regime 'randomlabels' needs at least 2 "
                          f'tasks, got {tasks}')
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, k, size=n)  # upper bound exclusive: 1..K-1
    # The first `size` tasks of a random ranking form a uniform subset.
    ranks = np.argsort(np.argsort(rng.random((n, k)), axis=1), axis=1)
    flags = ranks < sizes[:, None]
    return LabelRegime('randomlabels', tasks, ids, _in_id_order(flags, ids),
                       dict(type='randomlabels', seed=seed))


@LABEL_REGIMES.register_module(name='fewshot')
def build_fewshot(image_ids: Sequence[str], tasks: Sequence[str], task: str,
                  num_labelled: int = 10, seed: int = 0) -> LabelRegime:
    """``task`` labelled on ``num_labelled`` random images, others on all."""
    ids, tasks = _prepare('fewshot', image_ids, tasks)
    if task not in tasks:
        raise RegimeError(f"label regime 'fewshot': task {task!r} is not one "
                          f'of the tasks {tasks}')
    n = len(ids)
    if not 0 <= int(num_labelled) <= n or int(num_labelled) != num_labelled:
        raise RegimeError(f"label regime 'fewshot': num_labelled="
                          f'{num_labelled!r} must be an integer in [0, {n}]')
    rng = np.random.default_rng(seed)
    flags = np.ones((n, len(tasks)), dtype=bool)
    flags[:, tasks.index(task)] = False
    chosen = rng.choice(n, int(num_labelled), replace=False)
    flags[chosen, tasks.index(task)] = True
    return LabelRegime('fewshot', tasks, ids, _in_id_order(flags, ids),
                       dict(type='fewshot', task=task,
                            num_labelled=int(num_labelled), seed=seed))


@LABEL_REGIMES.register_module(name='fractions')
def build_fractions(image_ids: Sequence[str], tasks: Sequence[str],
                    fractions: Dict[str, float], seed: int = 0,
                    on_empty: str = 'keep') -> LabelRegime:
    """Each task labelled on round(f * N) random images, independently.

    Tasks missing from ``fractions`` are labelled on every image. Rounding is
    half up. An image left with no task is handled by ``on_empty``: ``'keep'``
    (default: keeps the counts exact; the regime allows empty rows and
    ``params['num_empty']`` reports how many), ``'assign'`` (give it one task
    uniformly at random; ``params['num_assigned']``) or ``'error'``.
    """
    ids, tasks = _prepare('fractions', image_ids, tasks)
    if on_empty not in ('keep', 'assign', 'error'):
        raise RegimeError(f"label regime 'fractions': on_empty={on_empty!r} "
                          "must be 'keep', 'assign' or 'error'")
    for key, frac in fractions.items():
        if key not in tasks:
            raise RegimeError(f"label regime 'fractions': task {key!r} is not "
                              f'one of the tasks {tasks}')
        if not 0.0 <= float(frac) <= 1.0:
            raise RegimeError(f"label regime 'fractions': fraction {key}="
                              f'{frac!r} is outside [0, 1]')
    n, k = len(ids), len(tasks)
    rng = np.random.default_rng(seed)
    flags = np.zeros((n, k), dtype=bool)
    # Draw in sorted task-name order so the column order does not matter.
    for task in sorted(tasks):
        count = _round_half_up(float(fractions.get(task, 1.0)) * n)
        flags[rng.choice(n, count, replace=False), tasks.index(task)] = True
    empty = np.flatnonzero(~flags.any(1))
    params = dict(type='fractions', fractions=dict(fractions), seed=seed,
                  on_empty=on_empty)
    if len(empty) and on_empty == 'error':
        raise RegimeError(f"label regime 'fractions': {len(empty)} image(s) "
                          f'have no labelled task, first '
                          f'{ids[_canonical_order(ids)[empty[0]]]!r}')
    if on_empty == 'assign':
        flags[empty, rng.integers(0, k, size=len(empty))] = True
        params['num_assigned'] = int(len(empty))
    else:
        params['num_empty'] = int(len(empty))
    return LabelRegime('fractions', tasks, ids, _in_id_order(flags, ids),
                       params, allow_empty=on_empty == 'keep')


@LABEL_REGIMES.register_module(name='from_file')
def build_from_file(image_ids: Optional[Sequence[str]],
                    tasks: Optional[Sequence[str]], path: str,
                    dataset: Optional[str] = None,
                    allow_empty: bool = False) -> LabelRegime:
    """A regime read from ``path``, restricted to ``image_ids`` and ``tasks``.

    ``.json``: a file written by :meth:`LabelRegime.save`; ``.pth`` / ``.npy``:
    a published split (see :mod:`.published`). ``image_ids`` / ``tasks`` of
    ``None`` keep all of the file's. Dropping tasks may leave images with no
    label: an error unless ``allow_empty``.
    """
    path = Path(path)
    if path.suffix.lower() == '.json':
        regime = load_regime(path)
    else:
        regime = load_published_split(path, dataset=dataset,
                                      allow_empty=allow_empty)
    # A file written with empty rows allowed (e.g. fractions, 'keep') keeps
    # allowing them; select_tasks below always would, so remember it now.
    allow_empty = allow_empty or regime.allow_empty
    if image_ids is not None:
        ids = [str(i) for i in image_ids]
        missing = [i for i in ids if i not in regime]
        if missing:
            raise RegimeError(f'{path}: image id {missing[0]!r} is not in the '
                              f'file ({len(missing)} of {len(ids)} requested '
                              'ids missing)')
        regime = regime.subset(ids)
    if tasks is not None:
        missing = [t for t in tasks if t not in regime.tasks]
        if missing:
            raise RegimeError(f'{path}: task {missing[0]!r} is not in the '
                              f'file (its tasks: {regime.tasks})')
        regime = regime.select_tasks(tasks)
    params = dict(type='from_file', path=str(path), file_params=regime.params)
    if dataset is not None:
        params['dataset'] = dataset
    try:
        return LabelRegime(regime.name, regime.tasks, regime.image_ids,
                           regime.flags, params,
                           allow_empty=allow_empty)
    except RegimeError as err:
        raise RegimeError(f'{path}: {err}') from None
