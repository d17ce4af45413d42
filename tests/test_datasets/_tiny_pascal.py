"""Build tiny trees in the PASCAL-Context multi-task (PASCAL_MT) layout.

Real formats: jpg (cv2.imwrite), png (PIL), .mat (scipy.io.savemat). Train
image 0 has a person (PASCAL-Part ``anno`` struct), image 1 has no parts
file, image 2 has a parts file with only a dog; val image 0 stores a
preprocessed ``human_parts`` map, val image 1 has no parts file.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Dict, List

import cv2
import numpy as np
import scipy.io
from PIL import Image

TRAIN_IDS = ('2008_000002', '2008_000003', '2008_000007')
VAL_IDS = ('2008_000008', '2008_000009')
SIZES = ((6, 8), (5, 7), (6, 8), (7, 6), (6, 8))


def _dirs(root) -> None:
    for d in ('JPEGImages', 'ImageSets/Context', 'semseg/pascal-context',
              'human_parts', 'normals_distill', 'sal_distill',
              'pascal-context/trainval'):
        os.makedirs(osp.join(root, d), exist_ok=True)


def _parts_anno(h: int, w: int, with_person: bool) -> dict:
    """A PASCAL-Part ``anno`` struct; the person's parts at fixed places."""
    def mask(ys, xs):
        m = np.zeros((h, w), np.uint8)
        m[ys, xs] = 1
        return m
    dog = {'class': 'dog', 'class_ind': 12, 'mask': mask(slice(4, 6),
                                                         slice(0, 2)),
           'parts': np.zeros((0, 0))}
    objects = [dog]
    if with_person:
        parts = np.array([dict(part_name='head', mask=mask(0, slice(4, 6))),
                          dict(part_name='luarm', mask=mask(1, 4)),
                          dict(part_name='rfoot', mask=mask(3, 5))],
                         dtype=object)
        objects.insert(0, {'class': 'person', 'class_ind': 15,
                           'mask': mask(slice(0, 4), slice(4, 6)),
                           'parts': parts})
    return dict(imname='x', objects=np.array(objects, dtype=object))


def write_image(root, img_id: str, rgb: np.ndarray) -> None:
    cv2.imwrite(osp.join(root, 'JPEGImages', f'{img_id}.jpg'),
                np.ascontiguousarray(rgb[..., ::-1]),
                [cv2.IMWRITE_JPEG_QUALITY, 100])


def make_tiny_pascal(root, seed: int = 0) -> Dict[str, List[dict]]:
    """Write the tree; return ``{split: [written arrays of image i]}``."""
    rng = np.random.default_rng(seed)
    _dirs(root)
    out: Dict[str, List[dict]] = {}
    k = 0
    for split, ids in (('train', TRAIN_IDS), ('val', VAL_IDS)):
        with open(osp.join(root, 'ImageSets', 'Context', f'{split}.txt'),
                  'w') as f:
            f.write(''.join(f'{i}\n' for i in ids))
        out[split] = []
        for j, img_id in enumerate(ids):
            h, w = SIZES[k]
            k += 1
            yy, xx = np.mgrid[0:h, 0:w]
            rgb = np.stack([200 + 5 * xx, 100 + 10 * yy, 30 + 0 * xx],
                           -1).astype(np.uint8)
            write_image(root, img_id, rgb)
            semseg = rng.integers(0, 21, (h, w)).astype(np.uint8)
            semseg[0, 0] = 255
            Image.fromarray(semseg, mode='L').save(
                osp.join(root, 'semseg', 'pascal-context', f'{img_id}.png'))
            unit = rng.normal(size=(h, w, 3))
            unit /= np.linalg.norm(unit, axis=-1, keepdims=True)
            normal = np.round((unit + 1) / 2 * 255).astype(np.uint8)
            normal[1, 1] = 0  # stored invalid
            normal[1, 2] = 128  # decodes to ~0: not a unit normal, invalid
            Image.fromarray(normal, mode='RGB').save(
                osp.join(root, 'normals_distill', f'{img_id}.png'))
            sal = rng.choice(np.array([0, 100, 127, 128, 200, 255],
                                      np.uint8), (h, w))
            Image.fromarray(sal, mode='L').save(
                osp.join(root, 'sal_distill', f'{img_id}.png'))
            label_map = np.ones((h, w), np.int32)
            label_map[:, w // 2:] = 2
            scipy.io.savemat(osp.join(root, 'pascal-context', 'trainval',
                                      f'{img_id}.mat'),
                             dict(LabelMap=label_map))
            parts = None
            parts_path = osp.join(root, 'human_parts', f'{img_id}.mat')
            if split == 'train' and j == 0:
                scipy.io.savemat(parts_path, dict(anno=_parts_anno(h, w,
                                                                   True)))
                parts = np.zeros((h, w), np.int64)
                parts[0, 4:6] = 1
                parts[1, 4] = 3
                parts[3, 5] = 6
            elif split == 'train' and j == 2:
                scipy.io.savemat(parts_path, dict(anno=_parts_anno(h, w,
                                                                   False)))
            elif split == 'val' and j == 0:
                parts = rng.integers(0, 7, (h, w)).astype(np.uint8)
                parts[2, 2] = 255
                scipy.io.savemat(parts_path, dict(human_parts=parts))
                parts = parts.astype(np.int64)
                parts[2, 2] = -1
            out[split].append(dict(id=img_id, rgb=rgb, semseg=semseg,
                                   normal=normal, sal=sal,
                                   label_map=label_map, parts=parts))
    return out
