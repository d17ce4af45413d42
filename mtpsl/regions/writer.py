"""Writing one region map per image: resumable, shardable, with progress.

Used by ``tools/generate_region_maps.py``; the map maker is any callable
``uint8 H x W x 3 RGB -> H x W ids`` (SAM in the tool, a stub in tests).
"""
from __future__ import annotations

import json
import os
import os.path as osp
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, TextIO, Tuple

import numpy as np

from .io import REGION_SUFFIXES, read_image_rgb, read_region_map, \
    write_region_map
from .merge import num_regions

META_FILE = 'regions_meta.json'
Item = Tuple[str, str]  # (img_id, img_path)


def parse_shard(shard: Optional[str], env=os.environ) -> Tuple[int, int]:
    """``(index, count)`` from ``'i/n'``, else from torchrun's RANK and
    WORLD_SIZE, else ``(0, 1)``."""
    if shard is not None:
        try:
            i, n = (int(v) for v in shard.split('/'))
        except ValueError:
            raise ValueError(f'--shard must be i/n (e.g. 0/4), got {shard!r}') \
                from None
    else:
        i, n = int(env.get('RANK', 0)), int(env.get('WORLD_SIZE', 1))
    if not (n >= 1 and 0 <= i < n):
        raise ValueError(f'shard {i}/{n}: need 0 <= i < n')
    return i, n


def shard_items(items: Sequence[Item], index: int, count: int) -> List[Item]:
    """Every ``count``-th item from ``index``: disjoint shards covering all."""
    return list(items[index::count])


def check_meta(out_dir: str, record: dict, overwrite: bool) -> None:
    """Refuse to mix maps made with other settings; record ours (atomically)."""
    path = osp.join(out_dir, META_FILE)
    record = json.loads(json.dumps(record, sort_keys=True))
    if osp.isfile(path) and not overwrite:
        with open(path) as f:
            old = json.load(f)
        diff = sorted(k for k in set(old) | set(record)
                      if old.get(k) != record.get(k))
        if diff:
            k = diff[0]
            raise ValueError(
                f'{out_dir} holds region maps made with other settings '
                f'({k}: {old.get(k)!r} there, {record.get(k)!r} now); pass '
                '--overwrite to remake them, or choose another --out-dir')
        return
    os.makedirs(out_dir, exist_ok=True)
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'w') as f:
        json.dump(record, f, indent=2, sort_keys=True)
    os.replace(tmp, path)


class Progress:
    """A one-line progress bar with ETA from the images actually computed."""

    def __init__(self, total: int, prefix: str = '', stream: TextIO = None,
                 enabled: bool = True) -> None:
        self.total, self.prefix, self.enabled = total, prefix, enabled
        self.stream = stream or sys.stderr
        self.done = self.computed = 0
        self.compute_s = 0.0
        self.tty = getattr(self.stream, 'isatty', lambda: False)()

    def step(self, seconds: Optional[float]) -> None:
        """One image done: ``seconds`` spent computing it, None if skipped."""
        self.done += 1
        if seconds is not None:
            self.computed += 1
            self.compute_s += seconds
        if not self.enabled:
            return
        per = self.compute_s / self.computed if self.computed else 0.0
        eta = per * (self.total - self.done)
        width = 24
        fill = int(width * self.done / max(self.total, 1))
        line = (f'{self.prefix}[{"#" * fill}{"." * (width - fill)}] '
                f'{self.done}/{self.total}  {per:.2f} s/img  ETA '
                f'{time.strftime("%H:%M:%S", time.gmtime(eta))}')
        end = '' if self.tty and self.done < self.total else '\n'
        self.stream.write(('\r' if self.tty else '') + line + end)
        self.stream.flush()


def generate_maps(items: Sequence[Item], make_map: Callable[[np.ndarray],
                                                            np.ndarray],
                  out_dir: str, suffix: str = '.npy',
                  shard: Tuple[int, int] = (0, 1), overwrite: bool = False,
                  progress: bool = True, stream: TextIO = None) -> Dict:
    """Make the maps of this shard's images that are not there yet.

    Every map is written atomically, so an interrupted run leaves only whole
    files and a rerun skips them. Returns the summary of this shard.
    """
    if suffix not in REGION_SUFFIXES:
        raise ValueError(f'--format must be one of {REGION_SUFFIXES}, got '
                         f'{suffix!r}')
    mine = shard_items(items, *shard)
    prefix = f'[shard {shard[0]}/{shard[1]}] ' if shard[1] > 1 else ''
    bar = Progress(len(mine), prefix, stream, progress)
    counts, computed, start = [], 0, time.perf_counter()
    for img_id, img_path in mine:
        path = osp.join(out_dir, f'{img_id}{suffix}')
        if osp.isfile(path) and not overwrite:
            counts.append(num_regions(read_region_map(path)))
            bar.step(None)
            continue
        t0 = time.perf_counter()
        image = read_image_rgb(img_path)
        ids = make_map(image)
        if ids.shape != image.shape[:2]:
            raise ValueError(f'{img_path}: region map {ids.shape} does not '
                             f'match the image {image.shape[:2]}')
        write_region_map(path, ids)
        counts.append(num_regions(ids))
        computed += 1
        bar.step(time.perf_counter() - t0)
    seconds = time.perf_counter() - start
    return dict(shard=f'{shard[0]}/{shard[1]}', images=len(mine),
                computed=computed, skipped=len(mine) - computed,
                regions_mean=float(np.mean(counts)) if counts else 0.0,
                regions_min=int(min(counts)) if counts else 0,
                regions_max=int(max(counts)) if counts else 0,
                seconds=seconds,
                seconds_per_computed=seconds / computed if computed else 0.0)


def format_summary(s: Dict, out_dir: str) -> str:
    """The summary printed at the end of a run."""
    return (f'[regions] shard {s["shard"]}: {s["images"]} images '
            f'({s["computed"]} computed, {s["skipped"]} already there) in '
            f'{out_dir}; regions per image mean {s["regions_mean"]:.1f}, '
            f'min {s["regions_min"]}, max {s["regions_max"]}; '
            f'{s["seconds"]:.1f} s ({s["seconds_per_computed"]:.2f} s per '
            'computed image)')
