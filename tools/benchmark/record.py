"""The result record of one benchmark run: one JSON file per run."""
from __future__ import annotations

import glob
import hashlib
import json
import os
import os.path as osp
import subprocess
from typing import Dict, List

RECORD_FORMAT = 'mtpsl-benchmark-record'
RECORD_VERSION = 1
RECORD_KEYS = ('format', 'version', 'suite', 'run_id', 'group', 'method',
               'role', 'task', 'config', 'commit', 'seed', 'regime',
               'iterations', 'wall_time_s', 'peak_memory_mib', 'metrics',
               'val_curve', 'checkpoint')


def sha256_file(path: str) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def git_commit(root: str = '.') -> str:
    """``HEAD``'s sha, with ``+dirty`` when tracked files differ from it."""
    def git(*args):
        return subprocess.run(['git', *args], cwd=root, capture_output=True,
                              text=True).stdout.strip()
    sha = git('rev-parse', 'HEAD') or 'unknown'
    dirty = git('status', '--porcelain', '--untracked-files=no')
    return sha + ('+dirty' if dirty else '')


def record_path(out_dir: str, run_id: str) -> str:
    """Where the record of ``run_id`` lives."""
    return osp.join(out_dir, 'records', f'{run_id}.json')


def write_record(out_dir: str, record: dict) -> str:
    """Write ``record`` atomically (a killed run leaves no half record)."""
    missing = [k for k in RECORD_KEYS if k not in record]
    if missing:
        raise ValueError(f'benchmark record {record.get("run_id")!r} lacks '
                         f'{missing}')
    path = record_path(out_dir, record['run_id'])
    os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(record, f, indent=1, sort_keys=True)
        f.write('\n')
    os.replace(tmp, path)
    return path


def read_record(path: str) -> dict:
    """One record, checked for its format and keys."""
    with open(path) as f:
        record = json.load(f)
    if record.get('format') != RECORD_FORMAT:
        raise ValueError(f'{path}: not a benchmark record (format '
                         f'{record.get("format")!r})')
    missing = [k for k in RECORD_KEYS if k not in record]
    if missing:
        raise ValueError(f'{path}: record lacks {missing}')
    return record


def read_records(out_dir: str) -> List[dict]:
    """Every record under ``out_dir/records``, sorted by run id."""
    paths = sorted(glob.glob(osp.join(out_dir, 'records', '*.json')))
    return [read_record(p) for p in paths]


def merge_records(sources: List[str], out_dir: str) -> Dict[str, int]:
    """Copy the records of several result dirs into ``out_dir``.

    A run present in two sources must have the same metrics and checkpoint
    sha256 in both (a re-run elsewhere that disagrees is an error naming the
    run and both files); counts ``{'copied', 'identical'}``.
    """
    seen: Dict[str, str] = {p['run_id']: record_path(out_dir, p['run_id'])
                            for p in read_records(out_dir)} \
        if osp.isdir(osp.join(out_dir, 'records')) else {}
    counts = dict(copied=0, identical=0)
    for src in sources:
        for path in sorted(glob.glob(osp.join(src, 'records', '*.json'))):
            rec = read_record(path)
            if rec['run_id'] in seen:
                other = read_record(seen[rec['run_id']])
                same = (other['metrics'] == rec['metrics'] and
                        other['checkpoint']['sha256'] ==
                        rec['checkpoint']['sha256'])
                if not same:
                    raise ValueError(
                        f'run {rec["run_id"]}: {path} and '
                        f'{seen[rec["run_id"]]} disagree (metrics or '
                        'checkpoint); keep one of them')
                counts['identical'] += 1
                continue
            seen[rec['run_id']] = write_record(out_dir, rec)
            counts['copied'] += 1
    return counts
