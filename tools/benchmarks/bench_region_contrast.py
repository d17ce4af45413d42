"""What region contrast costs: the batched W2 loss against a per-pair loop
of the same formula, and a SegNet training step with and without it.

Usage: python tools/benchmarks/bench_region_contrast.py
       [--part w2|stats|step|all]
       [--regions 10 30 100] [--images 10] [--bank 1000]
       [--max-batched-pairs 120000] [--loop-anchors 3] [--step-iters 3]
       [--variants default None diag 16 ...] [--height 288 --width 384]

The W2 part's times are CPU seconds of this process (``time.process_time``,
one torch thread by default), so that a machine shared with other jobs
inflates them less than wall time would; the step part prints wall time
and CPU time (all threads) side by side.

Part ``w2`` (the release's sizes): 32-channel features at 144x192 (made at
1/16 and bilinearly upsampled, as a_theta's), ``--images`` images with R
Voronoi regions each, a bank of 1000 Gaussians; the loss is Eq. (3) over
every anchor of the prediction map with ALL its negatives (the other
regions of its image and the whole bank), full covariances, forward +
backward. ``batched`` is RegionContrast's own code path; ``loop`` computes
the same formula pair by pair in Python (Cholesky factors, singular values
of F1^T F2, one pair at a time) for ``--loop-anchors`` anchors and is
extrapolated linearly to all anchors; when the batched run would exceed
``--max-batched-pairs`` pairs it runs on fewer images and is extrapolated
the same way (both are linear in the number of pairs); the table says so.
The diagonal-covariance closed form is timed at full size.

Part ``stats``: Eq. (2) for the GT and prediction maps of 4 (image, pair)
units (32 channels at 18x24, a_theta's 1/16 of 288x384, brought to 144x192,
``--regions`` Voronoi regions per image, under 10 pixels skipped), forward
+ backward: on the bilinearly upsampled maps (``region_gaussians``, what
the loss computed before) and at the low resolution (``UpsampledRegions``,
what it computes now: the same values); the two take turns for
``--step-iters`` rounds, median wall ms each.

Part ``step``: the full SegNet at 288x384, batch 2, onelabel, Adam, the
bank filled with 1000 Gaussians beforehand; one
training step (forward, backward, update) of the baseline, of baseline +
region contrast with each of ``--variants`` (the shipped default, None =
every negative exact, diag = diagonal covariances, or a number of exact
negatives); every row is built and warmed up by one step, then the rows
take turns, one step each, ``--step-iters`` rounds; per row the median
wall time and CPU time (all threads) of its steps, and the ratios to the
baseline's.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from mtpsl.models.methods.gaussian_regions import (  # noqa: E402
    Gaussians, region_gaussians)
from mtpsl.models.methods.region_contrast import RegionContrast  # noqa: E402
from mtpsl.models.methods.region_terms import info_nce  # noqa: E402
from mtpsl.models.methods.upsampled_regions import (  # noqa: E402
    UpsampledRegions)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_xtc import train_step  # noqa: E402

TASKS = ('sem_seg', 'depth', 'normal')


def voronoi_ids(n: int, h: int, w: int, regions: int, gen) -> torch.Tensor:
    """n x h x w maps of ``regions`` Voronoi cells (ids 1..regions)."""
    seeds = torch.rand(n, regions, 2, generator=gen) * torch.tensor([h, w])
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
    grid = torch.stack([yy, xx], -1).reshape(1, -1, 2).float()
    return (torch.cdist(grid.expand(n, -1, -1), seeds).argmin(-1) + 1
            ).reshape(n, h, w)


def features(n: int, gen, h: int = 144, w: int = 192, c: int = 32):
    """a_theta-like maps: made at 1/8 of (h, w), bilinearly upsampled."""
    low = torch.randn(n, c, h // 8, w // 8, generator=gen).relu()
    return F.interpolate(low, size=(h, w), mode='bilinear',
                         align_corners=False)


def loop_loss(g_s: Gaussians, g_t: Gaussians, bank: Gaussians,
              unit: torch.Tensor, anchors, tau: float) -> torch.Tensor:
    """The same loss, one pair at a time (for ``anchors`` only)."""
    def w2(a_mean, a_cov, b_mean, b_cov):
        fa = torch.linalg.cholesky(a_cov)
        fb = torch.linalg.cholesky(b_cov)
        cross = torch.linalg.svdvals(fa.T.float() @ fb.float()).sum()
        return ((a_mean - b_mean) ** 2).sum() + torch.trace(a_cov) + \
            torch.trace(b_cov) - 2 * cross
    total = 0.0
    for i in anchors:
        logits = [-w2(g_t.mean[i], g_t.cov[i], g_s.mean[i], g_s.cov[i]) / tau]
        for j in torch.nonzero(unit == unit[i]).flatten().tolist():
            if j != i:
                logits.append(-w2(g_t.mean[i], g_t.cov[i], g_s.mean[j],
                                  g_s.cov[j]) / tau)
        for k in range(len(bank)):
            logits.append(-w2(g_t.mean[i], g_t.cov[i], bank.mean[k],
                              bank.cov[k]) / tau)
        logits = torch.stack(logits)
        total = total + info_nce(logits[:1], logits[None])[0]
    return total


def bench_w2(args) -> None:
    gen = torch.Generator().manual_seed(0)
    print(f'\n## Batched W2 loss vs a per-pair loop, CPU s (features '
          f'32 x 144 x 192, '
          f'bank {args.bank}, all negatives, forward + backward; '
          f'torch threads {torch.get_num_threads()})\n')
    print('| regions / image | pairs (all images) | batched full (s) | '
          'loop full (s) | loop / batched | batched diag (s) | note |')
    print('|---|---|---|---|---|---|---|')
    bank_feats = features(4, gen)
    bank_g, _, _ = region_gaussians(bank_feats, voronoi_ids(
        4, 144, 192, args.bank // 4 + 1, gen), 10, True, 1e-6)
    for regions in args.regions:
        ids_full = voronoi_ids(args.images, 144, 192, regions, gen)
        feats_s = features(args.images, gen).requires_grad_()
        feats_t = (feats_s.detach() + 0.1 * features(args.images, gen)
                   ).requires_grad_()
        per_image = regions * (regions + args.bank)
        n_img = max(1, min(args.images, args.max_batched_pairs // per_image))
        times = {}
        for cov in ('full', 'diag'):
            images = args.images if cov == 'diag' else n_img
            method = RegionContrast(TASKS, dict(sem_seg=13), covariance=cov,
                                    negatives=None, anchors='target',
                                    bank_size=args.bank)
            bank = bank_g if cov == 'full' else Gaussians(
                bank_g.mean, torch.diagonal(bank_g.cov, dim1=-2, dim2=-1),
                bank_g.count)
            method.bank.push(bank.take(torch.arange(args.bank)))
            fs, ft = feats_s[:images], feats_t[:images]
            t0 = time.process_time()
            g_s, unit, _ = region_gaussians(fs, ids_full[:images], 10, True,
                                            1e-6, cov == 'diag')
            g_t, _, _ = region_gaussians(ft, ids_full[:images], 10, True,
                                         1e-6, cov == 'diag')
            loss, _ = method.contrast_terms(g_s, g_t, unit)
            loss.mean().backward()
            times[cov] = (time.process_time() - t0) * args.images / images
        g_s, unit, _ = region_gaussians(feats_s, ids_full, 10, True, 1e-6)
        g_t, _, _ = region_gaussians(feats_t, ids_full, 10, True, 1e-6)
        bank = bank_g.take(torch.arange(args.bank))
        anchors = list(range(min(args.loop_anchors, len(g_t))))
        t0 = time.process_time()
        loop_loss(g_s, g_t, bank, unit, anchors, 5.4).backward()
        loop = (time.process_time() - t0) * len(g_t) / len(anchors)
        pairs = len(g_t) * (regions + args.bank)
        note = (f'loop: {len(anchors)} of {len(g_t)} anchors, extrapolated'
                + (f'; batched full: {n_img} of {args.images} images, '
                   'extrapolated' if n_img < args.images else ''))
        print(f'| {regions} | {pairs} | {times["full"]:.2f} | {loop:.1f} | '
              f'{loop / times["full"]:.1f} | {times["diag"]:.3f} | {note} |',
              flush=True)


def bench_stats(args) -> None:
    gen = torch.Generator().manual_seed(0)
    units, c, low_size, size = 4, 32, (18, 24), (144, 192)
    lows = [torch.randn(units, c, *low_size, generator=gen).relu()
            .requires_grad_() for _ in range(2)]
    print(f'\n## Region statistics, Eq. (2), GT + prediction maps of '
          f'{units} units, {c} ch at {low_size[0]}x{low_size[1]} -> '
          f'{size[0]}x{size[1]}, forward + backward, median wall ms over '
          f'{args.step_iters} rounds (torch threads '
          f'{torch.get_num_threads()})\n')
    print('| regions / image | on the upsampled maps (ms) | at 1/16 (ms) | '
          'ratio | max abs difference of the covariances |')
    print('|---|---|---|---|---|')
    for regions in args.regions:
        ids = voronoi_ids(units, *size, regions, gen)

        def upsampled():
            return [region_gaussians(
                F.interpolate(x, size=size, mode='bilinear',
                              align_corners=False), ids, 10, True, 1e-6)[0]
                for x in lows]

        def low_res():
            layout = UpsampledRegions(ids, low_size, 10)
            return [layout.gaussians(x, True, 1e-6) for x in lows]

        def timed(fn):
            t0 = time.perf_counter()
            out = fn()
            sum(g.mean.sum() + g.cov.sum() for g in out).backward()
            return time.perf_counter() - t0, out
        times = {upsampled: [], low_res: []}
        for fn in times:      # warm-up
            timed(fn)
        for _ in range(args.step_iters):
            for fn in times:
                times[fn].append(timed(fn)[0])
        diff = max((a.cov - b.cov).abs().max().item() for a, b in zip(
            timed(upsampled)[1], timed(low_res)[1]))
        up = statistics.median(times[upsampled]) * 1e3
        lo = statistics.median(times[low_res]) * 1e3
        print(f'| {regions} | {up:.1f} | {lo:.1f} | {up / lo:.1f} | '
              f'{diff:.1e} |', flush=True)


def build_model(method):
    from mtpsl.apis.config import load_config
    from mtpsl.registry import MODELS
    cfg = load_config(str(REPO / 'configs' / 'baseline' /
                          'mtl_segnet_1xb8-40k_nyuv2-full-288x384.py'))
    if method is not None:
        cfg.model.methods = [method]
    return MODELS.build(cfg.model)   # default init: timing only


def step_batch(gen, h: int = 288, w: int = 384):
    """Two h x w samples, one label each (sem_seg / depth), 40 regions."""
    from mmengine.structures import PixelData

    from mtpsl.structures import MultiTaskDataSample
    samples, imgs = [], []
    ids = voronoi_ids(2, h, w, 40, gen)
    for i in range(2):
        flags = dict(sem_seg=i == 0, depth=i == 1, normal=False)
        s = MultiTaskDataSample(metainfo=dict(
            img_shape=(h, w), ori_shape=(h, w), label_flags=flags))
        if i == 0:
            s.set_gt('sem_seg', torch.randint(0, 13, (1, h, w),
                                              generator=gen).float())
        else:
            s.set_gt('depth', torch.rand(1, h, w, generator=gen) + 0.5)
        s.set_field(PixelData(data=ids[i:i + 1]), 'region_ids',
                    dtype=PixelData)
        samples.append(s)
        imgs.append(torch.randint(0, 255, (3, h, w), generator=gen
                                  ).float())
    return dict(inputs=imgs, data_samples=samples)


def bench_step(args) -> None:
    gen = torch.Generator().manual_seed(0)
    batch = step_batch(gen, args.height, args.width)
    rows = [('SegNet (baseline)', None)]
    for v in args.variants:
        rc = dict(type='RegionContrast', num_classes=dict(sem_seg=13))
        if v == 'default':
            rows.append(('+ RC, shipped default (negatives=4, rest=bound)',
                         rc))
        elif v == 'diag':
            rows.append(('+ RC, diag covariance, all negatives exact',
                         dict(rc, covariance='diag', negatives=None)))
        else:
            neg = None if v.lower() == 'none' else int(v)
            rows.append((f'+ RC, negatives={neg}' + (
                ' (exact, all 1000 + in-image)' if neg is None else ''),
                dict(rc, negatives=neg)))
    print(f'\n## Training step, SegNet {args.height}x{args.width} batch 2, '
          f'onelabel, 40 '
          f'regions / image, wall and CPU s (torch threads '
          f'{torch.get_num_threads()})\n')
    print('| model | step (wall s) | ratio to baseline | step (CPU s) | '
          'ratio to baseline |')
    print('|---|---|---|---|---|')
    bank_feats = features(4, gen)
    bank_ids = voronoi_ids(4, 144, 192, 260, gen)
    steps = []
    for name, method in rows:
        model = build_model(method)
        if method is not None:   # a full bank, as after the first steps
            rc = model.methods.rc
            g, _, _ = region_gaussians(bank_feats, bank_ids, 10, True, 1e-6,
                                       rc.covariance == 'diag')
            rc.bank.push(g)
        optim = torch.optim.Adam(model.parameters(), lr=1e-4)
        model.train()
        steps.append(lambda m=model, o=optim: train_step(m, o, dict(batch)))
    # one warm-up step each, then the rows take turns, step by step, so
    # that a change of machine load falls on all of them alike
    for step in steps:
        step()
    wall = [[] for _ in steps]
    cpu = [[] for _ in steps]
    for _ in range(args.step_iters):
        for i, step in enumerate(steps):
            t0, c0 = time.perf_counter(), time.process_time()
            step()
            wall[i].append(time.perf_counter() - t0)
            cpu[i].append(time.process_time() - c0)
    base, base_cpu = statistics.median(wall[0]), statistics.median(cpu[0])
    for (name, _), w, c in zip(rows, wall, cpu):
        med, med_cpu = statistics.median(w), statistics.median(c)
        print(f'| {name} | {med:.2f} | {med / base:.2f} | {med_cpu:.2f} | '
              f'{med_cpu / base_cpu:.2f} |', flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--part', choices=('w2', 'stats', 'step', 'all'),
                        default='all')
    parser.add_argument('--regions', type=int, nargs='+',
                        default=[10, 30, 100])
    parser.add_argument('--images', type=int, default=10)
    parser.add_argument('--bank', type=int, default=1000)
    parser.add_argument('--max-batched-pairs', type=int, default=120000)
    parser.add_argument('--loop-anchors', type=int, default=3)
    parser.add_argument('--step-iters', type=int, default=3)
    parser.add_argument('--variants', nargs='*',
                        default=['default', 'None', 'diag'],
                        help="RC rows of the step part: 'default', 'diag', "
                        "or a number of exact negatives ('None': all)")
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--height', type=int, default=288,
                        help='input size of the step part')
    parser.add_argument('--width', type=int, default=384)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    import os
    print(f'load average (1, 5, 15 min): {os.getloadavg()}', flush=True)
    if args.part in ('w2', 'all'):
        bench_w2(args)
    if args.part in ('stats', 'all'):
        bench_stats(args)
    if args.part in ('step', 'all'):
        bench_step(args)
    print(f'load average at the end: {os.getloadavg()}', flush=True)


if __name__ == '__main__':
    main()
