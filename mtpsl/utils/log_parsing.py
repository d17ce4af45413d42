"""Read the scalars MMEngine's LocalVisBackend writes during training.

A run writes ``<work_dir>/<timestamp>/vis_data/scalars.json``: one JSON object
per line. Training lines hold the logged losses, ``lr``, ``time`` and
``data_time`` under ``step`` = iteration; validation lines hold the metrics
(``sem_seg/mIoU``, ``depth/abs_err``, ...). MMEngine's LoggerHook logs those
under ``step`` = epoch by default (``log_metric_by_epoch=True``), which is 0
all along an iteration-based run; so a validation point is placed at the
iteration of the training line before it (or at its own step if larger, as
with ``log_metric_by_epoch=False``). A resumed run adds a second timestamp
folder; later runs win where they log the same step again.
"""
from __future__ import annotations

import glob
import json
import math
import os
import os.path as osp
from typing import Dict, List, Tuple

# Values logged for bookkeeping, not curves.
BOOKKEEPING_KEYS = ('step', 'iter', 'epoch', 'time', 'data_time', 'memory')

# {'train' | 'val': {key: (steps, values)}}
Series = Dict[str, Dict[str, Tuple[List[int], List[float]]]]


def find_scalar_files(work_dir: str) -> List[str]:
    """The ``scalars.json`` files of a work dir, oldest run first."""
    if osp.isfile(work_dir):
        return [work_dir]
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                      'scalars.json')))
    if not files:  # a single run's timestamp folder given directly
        files = glob.glob(osp.join(work_dir, 'vis_data', 'scalars.json'))
    if not files:
        raise FileNotFoundError(
            f'{work_dir}: no <timestamp>/vis_data/scalars.json found (is it a '
            'work dir of tools/train.py with the LocalVisBackend?)')
    return files


def load_records(path: str) -> List[dict]:
    """The JSON objects of one scalars file, one per non-empty line.

    A cut last line (a run killed while writing) is dropped; a bad line
    elsewhere is an error naming the file and line.
    """
    with open(path) as f:
        lines = [(i + 1, ln) for i, ln in enumerate(f) if ln.strip()]
    records = []
    for n, (lineno, line) in enumerate(lines):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            if n == len(lines) - 1:
                break
            raise ValueError(f'{path}:{lineno}: not a JSON object ({e})') \
                from None
        if not isinstance(rec, dict) or 'step' not in rec:
            raise ValueError(f'{path}:{lineno}: expected an object with a '
                             f'"step", got {line.strip()[:80]!r}')
        records.append(rec)
    return records


def is_train_record(record: dict) -> bool:
    """Training lines carry a learning rate or a loss; validation lines do
    not."""
    return any(k == 'lr' or k.endswith('/lr') or k.endswith('.lr')
               or 'loss' in k for k in record)


def parse_work_dir(work_dir: str) -> Series:
    """Training and validation series of every run of ``work_dir``."""
    merged: Dict[str, Dict[str, Dict[int, float]]] = {'train': {}, 'val': {}}
    for path in find_scalar_files(work_dir):
        last_train_step = 0
        for rec in load_records(path):
            phase = 'train' if is_train_record(rec) else 'val'
            step = int(rec['step'])
            if phase == 'train':
                last_train_step = step
            else:
                step = max(step, last_train_step)
            for key, value in rec.items():
                if key in BOOKKEEPING_KEYS or isinstance(value, bool) or \
                        not isinstance(value, (int, float)):
                    continue
                if math.isfinite(value):
                    merged[phase].setdefault(key, {})[step] = float(value)
    return {phase: {key: (sorted(by_step), [by_step[s] for s in
                                            sorted(by_step)])
                    for key, by_step in keys.items()}
            for phase, keys in merged.items()}


def run_name(work_dir: str) -> str:
    """A legend name for a work dir: its folder name."""
    return osp.basename(osp.normpath(os.fspath(work_dir)))
