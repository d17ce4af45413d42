"""Throughput of the procedural generator: images/s at 96x128 and 288x384, workers 1 and 2.

Usage: python tools/benchmarks/bench_procedural.py [--num-small 80] [--num-large 24]
"render" = render_scene only; "render+write" = generate_dataset into a temporary folder
(all seven .npy maps per image, splits and meta.json). Process-pool start-up is included.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from mtpsl.datasets.procedural import generate_dataset, render_scene  # noqa: E402


def _render(job: tuple[int, int, int]) -> int:
    seed, h, w = job
    render_scene([0, 0, seed], h, w)
    return seed


def bench_render(h: int, w: int, n: int, workers: int) -> float:
    """images/s of render_scene over n seeds."""
    jobs = [(i, h, w) for i in range(n)]
    t0 = time.perf_counter()
    if workers <= 1:
        for job in jobs:
            _render(job)
    else:
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        with ctx.Pool(workers) as pool:
            list(pool.imap_unordered(_render, jobs, chunksize=2))
    return n / (time.perf_counter() - t0)


def bench_write(h: int, w: int, n: int, workers: int) -> float:
    """images/s of generate_dataset (render + write) for n images."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        generate_dataset(Path(tmp) / "ds", height=h, width=w, num_train=n - n // 4, num_test=n // 4,
                         workers=workers, progress=False)
        return n / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    """Run all configurations and print one line each."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-small", type=int, default=80)
    ap.add_argument("--num-large", type=int, default=24)
    args = ap.parse_args(argv)
    render_scene(0, 24, 32)  # warm imports
    for (h, w), n in (((96, 128), args.num_small), ((288, 384), args.num_large)):
        for workers in (1, 2):
            r = bench_render(h, w, n, workers)
            rw = bench_write(h, w, n, workers)
            print(f"{h}x{w} workers={workers}: render {r:6.1f} images/s | render+write {rw:6.1f} images/s "
                  f"({n} images)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
