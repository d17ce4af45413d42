"""Write procedural scenes in the NYUv2 preprocessed layout, idempotently, with meta.json last."""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import shutil
import time
from pathlib import Path

import numpy as np

from .constants import (CLASS_NAMES, GENERATOR_VERSION, IGNORE_INDEX, MAX_DEPTH, PRESETS, SALIENT_CLASSES,
                        SPLIT_CODES)
from .primitives import nyu_intrinsics
from .render import ignore_band_radius, render_scene

MAP_KEYS = ("image", "label", "depth", "normal", "instance", "edge", "saliency")
SPLIT_DIRS = {"train": "train", "test": "val"}  # NYUv2 convention: val/ holds the test split
MARKER = ".generating"


def resolve_config(preset: str, height, width, num_train, num_test, seed: int, val_fraction: float) -> dict:
    """Fill unset sizes from the preset and validate everything."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    p = PRESETS[preset]
    cfg = dict(version=GENERATOR_VERSION, preset=preset, seed=int(seed), val_fraction=float(val_fraction),
               height=int(p["height"] if height is None else height), width=int(p["width"] if width is None else width),
               num_train=int(p["num_train"] if num_train is None else num_train),
               num_test=int(p["num_test"] if num_test is None else num_test))
    for key in ("height", "width"):
        if cfg[key] < 2:
            raise ValueError(f"{key} must be >= 2, got {cfg[key]}")
    for key in ("num_train", "num_test"):
        if cfg[key] < 0:
            raise ValueError(f"{key} must be >= 0, got {cfg[key]}")
    if not 0.0 <= cfg["val_fraction"] < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    return cfg


def config_hash(cfg: dict) -> str:
    """Stable hash of everything that determines the files' content."""
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:16]


