"""Loaders for the partial-label split files published with MTPSL.

Image id convention:

* ``.pth`` (NYUv2, Cityscapes): row ``i`` of ``labels_weights`` is training
  image ``str(i)``, i.e. the ``{i}.npy`` file index of the MTAN layout.
* ``.npy`` (PASCAL-Context): ids are the VOC ids of the file (``2008_000002``);
  rows are the sorted union of the ids listed for any task, or ``image_ids``
  when given (an id not listed for a task is unlabelled for that task).

The ``.npy`` files are pickles. They are read by :class:`RestrictedUnpickler`,
which resolves only the four numpy globals those files use, so a crafted file
cannot run code (plain ``np.load(allow_pickle=True)`` would).
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from .regime import LabelRegime, RegimeError

# Column order of ``labels_weights`` in the published .pth files.
PTH_COLUMNS: Dict[str, Tuple[str, ...]] = {
    'nyuv2': ('sem_seg', 'depth', 'normal'),
    'cityscapes': ('sem_seg', 'depth'),
}
# Task keys of the published PASCAL-Context .npy files -> our task names.
PASCAL_TASKS: Dict[str, str] = {
    'human_parts': 'human_parts',
    'edge': 'edge',
    'semseg': 'sem_seg',
    'normals': 'normal',
    'sal': 'saliency',
}


class UnsafePickleError(RegimeError):
    """A pickle asked for a global outside the allow-list."""


def _allowed_globals() -> Dict[Tuple[str, str], Any]:
    """The globals a numpy object-array pickle of str lists needs, exactly."""
    try:  # numpy >= 2 moved the module; files written by numpy 1 name the old
        from numpy._core import multiarray
    except ImportError:  # pragma: no cover - numpy 1
        from numpy.core import multiarray
    allowed: Dict[Tuple[str, str], Any] = {
        ('numpy', 'ndarray'): np.ndarray,
        ('numpy', 'dtype'): np.dtype,
    }
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        allowed[(module, '_reconstruct')] = multiarray._reconstruct
        allowed[(module, 'scalar')] = multiarray.scalar
    return allowed


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only allow-listed globals, by exact name."""

    def __init__(self, file: io.BufferedIOBase, source: str) -> None:
        super().__init__(file)
        self._source = source
        self._allowed = _allowed_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            allowed = ', '.join(f'{m}.{n}' for m, n in self._allowed)
            raise UnsafePickleError(
                f'{self._source}: refused to load global {module}.{name} '
                f'from the pickle (allowed: {allowed})') from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f'{self._source}: refused persistent id '
                                f'{pid!r} in the pickle')


