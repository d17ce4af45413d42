"""Generate the procedural indoor-scene dataset in the NYUv2 preprocessed layout.

Usage: python tools/generate_procedural_dataset.py ROOT [--preset small|nyuv2] [--height H --width W]
       [--num-train N --num-test M] [--seed S] [--val-fraction F] [--workers K] [--overwrite]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mtpsl.utils.cli import run_tool  # noqa: E402
from mtpsl.datasets.procedural import PRESETS, generate_dataset  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, generate, print a summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--preset", default="small", choices=sorted(PRESETS))
    ap.add_argument("--height", type=int)
    ap.add_argument("--width", type=int)
    ap.add_argument("--num-train", type=int)
    ap.add_argument("--num-test", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--val-fraction", type=float, default=0.1)
    ap.add_argument("--workers", type=int, help="processes (default: number of CPUs)")
    ap.add_argument("--overwrite", action="store_true", help="replace a dataset made with other arguments")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    args = ap.parse_args(argv)
    t0, wall0 = time.perf_counter(), time.time()
    try:
        meta = generate_dataset(args.root, preset=args.preset, height=args.height, width=args.width,
                                num_train=args.num_train, num_test=args.num_test, seed=args.seed,
                                val_fraction=args.val_fraction, workers=args.workers, overwrite=args.overwrite,
                                progress=not args.quiet)
    except (FileExistsError, ValueError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    dt = time.perf_counter() - t0
    n = meta["num_train"] + meta["num_test"]
    c = meta["counts"]
    fresh = (args.root / "meta.json").stat().st_mtime >= wall0 - 1.0
    speed = f"{dt:.1f} s, {n / max(dt, 1e-9):.1f} images/s overall" if fresh else "already up to date, nothing written"
    print(f"dataset {args.root}: {meta['height']}x{meta['width']}, seed {meta['seed']}, "
          f"train/ {meta['num_train']} images (splits: {c['train']} train + {c['val']} val), "
          f"val/ (test) {meta['num_test']} images; {speed}")
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
