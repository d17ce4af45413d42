"""Build tiny trees in the preprocessed NYUv2 layout of the MTPSL line.

``ROOT/{train,val}/{image,label,depth,normal}/{i}.npy``: image float32
H x W x 3 in [0, 1]; label float32 H x W with -1 = ignore; depth float32
H x W x 1, 0 = invalid; normal float32 H x W x 3 unit, all-zero = invalid.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Dict, List

import numpy as np

FOLDERS = ('image', 'label', 'depth', 'normal')


def _maps(rng: np.random.Generator, h: int, w: int) -> Dict[str, np.ndarray]:
    image = rng.random((h, w, 3), dtype=np.float32)
    label = rng.integers(0, 13, (h, w)).astype(np.float32)
    label[rng.random((h, w)) < 0.1] = -1
    depth = rng.uniform(0.5, 10.0, (h, w, 1)).astype(np.float32)
    depth[rng.random((h, w)) < 0.1] = 0.0
    normal = rng.normal(size=(h, w, 3))
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    normal = normal.astype(np.float32)
    normal[rng.random((h, w)) < 0.1] = 0.0
    return dict(image=image, label=label, depth=depth, normal=normal)


def make_tiny_nyu(root, n_train: int = 4, n_test: int = 2, h: int = 6,
                  w: int = 8, seed: int = 0) -> Dict[str, List[dict]]:
    """Write the tree under ``root``; return ``{split: [maps of image i]}``.

    ``splits/train.txt`` and ``splits/val.txt`` carve the training images
    (all but the last) and the last training image.
    """
    rng = np.random.default_rng(seed)
    out: Dict[str, List[dict]] = {}
    for split, n in (('train', n_train), ('val', n_test)):
        for folder in FOLDERS:
            os.makedirs(osp.join(root, split, folder), exist_ok=True)
        out[split] = []
        for i in range(n):
            maps = _maps(rng, h, w)
            for folder, arr in maps.items():
                np.save(osp.join(root, split, folder, f'{i}.npy'), arr)
            out[split].append(maps)
    os.makedirs(osp.join(root, 'splits'), exist_ok=True)
    with open(osp.join(root, 'splits', 'train.txt'), 'w') as f:
        f.write(''.join(f'{i}\n' for i in range(n_train - 1)))
    with open(osp.join(root, 'splits', 'val.txt'), 'w') as f:
        f.write(f'{n_train - 1}\n')
    return out
