"""Task absence per batch: MMEngine's shuffling samplers vs PartialLabelSampler.

Usage: python tools/benchmarks/bench_sampler.py [--epochs 50] [--seed 0]

A (batch, task) pair is *absent* when no image of the batch is labelled for
the task. NYUv2-sized regimes (N=795, K=3) built with the registered
builders; every sampler runs ``--epochs`` epochs' worth of batches:
DefaultSampler / PartialLabelSampler in epoch mode (``set_epoch`` per epoch,
last batch partial), InfiniteSampler / PartialLabelSampler(infinite=True)
as one stream cut into full batches. "bound" is the least absence any order
can reach in onelabel (max(0, K - B) / K); for randomlabels no closed form is
printed. Also prints the time to build one epoch of indices.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from mmengine.dataset import DefaultSampler, InfiniteSampler  # noqa: E402

from mtpsl.datasets.samplers import PartialLabelSampler  # noqa: E402
from mtpsl.registry import LABEL_REGIMES  # noqa: E402

TASKS = ('sem_seg', 'depth', 'normal')


class FlagsDataset:
    """Length and label flags: all a sampler reads."""

    def __init__(self, regime):
        self.regime = regime

    def __len__(self):
        return len(self.regime)

    def get_data_info(self, idx):
        return dict(label_flags=self.regime.flags_for(
            self.regime.image_ids[idx]))


def absence(flags: np.ndarray, indices, batch_size: int) -> float:
    """Share of (batch, task) pairs with no labelled image."""
    batches = [indices[i:i + batch_size]
               for i in range(0, len(indices), batch_size)]
    covered = np.stack([flags[b].any(0) for b in batches])
    return float(1.0 - covered.mean())


def epoch_stream(sampler, epochs: int):
    out = []
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        out.extend(list(sampler))
    return out


def run(regime_name: str, batch_size: int, epochs: int, seed: int):
    n = 795
    regime = LABEL_REGIMES.build(
        dict(type=regime_name, seed=seed),
        default_args=dict(image_ids=[str(i) for i in range(n)], tasks=TASKS))
    ds, flags = FlagsDataset(regime), regime.flags
    length = (epochs * n) // batch_size * batch_size
    rows = {}
    # Epoch mode: absence is measured per epoch (batches do not straddle).
    default = DefaultSampler(ds, shuffle=True, seed=seed)
    ours = PartialLabelSampler(ds, batch_size, seed=seed)
    for name, sampler in (('DefaultSampler', default),
                          ('PartialLabelSampler', ours)):
        rates = []
        for epoch in range(epochs):
            sampler.set_epoch(epoch)
            rates.append(absence(flags, list(sampler), batch_size))
        rows[name] = float(np.mean(rates))
    for name, sampler in (
            ('InfiniteSampler', InfiniteSampler(ds, shuffle=True, seed=seed)),
            ('PartialLabelSampler(infinite)',
             PartialLabelSampler(ds, batch_size, infinite=True, seed=seed))):
        stream = list(itertools.islice(iter(sampler), length))
        rows[name] = absence(flags, stream, batch_size)
    t0 = time.perf_counter()
    for epoch in range(5):
        ours.set_epoch(epoch)
        list(ours)
    ms = (time.perf_counter() - t0) / 5 * 1e3
    return rows, ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--epochs', type=int, default=50)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    names = ['DefaultSampler', 'PartialLabelSampler', 'InfiniteSampler',
             'PartialLabelSampler(infinite)']
    print(f'task absence, % of (batch, task) pairs; N=795, K=3, '
          f'{args.epochs} epochs, seed {args.seed}')
    head = ['regime', 'batch'] + names + ['bound', 'ms/epoch (ours)']
    print('| ' + ' | '.join(head) + ' |')
    print('|' + '---|' * len(head))
    for regime_name in ('onelabel', 'randomlabels'):
        for batch_size in (2, 8):
            rows, ms = run(regime_name, batch_size, args.epochs, args.seed)
            bound = (f'{100 * max(0, 3 - batch_size) / 3:.2f}'
                     if regime_name == 'onelabel' else '-')
            cells = [regime_name, str(batch_size)] + [
                f'{100 * rows[k]:.2f}' for k in names] + [bound, f'{ms:.1f}']
            print('| ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
