"""Carve a validation split from a dataset's training folder.

``python tools/make_val_split.py ROOT [--val-fraction 0.1] [--seed 0]``
writes ROOT/splits/train.txt and ROOT/splits/val.txt (indices into
ROOT/train/, sorted), so models are selected without touching the test set.
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mtpsl.utils.cli import run_tool  # noqa: E402


def fewest_images(val_fraction: float) -> int:
    """The smallest N whose split leaves >= 1 image on each side."""
    n = 2
    while not 0 < int(round(val_fraction * n)) < n:
        n += 1
    return n


def carve(num_images: int, val_fraction: float, seed: int):
    """Sorted (train, val) index lists; val has round(f * N) images."""
    if not 0 < val_fraction < 1:
        raise ValueError(f'val_fraction must be in (0, 1), got {val_fraction}')
    num_val = int(round(val_fraction * num_images))
    if not 0 < num_val < num_images:
        raise ValueError(
            f'{num_images} training image(s) cannot be split with '
            f'val_fraction={val_fraction}: the split needs at least one '
            'image on each side, i.e. at least '
            f'{fewest_images(val_fraction)} images at this fraction'
            + (' (or a larger --val-fraction)' if num_val == 0 else
               ' (or a smaller --val-fraction)'))
    perm = np.random.default_rng(seed).permutation(num_images)
    return sorted(perm[num_val:].tolist()), sorted(perm[:num_val].tolist())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('root')
    p.add_argument('--val-fraction', type=float, default=0.1)
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args(argv)
    image_dir = osp.join(args.root, 'train', 'image')
    if not osp.isdir(image_dir):
        raise FileNotFoundError(f'no training images: expected folder '
                                f'{image_dir}')
    n = len([f for f in os.listdir(image_dir) if f.endswith('.npy')])
    train, val = carve(n, args.val_fraction, args.seed)
    os.makedirs(osp.join(args.root, 'splits'), exist_ok=True)
    for name, ids in (('train', train), ('val', val)):
        with open(osp.join(args.root, 'splits', f'{name}.txt'), 'w') as f:
            f.write('\n'.join(map(str, ids)) + '\n')
    print(f'{len(train)} train / {len(val)} val indices written to '
          f'{osp.join(args.root, "splits")}')


if __name__ == '__main__':
    run_tool(main)
