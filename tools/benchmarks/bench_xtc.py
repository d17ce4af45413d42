"""XTC's training step vs the baseline's, side by side (issue 11's target:
XTC / baseline <= 3.15x, the release's ratio, measured here).

Both models from the shipped NYUv2 configs at full width: the SegNet MTL
baseline (one view) and XTC with the release's defaults (two nested views
in one forward, XTC on view 2, per-image per-map mapper BN). The same two
procedural images at 288x384 (onelabel: image 0 semantic, image 1 depth),
packed by the configs' own transforms; forward + backward + Adam step. Each
mode runs in its own process (peak memory is its own), modes alternate over
``--rounds``. Prints the median step of each, the ratio, peak RSS, the
FLOPs of a step (forward + backward, counted by torch's FlopCounterMode on
the untimed warm-up step), the thread count and the 1-minute load before
and after.

    python tools/benchmarks/bench_xtc.py [--steps 4] [--rounds 2] \
        [--threads 2] [--xtc-options map_each_image=False ...]
"""
import argparse
import ast
import json
import os
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
CONFIGS = dict(
    baseline=osp.join(REPO, 'configs', 'baseline',
                      'mtl_segnet_1xb8-40k_nyuv2-full-288x384.py'),
    xtc=osp.join(REPO, 'configs', 'xtc',
                 'xtc_segnet_1xb8-40k_nyuv2-onelabel-288x384.py'))


def samples(two_view, height, width):
    """Two packed samples (onelabel), made by the config's transforms."""
    import numpy as np

    from mtpsl.datasets.procedural import render_scene
    from mtpsl.registry import TRANSFORMS
    if two_view:
        packers = [TRANSFORMS.build(dict(
            type='TwoViewTransform', nested=True, view_pipeline=[
                dict(type='RandomScaleCrop', scales=(1.0, 1.2, 1.5))])),
            TRANSFORMS.build(dict(type='PackTwoViewInputs'))]
    else:
        packers = [TRANSFORMS.build(dict(type='PackMultiTaskInputs'))]
    np.random.seed(0)
    out = []
    for i, task in enumerate(('sem_seg', 'depth')):
        scene = render_scene(i, height, width)
        maps = dict(sem_seg=scene['label'][..., None].astype(np.int64),
                    depth=scene['depth'].astype(np.float32),
                    normal=scene['normal'].astype(np.float32))
        results = dict(
            img=scene['image'].astype(np.float32), gt_maps={task: maps[task]},
            img_shape=(height, width), ori_shape=(height, width),
            label_flags={t: t == task for t in maps},
            tasks=('sem_seg', 'depth', 'normal'))
        for t in packers:
            results = t(results)
        out.append(results)
    return out


def run(args):
    import torch
    from mmengine.dataset import pseudo_collate

    from mtpsl.apis.config import load_config
    from mtpsl.registry import MODELS
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = load_config(args.config)
    if args.method_options:
        cfg.model.methods[0].update(args.method_options)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    batch = pseudo_collate(samples(args.two_view, args.height, args.width))
    times, flops = [], None
    for i in range(args.warmup + args.steps):
        t = time.perf_counter()
        if i == 0 and args.warmup:  # the untimed warm-up counts the FLOPs
            from torch.utils.flop_counter import FlopCounterMode
            counter = FlopCounterMode(display=False)
            with counter:
                losses = train_step(model, opt, batch)
            flops = counter.get_total_flops()
        else:
            losses = train_step(model, opt, batch)
        times.append(time.perf_counter() - t)
    return times[args.warmup:], sorted(losses), flops


def train_step(model, optim, batch):
    """Forward, backward and optimiser update of one collated batch;
    returns the loss dict."""
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    optim.zero_grad()
    sum(losses.values()).backward()
    optim.step()
    return losses


def child(args):
    times, keys, flops = run(args)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print('RESULT ' + json.dumps(dict(mode=args.mode, times=times, keys=keys,
                                      peak_rss_mib=peak_mib, flops=flops)))


def _option(text):
    key, _, value = text.partition('=')
    return key, ast.literal_eval(value)


def compare(configs, two_view=(), label=None, script=__file__,
            argv=None):
    """Time ``configs`` ({mode: config path}, the first the baseline), each
    mode in its own child process of ``script``, alternating over rounds;
    print the median steps, the ratios and peak RSS. Modes in ``two_view``
    get two nested views packed in one batch."""
    modes = list(configs)
    base = modes[0]
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--mode', choices=modes)
    p.add_argument('--steps', type=int, default=4)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--rounds', type=int, default=2)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--height', type=int, default=288)
    p.add_argument('--width', type=int, default=384)
    p.add_argument('--method-options', '--xtc-options', nargs='*',
                   default=[], type=_option,
                   help='arguments of the method over the config, '
                   'key=python-literal')
    args = p.parse_args(argv)
    args.method_options = dict(args.method_options)
    if args.mode:
        args.config = configs[args.mode]
        args.two_view = args.mode in two_view
        if args.mode == base:
            args.method_options = {}
        return child(args)
    load0 = os.getloadavg()[0]
    results = {m: [] for m in modes}
    peaks = {m: 0.0 for m in modes}
    flops = {m: None for m in modes}
    for _ in range(args.rounds):
        for mode in modes:
            cmd = [sys.executable, script, '--mode', mode,
                   '--steps', str(args.steps), '--warmup', str(args.warmup),
                   '--threads', str(args.threads),
                   '--height', str(args.height), '--width', str(args.width)]
            if args.method_options:
                cmd += ['--method-options'] + [
                    f'{k}={v!r}' for k, v in args.method_options.items()]
            env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
                       MKL_NUM_THREADS=str(args.threads), PYTHONPATH=REPO)
            out = subprocess.run(cmd, env=env, capture_output=True,
                                 text=True, check=True).stdout
            line = [x for x in out.splitlines() if x.startswith('RESULT ')]
            res = json.loads(line[-1][len('RESULT '):])
            results[mode] += res['times']
            peaks[mode] = max(peaks[mode], res['peak_rss_mib'])
            flops[mode] = res.get('flops') or flops[mode]
            print(f'  {mode}: steps {[round(t, 3) for t in res["times"]]} s,'
                  f' peak RSS {res["peak_rss_mib"]:.0f} MiB, 1-min load '
                  f'{os.getloadavg()[0]:.2f}', flush=True)
    load1 = os.getloadavg()[0]
    med = {m: statistics.median(v) for m, v in results.items()}
    print(f'batch 2 x {args.height}x{args.width}, {args.threads} threads, '
          f'{args.rounds} rounds x {args.steps} steps (+{args.warmup} '
          f'warm-up), 1-min load {load0:.2f} -> {load1:.2f}')
    if args.method_options:
        print(f'method options over the config: {args.method_options}')
    width = max(len(m) for m in modes)
    for m in modes:
        print(f'{m:>{width}}: median step {med[m]:.4f} s (min '
              f'{min(results[m]):.4f}, max {max(results[m]):.4f}), peak RSS '
              f'{peaks[m]:.0f} MiB' + (
                  f', {flops[m] / 1e9:.1f} GFLOP a step' if flops[m] else ''))
    for m in modes[1:]:
        name = label or m
        print(f'   ratio: {name} / {base} step {med[m] / med[base]:.2f}x,'
              f' peak RSS {peaks[m] / peaks[base]:.2f}x' + (
                  f', FLOPs {flops[m] / flops[base]:.2f}x'
                  if flops[m] and flops[base] else ''))
    return med


def main(argv=None):
    return compare(CONFIGS, two_view=('xtc', ), label='XTC', argv=argv)


if __name__ == '__main__':
    main()
