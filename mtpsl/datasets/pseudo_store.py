"""The folder of offline pseudo supervision (HiTTs' two-stage schedule).

One ``{img_id}.npz`` per training image, written atomically, holding
``pseudo_<task>`` (pseudo labels in GT units, only for tasks the image is
NOT labelled for), ``feat_<task>`` (the stage-1 feature ``F_i'`` at its
stride) and ``conf_<task>`` (the stage-1 mask ``M^f`` at that stride) for
every task, and a ``manifest.json`` saying what made them (stage-1
checkpoint sha256, label regime, tau, stride, dtype). Stage 2 refuses a
folder whose manifest differs from its own settings, naming both values.
"""
from __future__ import annotations

import hashlib
import json
import os
import os.path as osp
from typing import Dict, Iterable, List, Mapping, Optional

import numpy as np

MANIFEST = 'manifest.json'
FORMAT_VERSION = 1


def file_sha256(path: str, chunk: int = 1 << 20) -> str:
    """The sha256 of a whole file (hex)."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            h.update(block)
    return h.hexdigest()


def flags_digest(entries: Iterable[Mapping]) -> str:
    """sha256 of the (img_id, label flags) of a dataset's entries: two runs
    with the same regime config but other flags are told apart."""
    rows = [[str(e['img_id']), sorted((t, bool(f)) for t, f in
                                      e['label_flags'].items())]
            for e in entries]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def make_manifest(checkpoint_sha256: str, label_regime, label_flags: str,
                  tau: Mapping[str, float], stride, dtype: str,
                  tasks: Iterable[str]) -> dict:
    """The record a folder of pseudo supervision is checked against."""
    return json.loads(json.dumps(dict(
        format_version=FORMAT_VERSION, checkpoint_sha256=checkpoint_sha256,
        label_regime=label_regime, label_flags_sha256=label_flags,
        tau={t: float(v) for t, v in tau.items()}, stride=stride,
        dtype=str(dtype), tasks=list(tasks)), sort_keys=True))


def read_manifest(out_dir: str) -> Optional[dict]:
    """The folder's manifest, or None when there is none."""
    path = osp.join(out_dir, MANIFEST)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def check_manifest(out_dir: str, expected: Mapping) -> bool:
    """True if the folder's manifest equals ``expected``, False if it has
    none; a ValueError naming the first differing key and both values."""
    found = read_manifest(out_dir)
    if found is None:
        return False
    expected = json.loads(json.dumps(dict(expected), sort_keys=True))
    diff = sorted(k for k in set(found) | set(expected)
                  if found.get(k) != expected.get(k))
    if diff:
        k = diff[0]
        raise ValueError(
            f'pseudo supervision in {out_dir} was made with {k}='
            f'{found.get(k)!r}, but this run has {k}={expected.get(k)!r} '
            f'(differing keys: {diff}); remake it '
            '(tools/make_pseudo_labels.py --overwrite) or point pseudo_dir '
            'elsewhere')
    return True


def write_manifest(out_dir: str, manifest: Mapping) -> None:
    """Write the manifest atomically."""
    os.makedirs(out_dir, exist_ok=True)
    path = osp.join(out_dir, MANIFEST)
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'w') as f:
        json.dump(dict(manifest), f, indent=2, sort_keys=True)
    os.replace(tmp, path)


def entry_path(out_dir: str, img_id: str) -> str:
    """Where the pseudo supervision of ``img_id`` lives."""
    return osp.join(out_dir, f'{img_id}.npz')


def write_entry(out_dir: str, img_id: str,
                arrays: Mapping[str, np.ndarray]) -> None:
    """Write one image's arrays atomically (a crash leaves no half file)."""
    os.makedirs(out_dir, exist_ok=True)
    path = entry_path(out_dir, img_id)
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'wb') as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def read_entry(out_dir: str, img_id: str) -> Dict[str, np.ndarray]:
    """One image's arrays; a clear error when the file is missing."""
    path = entry_path(out_dir, img_id)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'no pseudo supervision for image {img_id!r}: {path} is missing '
            '(run tools/make_pseudo_labels.py, or let HiTTsPseudoLabelHook '
            'make it)')
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def missing_ids(out_dir: str, img_ids: Iterable[str]) -> List[str]:
    """Image ids whose entry is not written yet."""
    return [i for i in img_ids if not osp.isfile(entry_path(out_dir, i))]
