"""Cost of the bad_values check in the training pipeline.

Usage: python tools/benchmarks/bench_value_checks.py [--size 96 128]
[--images 32] [--rounds 5]

Builds the training dataset of the 96x128 procedural baseline config (its
own pipeline) on a generated procedural dataset of ``--size``, and times
every sample through the pipeline with the check (bad_values='error', the
default) and without it (the check step removed), rounds alternating so
that machine load affects both alike. Two costs: the first pass (every
sample checked: the first epoch) and the later passes (a sample whose files
passed and did not change is not checked again: a ``stat`` per file).
Prints ms per sample of each and the overheads (median of the rounds'
ratios, and the ratio of the sums).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from mtpsl.apis.config import load_config  # noqa: E402
from mtpsl.datasets.procedural import generate_dataset  # noqa: E402
from mtpsl.datasets.value_checks import CheckValues  # noqa: E402
from mtpsl.registry import DATASETS  # noqa: E402

CONFIG = REPO / 'configs' / 'baseline' / \
    'mtl_segnet-w16_1xb8-600it_procedural-full-96x128.py'


def time_all(dataset, n: int) -> float:
    """Seconds to run ``n`` samples through the pipeline."""
    start = time.perf_counter()
    for i in range(n):
        dataset[i]
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--size', type=int, nargs=2, default=(96, 128))
    ap.add_argument('--images', type=int, default=32)
    ap.add_argument('--rounds', type=int, default=5)
    args = ap.parse_args()
    import mtpsl  # noqa: F401
    from mmengine.registry import DefaultScope
    DefaultScope.get_instance('bench_value_checks', scope_name='mtpsl')
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / 'data'
        generate_dataset(root, height=args.size[0], width=args.size[1],
                         num_train=args.images, num_test=1, seed=0,
                         val_fraction=0.0, workers=1, progress=False)
        cfg = load_config(str(CONFIG), data_root=str(root)).train_dataloader
        checked = DATASETS.build(cfg.dataset)
        plain = DATASETS.build(cfg.dataset)
        plain.pipeline.transforms = [t for t in plain.pipeline.transforms
                                     if not isinstance(t, CheckValues)]
        assert len(plain.pipeline.transforms) + 1 == len(
            checked.pipeline.transforms)
        n = len(checked)
        check, = [t for t in checked.pipeline.transforms
                  if isinstance(t, CheckValues)]
        inside = dict(cold=0.0, warm=0.0)
        phase = ['cold']
        call = check.__call__

        def timed(results):  # the check's own time, beside the totals
            start = time.perf_counter()
            out = call(results)
            inside[phase[0]] += time.perf_counter() - start
            return out
        i = checked.pipeline.transforms.index(check)
        checked.pipeline.transforms[i] = timed
        time_all(checked, n), time_all(plain, n)  # warm-up (file cache)
        inside.update(cold=0.0, warm=0.0)
        cold, warm, base = [], [], []
        for _ in range(args.rounds):
            check._clean.clear()  # every sample checked again
            phase[0] = 'cold'
            cold.append(time_all(checked, n))
            base.append(time_all(plain, n))
            phase[0] = 'warm'
            warm.append(time_all(checked, n))
    per = 1000.0 / n
    print(f'{n} images of {args.size[0]}x{args.size[1]}, {args.rounds} '
          'rounds, alternating')
    print(f'pipeline without the check:       '
          f'{statistics.median(base) * per:.3f} ms/sample (median)')
    for name, runs in (('first pass (every sample)', cold),
                       ('later passes (unchanged files)', warm)):
        ratios = [r / b for r, b in zip(runs, base)]
        print(f'with the check, {name}: '
              f'{statistics.median(runs) * per:.3f} ms/sample, overhead '
              f'{100 * (statistics.median(ratios) - 1):+.2f} % (median), '
              f'{100 * (sum(runs) / sum(base) - 1):+.2f} % (sums)')
    for name, key in (('first pass', 'cold'), ('later passes', 'warm')):
        own = inside[key] / args.rounds * per
        print(f'time inside the check, {name}: {own:.4f} ms/sample = '
              f'{100 * own / (statistics.median(base) * per):.2f} % of the '
              'pipeline without it')


if __name__ == '__main__':
    main()
