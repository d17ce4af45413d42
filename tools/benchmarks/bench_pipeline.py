"""Training data pipeline vs. what the full SegNet MTL baseline consumes, at 288x384.

Usage: python tools/benchmarks/bench_pipeline.py [--batches 24] [--steps 3]

Pipeline: LoadMultiTaskNpy + RandomScaleCrop + RandomFlip + PhotoMetricDistortion
+ PackMultiTaskInputs on a generated procedural dataset (nyuv2 preset, 64 train
images, in a temporary folder), through a torch DataLoader with batch 8 and the
``num_workers`` of the shipped 288x384 config; the first batch (worker start-up)
is not timed. Model: configs/baseline/mtl_segnet_1xb8-40k_procedural-full-288x384.py
built on the CPU (or ``--device``), forward + backward + Adam on batch 8, one warm-up step,
then ``--steps`` timed steps. Prints samples/s of each and their ratio (target:
the pipeline at least 3x faster than the model consumes).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from mtpsl.apis.config import load_config  # noqa: E402
from mtpsl.datasets.procedural import generate_dataset  # noqa: E402
from mtpsl.registry import DATASETS, MODELS  # noqa: E402

CONFIG = REPO / 'configs/baseline/mtl_segnet_1xb8-40k_procedural-full-288x384.py'
BATCH = 8


def pipeline(num_classes: int) -> list:
    """The augmented training pipeline under test."""
    return [dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=num_classes)),
            dict(type='RandomScaleCrop', scales=(1.0, 1.2, 1.5)),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PhotoMetricDistortion'),
            dict(type='PackMultiTaskInputs')]


def bench_pipeline(root: str, cfg, batches: int) -> tuple[float, int]:
    """samples/s of the DataLoader over ``batches`` batches after the first."""
    dataset = DATASETS.build(dict(type='NYUv2Dataset', data_root=root, split='train',
                                  tasks=cfg.tasks, pipeline=pipeline(cfg.num_classes)))
    workers = int(cfg.train_dataloader.num_workers)
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=workers,
                        collate_fn=pseudo_collate, persistent_workers=workers > 0,
                        drop_last=True)
    it, seen, t0 = iter(loader), 0, None
    while seen < batches + 1:
        try:
            batch = next(it)
        except StopIteration:
            it = iter(loader)
            continue
        seen += 1
        if t0 is None:  # first batch: worker start-up, not timed
            t0 = time.perf_counter()
    assert len(batch['inputs']) == BATCH
    return batches * BATCH / (time.perf_counter() - t0), workers


def bench_model(root: str, cfg, steps: int, device: str) -> float:
    """samples/s of forward + backward + Adam on batch 8."""
    torch.manual_seed(0)
    # PyTorch's default initialisation: the timing does not depend on it, and
    # init_weights() would log every parameter.
    model = MODELS.build(cfg.model).to(device)
    model.train()
    optim = torch.optim.Adam(model.parameters(), lr=cfg.optim_wrapper.optimizer.lr)
    dataset = DATASETS.build(dict(type='NYUv2Dataset', data_root=root, split='train',
                                  tasks=cfg.tasks, pipeline=pipeline(cfg.num_classes)))
    batch = pseudo_collate([dataset[i] for i in range(BATCH)])

    def step() -> None:
        data = model.data_preprocessor(batch, training=True)
        losses = model(**data, mode='loss')
        optim.zero_grad()
        sum(losses.values()).backward()
        optim.step()
        if device.startswith('cuda'):
            torch.cuda.synchronize()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * BATCH / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    """Generate the data, run both measurements, print one line each and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--batches', type=int, default=24, help='timed pipeline batches')
    ap.add_argument('--steps', type=int, default=3, help='timed model steps')
    ap.add_argument('--device', default='cpu',
                    help='where the model runs (cpu as specified; cuda to see a GPU consumer)')
    args = ap.parse_args(argv)
    cfg = load_config(str(CONFIG))
    with tempfile.TemporaryDirectory() as tmp:
        root = str(Path(tmp) / 'procedural')
        generate_dataset(root, preset='nyuv2', num_train=64, num_test=8, seed=0,
                         progress=False)
        pipe, workers = bench_pipeline(root, cfg, args.batches)
        model = bench_model(root, cfg, args.steps, args.device)
    print(f'pipeline 288x384 (load+scale-crop+flip+photometric+pack), batch {BATCH}, '
          f'num_workers={workers}: {pipe:7.1f} samples/s', flush=True)
    print(f'SegNet MTL full width, {args.device} fwd+bwd+Adam, batch {BATCH}, '
          f'torch threads={torch.get_num_threads()}: {model:7.2f} samples/s', flush=True)
    print(f'ratio pipeline / model: {pipe / model:.1f}x (target >= 3x)', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
