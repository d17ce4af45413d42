"""Share of pixels kept and accuracy of HiTTs pseudo labels against the GT
the training never loaded (datasets with every GT on disk, e.g. the
procedural one, in the NYUv2 layout).

``python tools/analysis/pseudo_label_quality.py PSEUDO_DIR DATA_ROOT
[--split train]`` prints, per task, over the (image, task) pairs that have
a pseudo label: the share of their pixels kept (max softmax > tau), and on
the kept pixels with valid GT: pixel accuracy (labels), mean absolute error
in metres (depth), mean angle in degrees (normals).
"""
import argparse
import json
import os
import os.path as osp
import sys

import numpy as np

if __package__ in (None, ''):
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))

GT_FOLDERS = dict(sem_seg='label', depth='depth', normal='normal')


def gt_map(root: str, split: str, task: str, img_id: str) -> np.ndarray:
    """C x H x W GT of the NYUv2 layout."""
    arr = np.load(osp.join(root, split, GT_FOLDERS[task], f'{img_id}.npy'))
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def quality(pseudo_dir: str, root: str, split: str = 'train') -> dict:
    """``{task: dict(pairs, kept_share, <accuracy>)}``."""
    from mtpsl.datasets import pseudo_store as store
    sums = {}
    for name in sorted(os.listdir(pseudo_dir)):
        if not name.endswith('.npz'):
            continue
        img_id = name[:-4]
        for key, value in store.read_entry(pseudo_dir, img_id).items():
            if not key.startswith('pseudo_'):
                continue
            task = key[len('pseudo_'):]
            gt = gt_map(root, split, task, img_id)
            s = sums.setdefault(task, dict(pairs=0, pixels=0, kept=0,
                                           scored=0, err=0.0))
            s['pairs'] += 1
            s['pixels'] += value.shape[-1] * value.shape[-2]
            if task == 'sem_seg':
                kept = value[0] >= 0
                valid = kept & (gt[0] >= 0)
                err = (value[0] != gt[0])[valid]
            elif task == 'depth':
                kept = value[0] > 0
                valid = kept & (gt[0] > 0)
                err = np.abs(value[0] - gt[0])[valid]
            else:
                kept = np.abs(value).sum(0) > 0
                valid = kept & (np.abs(gt).sum(0) > 0)
                cos = np.clip((value * gt).sum(0), -1, 1)
                err = np.degrees(np.arccos(cos))[valid]
            s['kept'] += int(kept.sum())
            s['scored'] += int(valid.sum())
            s['err'] += float(err.sum())
    out = {}
    for task, s in sums.items():
        mean = s['err'] / s['scored'] if s['scored'] else float('nan')
        metric = dict(sem_seg=('pixel_acc_%', 100 * (1 - mean)),
                      depth=('abs_err_m', mean),
                      normal=('mean_angle_deg', mean))[task]
        out[task] = dict(pairs=s['pairs'],
                         kept_share_percent=100 * s['kept'] / s['pixels'],
                         **{metric[0]: metric[1]})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('pseudo_dir')
    p.add_argument('data_root')
    p.add_argument('--split', default='train')
    args = p.parse_args(argv)
    print(json.dumps(quality(args.pseudo_dir, args.data_root, args.split),
                     indent=1, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
