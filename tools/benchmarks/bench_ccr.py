"""Training cost of CCR: HRNet-18 + FPN with and without it, side by side.

The shipped NYUv2 configs (``configs/baseline/mtl_hrnet18-fpn_2xb2-40k_
nyuv2-full-288x384.py`` and ``configs/ccr/ccr_hrnet18-fpn_2xb2-40k_nyuv2-
full-288x384.py``, identical but for ``model.methods``), batch 2 at 288x384
(one procedural sample repeated), forward + backward + Adam step with
lambda_ctr = 1. Each mode runs in its own process (so peak memory is its
own) and the modes alternate over ``--rounds``. Prints the median step time
and peak memory of each, their ratio, and the share of the CCR step spent
in the loss itself: its forward (timed around ``CCR.loss``), its forward +
backward alone on the step's decoder features, and the whole extra time
(CCR step minus baseline step).

    python tools/benchmarks/bench_ccr.py [--steps 4] [--warmup 1] \
        [--rounds 2] [--device cpu|cuda]
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
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
CONFIGS = dict(
    baseline=osp.join(REPO, 'configs', 'baseline',
                      'mtl_hrnet18-fpn_2xb2-40k_nyuv2-full-288x384.py'),
    ccr=osp.join(REPO, 'configs', 'ccr',
                 'ccr_hrnet18-fpn_2xb2-40k_nyuv2-full-288x384.py'))


def _sync(device):
    import torch
    if device == 'cuda':
        torch.cuda.synchronize()


def ccr_alone(model, bundles, device, steps):
    """Forward + backward of the CCR loss alone on the last step's
    decoder features (detached leaves): its own cost, free of the noise of
    comparing two whole steps. Empty for the baseline."""
    import dataclasses
    if not bundles:
        return []
    bundle = bundles[0]
    view = bundle.view1
    feats = {t: f.detach().requires_grad_(True)
             for t, f in view.task_feats.items()}
    bundle = dataclasses.replace(
        bundle, view1=dataclasses.replace(view, task_feats=feats))
    method = model.methods['ccr']
    times = []
    for _ in range(steps):
        _sync(device)
        t = time.perf_counter()
        method.loss(bundle)['ccr.loss_ctr'].backward()
        _sync(device)
        times.append(time.perf_counter() - t)
    return times


def child(args):
    """Time ``args.steps`` training steps of one mode; print a RESULT."""
    import torch
    from mmengine.dataset import pseudo_collate

    from bench_runner_overhead import one_sample
    from mtpsl.apis.config import load_config
    from mtpsl.models.methods import CCR
    from mtpsl.registry import MODELS
    torch.manual_seed(0)
    cfg = load_config(CONFIGS[args.mode])
    model = MODELS.build(cfg.model).to(args.device)
    model.init_weights()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=2e-4)
    loss_times, bundles = [], []
    original = CCR.loss

    def timed_loss(self, bundle):
        bundles[:] = [bundle]
        _sync(args.device)
        t = time.perf_counter()
        out = original(self, bundle)
        _sync(args.device)
        loss_times.append(time.perf_counter() - t)
        return out
    CCR.loss = timed_loss
    sample = one_sample(args.height, args.width)
    times, ccr_fwd = [], []
    for step in range(args.warmup + args.steps):
        batch = pseudo_collate([sample] * args.batch)
        _sync(args.device)
        t = time.perf_counter()
        data = model.data_preprocessor(batch, training=True)
        losses = model(**data, mode='loss')
        loss = sum(losses.values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        _sync(args.device)
        if step >= args.warmup:
            times.append(time.perf_counter() - t)
            ccr_fwd.append(loss_times[-1] if loss_times else 0.0)
    out = dict(mode=args.mode, times=times, ccr_forward=ccr_fwd,
               ccr_alone=ccr_alone(model, bundles, args.device, args.steps),
               peak_rss_mib=resource.getrusage(
                   resource.RUSAGE_SELF).ru_maxrss / 1024)
    if args.device == 'cuda':
        out['cuda_peak_mib'] = torch.cuda.max_memory_allocated() / 2**20
    print('RESULT ' + json.dumps(out))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--mode', choices=sorted(CONFIGS))
    p.add_argument('--steps', type=int, default=4)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--rounds', type=int, default=2)
    p.add_argument('--batch', type=int, default=2)
    p.add_argument('--height', type=int, default=288)
    p.add_argument('--width', type=int, default=384)
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    args = p.parse_args()
    if args.mode:
        return child(args)
    times = {m: [] for m in CONFIGS}
    fwd = {m: [] for m in CONFIGS}
    alone = {m: [] for m in CONFIGS}
    peaks = {m: [] for m in CONFIGS}
    for _ in range(args.rounds):
        for mode in ('baseline', 'ccr'):
            cmd = [sys.executable, __file__, '--mode', mode] + [
                f'--{k}={getattr(args, k)}' for k in
                ('steps', 'warmup', 'batch', 'height', 'width', 'device')]
            out = subprocess.run(cmd, capture_output=True, text=True)
            line = [x for x in out.stdout.splitlines()
                    if x.startswith('RESULT ')]
            if out.returncode or not line:
                sys.exit(out.stderr[-3000:])
            res = json.loads(line[-1][7:])
            times[mode] += res['times']
            fwd[mode] += res['ccr_forward']
            alone[mode] += res['ccr_alone']
            peaks[mode].append(res.get('cuda_peak_mib', res['peak_rss_mib']))
    med = {m: statistics.median(t) for m, t in times.items()}
    unit = 'CUDA peak' if args.device == 'cuda' else 'peak RSS'
    print(f'HRNet-18 + FPN, 3 Semantic-FPN decoders (NYUv2 configs), batch '
          f'{args.batch}, {args.height}x{args.width}, {args.device}, '
          f'forward+backward+Adam step, {args.rounds} rounds x '
          f'{args.steps} steps per mode')
    for m in ('baseline', 'ccr'):
        print(f'{m:>8}: median step {med[m]:.3f} s   {unit} '
              f'{max(peaks[m]):.0f} MiB')
    print(f'step time ratio CCR / baseline: {med["ccr"] / med["baseline"]:.3f}'
          f'x (target <= 1.3x)')
    print(f'memory ratio CCR / baseline: '
          f'{max(peaks["ccr"]) / max(peaks["baseline"]):.3f}x')
    share = statistics.median(fwd['ccr']) / med['ccr']
    extra = (med['ccr'] - med['baseline']) / med['ccr']
    print(f'CCR loss forward: median {statistics.median(fwd["ccr"]):.4f} s '
          f'= {share * 100:.1f} % of the CCR step; extra time of the CCR '
          f'step over the baseline: {extra * 100:+.1f} % of it')
    own = statistics.median(alone['ccr'])
    print(f'CCR loss alone, forward + backward on the decoder features: '
          f'median {own:.4f} s = {own / med["ccr"] * 100:.1f} % of the CCR '
          f'step')


if __name__ == '__main__':
    main()