def safe_load_pickled_npy(path: str | Path) -> Any:
    """Load a pickled ``.npy`` (or a bare pickle) without running its code."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'split file not found: {path}')
    with path.open('rb') as fh:
        magic = fh.read(6)
        fh.seek(0)
        if magic == b'\x93NUMPY':
            version = np.lib.format.read_magic(fh)
            read = {(1, 0): np.lib.format.read_array_header_1_0,
                    (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read is None:
                raise RegimeError(f'{path}: unsupported .npy version '
                                  f'{version}')
            _, _, dtype = read(fh)
            if dtype != np.dtype(object):
                raise RegimeError(f'{path}: expected a pickled object array, '
                                  f'got dtype {dtype}')
        elif not magic.startswith(b'\x80'):
            raise RegimeError(f'{path}: neither a .npy file nor a pickle')
        try:
            return RestrictedUnpickler(fh, str(path)).load()
        except UnsafePickleError:
            raise
        except Exception as err:  # truncated / corrupt pickle stream
            raise RegimeError(f'{path}: cannot unpickle ({type(err).__name__}:'
                              f' {err})') from None


def _pascal_lists(obj: Any, path: Path) -> Dict[str, list]:
    """Validate the {task: [VOC ids]} dict of a PASCAL split file."""
    if isinstance(obj, np.ndarray) and obj.dtype == object and obj.ndim == 0:
        obj = obj.item()
    if not isinstance(obj, dict):
        raise RegimeError(f'{path}: expected a dict {{task: [image ids]}}, '
                          f'got {type(obj).__name__}')
    lists: Dict[str, list] = {}
    for key, ids in obj.items():
        if key not in PASCAL_TASKS:
            raise RegimeError(f'{path}: unknown task key {key!r} (known: '
                              f'{", ".join(PASCAL_TASKS)})')
        ids = [str(i) if isinstance(i, str) else i for i in list(ids)]
        bad = [i for i in ids if not isinstance(i, str)]
        if bad:
            raise RegimeError(f'{path}: task {key!r}: image id {bad[0]!r} is '
                              'not a string')
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise RegimeError(f'{path}: task {key!r}: image id {dup!r} is '
                              'listed twice')
        lists[PASCAL_TASKS[key]] = ids
    return lists


def load_pascal_split(path: str | Path,
                      image_ids: Optional[Sequence[str]] = None,
                      allow_empty: bool = False) -> LabelRegime:
    """A PASCAL-Context ``.npy`` split as a LabelRegime (safe unpickling)."""
    path = Path(path)
    lists = _pascal_lists(safe_load_pickled_npy(path), path)
    tasks = tuple(lists)
    if image_ids is None:
        image_ids = sorted(set().union(*map(set, lists.values())))
    ids = [str(i) for i in image_ids]
    row = {image_id: i for i, image_id in enumerate(ids)}
    flags = np.zeros((len(ids), len(tasks)), dtype=bool)
    for col, task in enumerate(tasks):
        rows = [row[i] for i in lists[task] if i in row]
        flags[rows, col] = True
    params = dict(source=str(path), dataset='pascal_context')
    try:
        return LabelRegime(path.stem, tasks, ids, flags, params,
                           allow_empty=allow_empty)
    except RegimeError as err:
        raise RegimeError(f'{path}: {err}') from None


def load_pth_split(path: str | Path, dataset: Optional[str] = None,
                   image_ids: Optional[Sequence[str]] = None,
                   allow_empty: bool = False) -> LabelRegime:
    """A NYUv2 / Cityscapes ``.pth`` split (``labels_weights``) as a regime."""
    import torch  # only this loader needs torch

    from mtpsl.utils.safe_load import load_torch_file
    path = Path(path)
    data = load_torch_file(path, what='split file')  # never trusted
    if not isinstance(data, dict) or 'labels_weights' not in data:
        raise RegimeError(f'{path}: expected a dict with key '
                          "'labels_weights'")
    weights = torch.as_tensor(data['labels_weights']).numpy()
    if weights.ndim != 2:
        raise RegimeError(f'{path}: labels_weights has shape '
                          f'{tuple(weights.shape)}, expected (N, K)')
    by_k = {len(cols): name for name, cols in PTH_COLUMNS.items()}
    if dataset is None:
        dataset = by_k.get(weights.shape[1])
        if dataset is None:
            raise RegimeError(f'{path}: cannot infer the dataset from '
                              f'K={weights.shape[1]} columns')
    if dataset not in PTH_COLUMNS:
        raise RegimeError(f'{path}: unknown dataset {dataset!r} (known: '
                          f'{", ".join(PTH_COLUMNS)})')
    tasks = PTH_COLUMNS[dataset]
    if weights.shape[1] != len(tasks):
        raise RegimeError(f'{path}: {weights.shape[1]} columns, but dataset '
                          f'{dataset!r} has {len(tasks)} tasks {tasks}')
    if not np.isin(weights, (0, 1)).all():
        bad = weights[~np.isin(weights, (0, 1))][0]
        raise RegimeError(f'{path}: labels_weights must be 0/1, found {bad}')
    ids = [str(i) for i in range(weights.shape[0])]
    params = dict(source=str(path), dataset=dataset)
    try:
        regime = LabelRegime(path.stem, tasks, ids, weights.astype(bool),
                             params, allow_empty=allow_empty)
        return regime if image_ids is None else regime.subset(image_ids)
    except (RegimeError, KeyError) as err:
        raise RegimeError(f'{path}: {err}') from None


def load_published_split(path: str | Path, dataset: Optional[str] = None,
                         image_ids: Optional[Sequence[str]] = None,
                         allow_empty: bool = False) -> LabelRegime:
    """Load a published split, dispatching on the extension (.pth / .npy)."""
    suffix = Path(path).suffix.lower()
    if suffix in ('.pth', '.pt'):
        return load_pth_split(path, dataset, image_ids, allow_empty)
    if suffix in ('.npy', '.pkl', '.pickle'):
        if dataset not in (None, 'pascal_context'):
            raise RegimeError(f'{path}: .npy split files are PASCAL-Context, '
                              f'not dataset {dataset!r}')
        return load_pascal_split(path, image_ids, allow_empty)
    raise RegimeError(f'{path}: unknown split file extension {suffix!r} '
                      '(expected .pth or .npy)')