def split_train_val(num_train: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Deterministic, sorted, disjoint train/val index lists covering range(num_train)."""
    n_val = int(round(val_fraction * num_train))
    if val_fraction > 0 and num_train >= 2:
        n_val = min(max(n_val, 1), num_train - 1)
    perm = np.random.default_rng(np.random.SeedSequence([int(seed), 7919])).permutation(num_train)
    val = sorted(int(i) for i in perm[:n_val])
    val_set = set(val)
    return [i for i in range(num_train) if i not in val_set], val


def sample_seed(seed: int, split: str, index: int) -> list[int]:
    """Seed entropy of image `index` of `split` ('train' or 'test')."""
    return [int(seed), SPLIT_CODES[split], int(index)]


def _write_one(job: tuple[str, str, int, int, int, int]) -> int:
    """Render one image and save its maps (runs in worker processes)."""
    root, split, index, seed, height, width = job
    maps = render_scene(sample_seed(seed, split, index), height, width)
    base = Path(root) / SPLIT_DIRS[split]
    for key in MAP_KEYS:
        np.save(base / key / f"{index}.npy", maps[key])
    return index


def load_sample(root, split_dir: str, index: int) -> dict[str, np.ndarray]:
    """Load the maps of ROOT/split_dir/*/index.npy that exist."""
    base = Path(root) / split_dir
    out = {k: np.load(base / k / f"{index}.npy") for k in MAP_KEYS if (base / k / f"{index}.npy").exists()}
    if not out:
        raise FileNotFoundError(f"no maps for index {index} under {base}")
    return out


def is_complete(root: Path, meta: dict) -> bool:
    """True if every expected file exists (cheap check, no content reads)."""
    for split, n in (("train", meta["num_train"]), ("test", meta["num_test"])):
        for key in MAP_KEYS:
            folder = root / SPLIT_DIRS[split] / key
            if n and not (folder / f"{n - 1}.npy").exists():
                return False
            if folder.is_dir() and len(os.listdir(folder)) != n:
                return False
    return (root / "splits" / "train.txt").exists() and (root / "splits" / "val.txt").exists()


def _check_target(root: Path, digest: str, overwrite: bool) -> dict | None:
    """Existing up-to-date meta, None to (re)generate, or a clear error if we must not touch root."""
    meta_path = root / "meta.json"
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
        except (json.JSONDecodeError, OSError) as err:
            raise RuntimeError(f"cannot read {meta_path}: {err}; pass overwrite=True to regenerate") from err
        if meta.get("config_hash") == digest and not overwrite and is_complete(root, meta):
            return meta
        if meta.get("config_hash") != digest and not overwrite:
            old = {k: meta.get(k) for k in ("preset", "seed", "height", "width", "num_train", "num_test",
                                            "val_fraction", "version")}
            raise FileExistsError(f"{root} already holds a different procedural dataset {old}; "
                                  f"pass overwrite=True (--overwrite) to replace it")
        return None
    if root.exists() and any(root.iterdir()) and not (root / MARKER).exists() and not overwrite:
        raise FileExistsError(f"{root} is not empty and has no meta.json (not a procedural dataset); "
                              f"pass overwrite=True (--overwrite) or choose an empty directory")
    return None


def _prepare_dirs(root: Path, cfg: dict) -> None:
    """Remove our own folders from a stale/partial run and create empty ones."""
    for name in ("meta.json",):
        (root / name).unlink(missing_ok=True)
    for name in ("train", "val", "splits"):
        if (root / name).exists():
            shutil.rmtree(root / name)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text(json.dumps(cfg))  # marks an interrupted run as ours
    for split_dir in SPLIT_DIRS.values():
        for key in MAP_KEYS:
            (root / split_dir / key).mkdir(parents=True, exist_ok=True)
    (root / "splits").mkdir()


def _run_jobs(jobs: list[tuple], workers: int, progress: bool) -> None:
    """Render+write all jobs, optionally in a process pool; prints progress if asked."""
    t0, total = time.perf_counter(), len(jobs)
    step = max(1, -(-total // 10))

    def report(done: int) -> None:
        if progress and (done % step == 0 or done == total):
            rate = done / max(time.perf_counter() - t0, 1e-9)
            print(f"[procedural] {done}/{total} images ({rate:.1f} img/s)", flush=True)

    if workers <= 1 or total < 4:
        for n, job in enumerate(jobs, 1):
            _write_one(job)
            report(n)
        return
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ctx.Pool(workers) as pool:
        for n, _ in enumerate(pool.imap_unordered(_write_one, jobs, chunksize=2), 1):
            report(n)


def generate_dataset(root, *, preset: str = "small", height: int | None = None, width: int | None = None,
                     num_train: int | None = None, num_test: int | None = None, seed: int = 0,
                     val_fraction: float = 0.1, workers: int | None = None, overwrite: bool = False,
                     progress: bool = True) -> dict:
    """Generate (or confirm up to date) a procedural dataset under root; returns its meta dict."""
    root = Path(root)
    cfg = resolve_config(preset, height, width, num_train, num_test, seed, val_fraction)
    digest = config_hash(cfg)
    meta = _check_target(root, digest, overwrite)
    if meta is not None:
        if progress:
            print(f"[procedural] {root} is up to date ({meta['num_train']} train / {meta['num_test']} test, "
                  f"{meta['height']}x{meta['width']}); nothing to do", flush=True)
        return meta
    _prepare_dirs(root, cfg)
    jobs = [(str(root), split, i, cfg["seed"], cfg["height"], cfg["width"])
            for split in ("train", "test") for i in range(cfg[f"num_{split}"])]
    workers = min(os.cpu_count() or 1, 8) if workers is None else int(workers)
    t0 = time.perf_counter()
    _run_jobs(jobs, workers, progress)
    seconds = time.perf_counter() - t0
    train_idx, val_idx = split_train_val(cfg["num_train"], cfg["val_fraction"], cfg["seed"])
    (root / "splits" / "train.txt").write_text("".join(f"{i}\n" for i in train_idx))
    (root / "splits" / "val.txt").write_text("".join(f"{i}\n" for i in val_idx))
    fx, fy, cx, cy = nyu_intrinsics(cfg["height"], cfg["width"])
    meta = dict(cfg, config_hash=digest, class_names=list(CLASS_NAMES), num_classes=len(CLASS_NAMES),
                ignore_index=IGNORE_INDEX, max_depth=MAX_DEPTH, salient_classes=list(SALIENT_CLASSES),
                ignore_band_radius=ignore_band_radius(cfg["width"]),
                counts={"train": len(train_idx), "val": len(val_idx), "test": cfg["num_test"]},
                folders={"train": "train", "test": "val"}, maps=list(MAP_KEYS),
                intrinsics=dict(fx=fx, fy=fy, cx=cx, cy=cy))
    tmp = root / "meta.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2))
    os.replace(tmp, root / "meta.json")  # meta.json appears last and atomically
    (root / MARKER).unlink(missing_ok=True)
    if progress:
        n = len(jobs)
        print(f"[procedural] wrote {n} images to {root} in {seconds:.1f} s ({n / max(seconds, 1e-9):.1f} img/s)",
              flush=True)
    return meta
