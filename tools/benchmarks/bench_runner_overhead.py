"""Runner overhead: MMEngine's Runner vs a plain PyTorch loop, side by side.

The same model (SegNet MTL, full width, from the shipped config), the same
batch (2 images at 288x384, one procedural sample repeated), forward +
backward + Adam step. Each mode runs in its own process (so peak memory is
its own) and the modes alternate over ``--rounds``. Prints median step time,
peak memory and the Runner's overhead in percent.

    python tools/benchmarks/bench_runner_overhead.py [--steps 8] [--rounds 2]
"""
import argparse
import json
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
CONFIG = osp.join(REPO, 'configs', 'baseline',
                  'mtl_segnet_1xb8-40k_procedural-full-288x384.py')


def one_sample(height, width):
    """A packed procedural sample, as the data pipeline would give it."""
    import numpy as np
    import torch

    from mtpsl.datasets.procedural import render_scene
    from mtpsl.structures import MultiTaskDataSample
    scene = render_scene(0, height, width)
    sample = MultiTaskDataSample(metainfo=dict(
        img_shape=(height, width), ori_shape=(height, width),
        label_flags=dict(sem_seg=True, depth=True, normal=True)))
    sample.set_gt('sem_seg', torch.from_numpy(scene['label'].astype(np.int64)))
    sample.set_gt('depth', torch.from_numpy(scene['depth']).permute(2, 0, 1))
    sample.set_gt('normal', torch.from_numpy(scene['normal']).permute(2, 0, 1))
    inputs = torch.from_numpy(scene['image']).permute(2, 0, 1).contiguous()
    return dict(inputs=inputs, data_samples=sample)


def run_plain(args):
    import torch
    from mmengine.dataset import pseudo_collate

    from mtpsl.apis.config import load_config
    from mtpsl.registry import MODELS
    torch.manual_seed(0)
    cfg = load_config(CONFIG)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    sample = one_sample(args.height, args.width)
    times = []
    for _ in range(args.warmup + args.steps):
        t = time.perf_counter()
        batch = pseudo_collate([sample] * args.batch)
        data = model.data_preprocessor(batch, training=True)
        losses = model(**data, mode='loss')
        loss = sum(losses.values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
    return times[args.warmup:]


def run_runner(args):
    import torch
    from mmengine.hooks import Hook

    from mtpsl.apis.config import load_config
    from mtpsl.engine import MTPSLRunner
    from mtpsl.registry import DATASETS, HOOKS
    torch.manual_seed(0)
    sample = one_sample(args.height, args.width)

    @DATASETS.register_module(force=True)
    class _RepeatOne(torch.utils.data.Dataset):
        def __init__(self, length=10**6):
            self.length = length

        def __len__(self):
            return self.length

        def __getitem__(self, i):
            return sample

    stamps = []

    @HOOKS.register_module(force=True)
    class _Stamp(Hook):
        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            stamps.append(time.perf_counter())

    cfg = load_config(CONFIG)
    cfg.work_dir = args.work_dir
    cfg.experiment_name = f'overhead_{time.time_ns()}'
    cfg.train_dataloader = dict(
        batch_size=args.batch, num_workers=0, persistent_workers=False,
        sampler=dict(type='InfiniteSampler', shuffle=False),
        dataset=dict(type='_RepeatOne'))
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.train_cfg = dict(type='IterBasedTrainLoop',
                         max_iters=args.warmup + args.steps + 1)
    cfg.default_hooks.checkpoint.interval = 10**6
    cfg.custom_hooks = [dict(type='_Stamp')]
    cfg.log_level = 'WARNING'
    MTPSLRunner.from_cfg(cfg).train()
    deltas = [b - a for a, b in zip(stamps, stamps[1:])]
    return deltas[args.warmup:]


def child(args):
    import torch
    times = run_plain(args) if args.mode == 'plain' else run_runner(args)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = dict(mode=args.mode, times=times, peak_rss_mib=peak_mib)
    if torch.cuda.is_available():
        out['cuda_peak_mib'] = torch.cuda.max_memory_allocated() / 2**20
    print('RESULT ' + json.dumps(out))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--mode', choices=['plain', 'runner'])
    p.add_argument('--steps', type=int, default=8)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--rounds', type=int, default=2)
    p.add_argument('--batch', type=int, default=2)
    p.add_argument('--height', type=int, default=288)
    p.add_argument('--width', type=int, default=384)
    p.add_argument('--work-dir', default='work_dirs/bench_runner_overhead')
    args = p.parse_args()
    if args.mode:
        return child(args)
    results = {'plain': [], 'runner': []}
    peaks = {'plain': [], 'runner': []}
    for _ in range(args.rounds):
        for mode in ('plain', 'runner'):
            cmd = [sys.executable, __file__, '--mode', mode] + [
                f'--{k}={getattr(args, k)}' for k in
                ('steps', 'warmup', 'batch', 'height', 'width')] + [
                f'--work-dir={args.work_dir}']
            out = subprocess.run(cmd, capture_output=True, text=True)
            line = [x for x in out.stdout.splitlines()
                    if x.startswith('RESULT ')]
            if out.returncode or not line:
                sys.exit(out.stderr[-3000:])
            res = json.loads(line[-1][7:])
            results[mode] += res['times']
            peaks[mode].append(res.get('cuda_peak_mib', res['peak_rss_mib']))
    med = {m: statistics.median(t) for m, t in results.items()}
    unit = 'CUDA peak' if 'cuda' in str(peaks) else 'peak RSS'
    print(f'SegNet MTL full width, batch {args.batch}, '
          f'{args.height}x{args.width}, forward+backward+Adam step, '
          f'{args.rounds} rounds x {args.steps} steps per mode')
    for m in ('plain', 'runner'):
        print(f'{m:>6}: median step {med[m]:.3f} s   {unit} '
              f'{max(peaks[m]):.0f} MiB')
    print(f'Runner overhead: {(med["runner"] / med["plain"] - 1) * 100:+.1f} %'
          f' of the plain step time')


if __name__ == '__main__':
    main()
