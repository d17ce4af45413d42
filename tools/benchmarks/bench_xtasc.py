"""Training step of XTasC-Net vs its Base MT-Net, side by side.

Usage: python tools/benchmarks/bench_xtasc.py [--batch 8] [--steps 5]
    [--warmup 2] [--rounds 2] [--device cpu|cuda] [--size 128 256]

Both models are built from the Cityscapes configs of ``configs/xtasc``
(ResNet-34 + two U-Net decoders, 7 classes; XTasC adds the two TTNets and
its group terms). One step = data preprocessor, forward with losses,
backward, Adam step, on a fixed synthetic batch (every image labelled for
both tasks). Each model runs in its own subprocess, so the peak memory of
one does not hide the other's: peak CUDA memory (``max_memory_allocated``)
on a GPU, peak resident set (``ru_maxrss``) on the CPU. The rounds
alternate the two models, and the median step of each is printed with the
ratio XTasC / MT.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = {
    'mt': 'configs/xtasc/mtl_resnet34-unet_1xb8-93k_cityscapes-full-'
          '128x256.py',
    'xtasc': 'configs/xtasc/xtasc_resnet34-unet_1xb8-93k_cityscapes-full-'
             '128x256.py',
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--size', type=int, nargs=2, default=(128, 256))
    p.add_argument('--steps', type=int, default=5, help='timed steps')
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--rounds', type=int, default=2)
    p.add_argument('--device', default='cpu')
    p.add_argument('--one', choices=sorted(CONFIGS), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def synthetic_batch(batch: int, size, seed: int = 0) -> dict:
    """Images and fully labelled 7-class / depth samples."""
    import torch

    from mtpsl.structures import MultiTaskDataSample
    g = torch.Generator().manual_seed(seed)
    h, w = size
    inputs, samples = [], []
    for _ in range(batch):
        inputs.append(torch.rand(3, h, w, generator=g) * 255)
        s = MultiTaskDataSample(metainfo=dict(
            label_flags=dict(sem_seg=True, depth=True), img_shape=(h, w),
            ori_shape=(h, w), tasks=('sem_seg', 'depth')))
        s.set_gt('sem_seg', torch.randint(0, 7, (1, h, w), generator=g))
        s.set_gt('depth', torch.rand(1, h, w, generator=g) * 0.05 + 0.01)
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def run_one(name: str, args) -> dict:
    """Time ``args.steps`` training steps of one model (in this process)."""
    import copy

    import torch

    from mtpsl.apis.config import load_config
    from mtpsl.registry import MODELS
    torch.manual_seed(0)
    device = torch.device(args.device)
    cfg = load_config(osp.join(REPO, CONFIGS[name]))
    model = MODELS.build(cfg.model).to(device)
    model.train()
    optim = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.99))
    data = synthetic_batch(args.batch, args.size)
    cuda = device.type == 'cuda'

    def step():
        batch = copy.deepcopy(data)
        batch = model.data_preprocessor(batch, training=True)
        losses = model(**batch, mode='loss')
        optim.zero_grad(set_to_none=True)
        sum(losses.values()).backward()
        optim.step()

    for _ in range(args.warmup):
        step()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    peak = (torch.cuda.max_memory_allocated() / 2**20 if cuda else
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return dict(name=name, times=times, peak_mib=peak,
                params=sum(p.numel() for p in model.parameters()))


def main(argv=None):
    args = parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args)))
        return
    results = {name: [] for name in CONFIGS}
    peaks, params = {}, {}
    for _ in range(args.rounds):
        for name in CONFIGS:
            cmd = [sys.executable, osp.abspath(__file__), '--one', name,
                   '--batch', str(args.batch), '--size', *map(str, args.size),
                   '--steps', str(args.steps), '--warmup', str(args.warmup),
                   '--device', args.device]
            env = dict(os.environ, PYTHONPATH=REPO)
            out = subprocess.run(cmd, env=env, capture_output=True,
                                 text=True, check=True)
            res = json.loads(out.stdout.strip().splitlines()[-1])
            results[name].extend(res['times'])
            peaks[name] = max(peaks.get(name, 0.0), res['peak_mib'])
            params[name] = res['params']
    med = {n: statistics.median(t) for n, t in results.items()}
    kind = 'CUDA max allocated' if args.device.startswith('cuda') else \
        'peak RSS'
    print(f'batch {args.batch}, {args.size[0]}x{args.size[1]}, '
          f'device {args.device}, {args.rounds} rounds x {args.steps} steps '
          f'(+{args.warmup} warm-up), torch threads '
          f'{os.environ.get("OMP_NUM_THREADS", "default")}')
    print(f'{"model":<8} {"params":>12} {"median s/step":>14} '
          f'{"min s/step":>11} {kind + " MiB":>24}')
    for n in CONFIGS:
        print(f'{n:<8} {params[n]:>12,} {med[n]:>14.3f} '
              f'{min(results[n]):>11.3f} {peaks[n]:>24.0f}')
    print(f'ratio xtasc / mt: step {med["xtasc"] / med["mt"]:.3f}, '
          f'memory {peaks["xtasc"] / peaks["mt"]:.3f}')


if __name__ == '__main__':
    main()
