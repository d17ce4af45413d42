"""K-means centres of the labelled normals of a config's training set, for
binned normal heads (``NormalBins(centres_file=...)``, HiTTs supplement A.1).

Usage: python tools/compute_normal_centres.py CONFIG [--num-bins 20]
           [--max-pixels 200000] [--iters 50] [--seed 0] [--data-root D]
           [--out configs/hitts/normal_centres_nyuv2-20.json]

Reads the training images of CONFIG through the loading transforms of its
pipeline (no augmentation), draws up to --max-pixels labelled (non-zero)
normals uniformly with --seed, runs cosine k-means, and writes a JSON file
``{"centres": K x 3, ...}``. The centres become a buffer of the head, so a
checkpoint carries them: the file is needed to build the model, not to
predict with a trained one.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mtpsl.apis.config import load_config  # noqa: E402
from mtpsl.models.heads.bins import spherical_kmeans  # noqa: E402
from mtpsl.registry import DATASETS  # noqa: E402

# Transforms that only read files: the pipeline is cut before the first
# other one, so the centres describe the stored normals.
LOADING = ('LoadMultiTaskNpy', 'LoadPascalContext', 'LoadRegionMap',
           'InverseDepth')


def labelled_normals(dataset_cfg: dict, max_pixels: int, seed: int
                     ) -> torch.Tensor:
    """N x 3 labelled normals of the dataset, at most ``max_pixels``."""
    cfg = dict(dataset_cfg)
    pipeline = []
    for t in cfg.get('pipeline', []):
        if t['type'] not in LOADING:
            break
        pipeline.append(t)
    cfg.update(pipeline=pipeline, label_regime=None)
    dataset = DATASETS.build(cfg)
    if 'normal' not in dataset.tasks:
        raise ValueError(f'{type(dataset).__name__} has no normal task '
                         f'(tasks: {dataset.tasks})')
    chunks = []
    for i in range(len(dataset)):
        gt = dataset[i]['gt_maps'].get('normal')
        if gt is None:
            continue
        flat = torch.from_numpy(gt.reshape(-1, 3).astype('float32'))
        chunks.append(flat[(flat != 0).any(dim=1)])
    if not chunks:
        raise ValueError('no labelled normal pixel in the training set')
    normals = torch.cat(chunks)
    if normals.shape[0] > max_pixels:
        gen = torch.Generator().manual_seed(int(seed))
        normals = normals[torch.randperm(normals.shape[0],
                                         generator=gen)[:max_pixels]]
    return normals


def main(argv=None) -> int:
    """Compute the centres and write the JSON file."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('config')
    ap.add_argument('--num-bins', type=int, default=20)
    ap.add_argument('--max-pixels', type=int, default=200000)
    ap.add_argument('--iters', type=int, default=50)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--data-root', default=None)
    ap.add_argument('--out', required=True)
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    dataset_cfg = cfg.train_dataloader.dataset.to_dict()
    if args.data_root:
        dataset_cfg['data_root'] = args.data_root
    normals = labelled_normals(dataset_cfg, args.max_pixels, args.seed)
    centres = spherical_kmeans(normals, args.num_bins, args.iters, args.seed)
    record = dict(centres=[[round(float(v), 7) for v in c] for c in centres],
                  num_bins=args.num_bins, pixels=int(normals.shape[0]),
                  seed=args.seed, iters=args.iters,
                  config=str(args.config))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1) + '\n')
    print(f'{args.num_bins} centres from {normals.shape[0]} pixels -> '
          f'{args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
