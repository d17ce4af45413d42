"""Time per image of each region source, and what cached region maps add to
the training data pipeline, at 288x384 on this machine.

Usage: python tools/benchmarks/bench_regions.py [--images 16] [--rounds 5]
       [--sam-images 1] [--sam-points 32] [--no-sam]

On a procedural dataset (nyuv2 size, generated in a temporary folder):
- SAM: vit_b with RANDOM weights (no checkpoint can be downloaded here) at
  SamAutomaticMaskGenerator's defaults (``--sam-points`` per side; 32 takes
  minutes per image on a CPU), on ``--sam-images`` images, through the
  tool's own map maker (model build not timed). Random weights keep few
  masks, so the mask post-processing of a real checkpoint costs more.
- superpixels (SLIC n_segments=200, Felzenszwalb scale=100), patches (4x4),
  oracle (read the instance map), sam-cached (read a uint16 .npy map).
- data pipeline: the shipped 288x384 training pipeline (load, zoom-crop,
  flip, photometric, pack) with and without LoadRegionMap(sam), each image
  through both back to back with the same random draws, ``--rounds``
  times; medians, and the median of the paired differences.
Prints a table; the overhead target is under 5 % of data time.
``--figures DIR [--sam-points 8] [--sam-checkpoint PATH]`` instead draws,
per source, three procedural images with their region boundaries and ids
(``DIR/regions_<source>.png``, used by docs/regions.md).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from mtpsl.datasets.procedural import generate_dataset  # noqa: E402
from mtpsl.regions import (compute_superpixels, read_image_rgb,  # noqa: E402
                           write_region_map)
from mtpsl.registry import DATASETS, REGION_SOURCES  # noqa: E402

H, W = 288, 384


def train_pipeline(with_regions: bool) -> list:
    """The shipped training pipeline, optionally loading cached SAM maps."""
    steps = [dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=13))]
    if with_regions:
        steps.append(dict(type='LoadRegionMap', source=dict(type='sam')))
    return steps + [dict(type='RandomScaleCrop', scales=(1.0, 1.2, 1.5)),
                    dict(type='RandomFlip', prob=0.5),
                    dict(type='PhotoMetricDistortion'),
                    dict(type='PackMultiTaskInputs')]


def per_image(fn, items, repeat: int = 1) -> float:
    """Median seconds of ``fn(item)`` over the items (each ``repeat`` times)."""
    times = []
    for _ in range(repeat):
        for item in items:
            t0 = time.perf_counter()
            fn(item)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_sources(root: str, n: int) -> dict:
    img_dir = Path(root, 'train', 'image')
    items = []
    for i in range(n):
        path = str(img_dir / f'{i}.npy')
        items.append(dict(img=np.load(path), img_path=path, img_id=str(i)))
    out = {}
    for name, cfg in [('superpixels slic', dict(type='superpixels')),
                      ('superpixels felzenszwalb',
                       dict(type='superpixels', method='felzenszwalb')),
                      ('patches 4x4', dict(type='patches', grid=(4, 4))),
                      ('oracle (read)', dict(type='oracle')),
                      ('sam cached (read)', dict(type='sam'))]:
        source = REGION_SOURCES.build(cfg)
        counts = [int(source(r)[0].max()) for r in items]
        out[name] = (per_image(source, items, 3), statistics.mean(counts))
    return out


def bench_sam(root: str, n: int, points: int) -> tuple:
    from mtpsl.regions.sam import SamRegionMapper, build_sam
    model = build_sam('vit_b', random_weights=True)
    mapper = SamRegionMapper(model, points_per_side=points)
    images = [read_image_rgb(str(Path(root, 'train', 'image', f'{i}.npy')))
              for i in range(n)]
    counts = []
    seconds = per_image(lambda im: counts.append(int(mapper(im).max())),
                        images)
    return seconds, statistics.mean(counts)


def bench_pipeline(root: str, n: int, rounds: int) -> dict:
    """Data time per image without / with LoadRegionMap, measured in pairs:
    the same image and random draws through both pipelines back to back
    (order alternating), so the machine's load drifts out of the difference.
    """
    datasets = {flag: DATASETS.build(dict(
        type='NYUv2Dataset', data_root=root, split='train',
        tasks=('sem_seg', 'depth', 'normal'), pipeline=train_pipeline(flag)))
        for flag in (False, True)}
    times = {False: [], True: []}
    for r in range(rounds):
        for i in range(n):
            pair = (False, True) if (r + i) % 2 == 0 else (True, False)
            for flag in pair:
                np.random.seed(r * n + i)
                t0 = time.perf_counter()
                datasets[flag][i]
                times[flag].append(time.perf_counter() - t0)
    base, regions = (statistics.median(times[f]) for f in (False, True))
    diff = statistics.median(b - a for a, b in zip(times[False],
                                                   times[True]))
    return dict(base=base, regions=regions, overhead=100.0 * diff / base)


def draw_figures(out_dir: str, sam_points: int, checkpoint: str = None,
                 model_type: str = 'vit_b') -> None:
    """One PNG per source: region boundaries over three procedural images."""
    import cv2

    from mtpsl.regions import num_regions
    from mtpsl.visualization.colorize import (colorize_ids, draw_boundaries,
                                              make_grid)
    h, w, n = 144, 192, 3
    sources = {  # file name: (title, config)
        'oracle': ('oracle', dict(type='oracle')),
        'superpixels_slic': ('SLIC', dict(type='superpixels', n_segments=100)),
        'superpixels_felzenszwalb': ('Felzenszwalb', dict(
            type='superpixels', method='felzenszwalb', scale=100, min_size=30)),
        'patches': ('patches 4x4', dict(type='patches', grid=(4, 4)))}
    with tempfile.TemporaryDirectory() as tmp:
        root = str(Path(tmp, 'data'))
        generate_dataset(root, height=h, width=w, num_train=n, num_test=0,
                         val_fraction=0.0, workers=1, progress=False, seed=3)
        paths = [str(Path(root, 'train', 'image', f'{i}.npy'))
                 for i in range(n)]
        images = [read_image_rgb(p) for p in paths]
        maps = {name: (title, [REGION_SOURCES.build(cfg)(dict(
            img=im, img_path=p, img_id=str(i)))[0]
            for i, (im, p) in enumerate(zip(images, paths))])
            for name, (title, cfg) in sources.items()}
        if sam_points:
            from mtpsl.regions.sam import SamRegionMapper, build_sam
            model = build_sam(model_type, checkpoint, checkpoint is None)
            # Random weights pass none of SAM's default quality filters, so
            # they are off then: the picture shows the code path only.
            loose = {} if checkpoint else dict(pred_iou_thresh=0.0,
                                               stability_score_thresh=0.0)
            mapper = SamRegionMapper(model, points_per_side=sam_points, **loose)
            title = 'SAM' if checkpoint else 'SAM random weights'
            maps['sam'] = (title, [mapper(im) for im in images])
    os.makedirs(out_dir, exist_ok=True)
    for name, (title, ids) in maps.items():
        grid = make_grid([[draw_boundaries(im, m, (255, 255, 0))
                           for im, m in zip(images, ids)],
                          [colorize_ids(m) for m in ids]],
                         titles=[f'{title}: {num_regions(m)}' for m in ids],
                         min_cell_width=w)
        path = os.path.join(out_dir, f'regions_{name}.png')
        cv2.imwrite(path, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(f'{path}: {os.path.getsize(path) / 1024:.0f} KB')


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--images', type=int, default=16)
    p.add_argument('--rounds', type=int, default=5)
    p.add_argument('--sam-images', type=int, default=1)
    p.add_argument('--sam-points', type=int, default=32)
    p.add_argument('--no-sam', action='store_true')
    p.add_argument('--figures', default=None,
                   help='draw docs figures into this folder and stop')
    p.add_argument('--sam-checkpoint', default=None,
                   help='figures: a real SAM checkpoint (default: random)')
    p.add_argument('--sam-model-type', default='vit_b')
    args = p.parse_args(argv)
    if args.figures:
        draw_figures(args.figures, 0 if args.no_sam else args.sam_points,
                     args.sam_checkpoint, args.sam_model_type)
        return 0
    load = os.getloadavg()
    print(f'load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} '
          f'({os.cpu_count()} cores)', flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = str(Path(tmp, 'data'))
        generate_dataset(root, height=H, width=W, num_train=args.images,
                         num_test=0, val_fraction=0.0, workers=1,
                         progress=False)
        for i in range(args.images):  # cached "SAM" maps: SLIC ids, uint16
            img = read_image_rgb(str(Path(root, 'train', 'image', f'{i}.npy')))
            write_region_map(str(Path(root, 'train', 'sam', f'{i}.npy')),
                             compute_superpixels(img))
        rows = bench_sources(root, args.images)
        if not args.no_sam:
            rows[f'sam vit_b random, points_per_side={args.sam_points} '
                 f'({args.sam_images} img)'] = bench_sam(
                     root, args.sam_images, args.sam_points)
        pipe = bench_pipeline(root, args.images, args.rounds)
    print(f'\nregion source at {H}x{W}                       s/image   regions')
    for name, (sec, count) in rows.items():
        print(f'  {name:<44} {sec:9.4f} {count:9.1f}')
    print(f'\ndata pipeline per image (median of {args.rounds} rounds x '
          f'{args.images} images)')
    print(f'  without LoadRegionMap  {pipe["base"] * 1e3:8.2f} ms')
    print(f'  with LoadRegionMap     {pipe["regions"] * 1e3:8.2f} ms')
    print(f'  overhead (median of the paired differences) '
          f'{pipe["overhead"]:6.2f} %  (target < 5 %)')
    load = os.getloadavg()
    print(f'load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
