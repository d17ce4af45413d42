"""Pseudo labels and saved features written for a training image, loaded
through the HiTTs stage-2 pipeline (scale-crop + flip), equal those of the
transformed image: stored as copies of the image's GT (and of the image),
they must come out equal to the transformed GT (and image)."""
import os.path as osp
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from _hitts_tiny import STAGE2  # noqa: E402

from mtpsl.datasets import pseudo_store as store  # noqa: E402

TASKS = ('sem_seg', 'depth', 'normal')


def _info(root):
    from mtpsl.registry import DATASETS
    ds = DATASETS.build(dict(type='NYUv2Dataset', data_root=root,
                             split='train', index_file='splits/train.txt',
                             tasks=TASKS, pipeline=[]))
    return ds.get_data_info(0)


def _loaded(info):
    from mtpsl.registry import TRANSFORMS
    load = TRANSFORMS.build(dict(type='LoadMultiTaskNpy',
                                 num_classes=dict(sem_seg=13)))
    return load(dict(info))


def _pool(img, s):
    """h x w x C average of s x s blocks (ceil)."""
    h, w = img.shape[:2]
    out = np.zeros((-(-h // s), -(-w // s), img.shape[2]), np.float32)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = img[i * s:(i + 1) * s, j * s:(j + 1) * s].mean((0, 1))
    return out


def _pipeline(pseudo_dir, stride, scales=(1.0, 1.2, 1.5), prob=0.5):
    """The stage-2 training pipeline of the CPU config, its pseudo folder,
    feature width (3: the image) and stride replaced."""
    from mmcv.transforms import Compose

    from mtpsl.apis.config import load_config
    from mtpsl.registry import TRANSFORMS
    steps = []
    for t in load_config(STAGE2).train_pipeline:
        t = dict(t)
        if t['type'] == 'LoadPseudoSupervision':
            t.update(pseudo_dir=pseudo_dir, feat_channels=3, stride=stride)
        if t['type'] == 'RandomScaleCrop':
            t.update(scales=scales)
        if t['type'] == 'RandomFlip':
            t.update(prob=prob)
        if t['type'] == 'PackMultiTaskInputs':  # keep the crop and flip
            t.update(meta_keys=('img_id', 'img_shape', 'ori_shape',
                                'crop_box', 'flip'))
        steps.append(TRANSFORMS.build(t))
    return Compose(steps)


@pytest.mark.parametrize('stride', [1, 4])
def test_pseudo_fields_move_as_the_gt_and_the_image(tiny_procedural_root,
                                                   tmp_path, stride):
    info = _info(tiny_procedural_root)
    r = _loaded(info)
    gt, img = r['gt_maps'], r['img']
    entry = dict(
        pseudo_sem_seg=gt['sem_seg'].transpose(2, 0, 1).astype(np.int16),
        pseudo_depth=gt['depth'].transpose(2, 0, 1).astype(np.float32),
        pseudo_normal=gt['normal'].transpose(2, 0, 1).astype(np.float32))
    # feature channels: x and y of each feature pixel's centre (in image
    # pixels), and a constant; a linear ramp survives bilinear resampling
    h, w = img.shape[:2]
    fh, fw = -(-h // stride), -(-w // stride)
    ys, xs = np.meshgrid(np.arange(fh) * stride + (stride - 1) / 2,
                         np.arange(fw) * stride + (stride - 1) / 2,
                         indexing='ij')
    feat = np.stack([xs, ys, np.ones_like(xs)]).astype(np.float32)
    for t in TASKS:
        entry[f'feat_{t}'] = feat.astype(np.float16)
        entry[f'conf_{t}'] = np.ones((1, fh, fw), np.float16)
    store.write_entry(str(tmp_path), str(info['img_id']), entry)
    seen = set()
    for seed in range(12):
        np.random.seed(seed)
        out = _pipeline(str(tmp_path), stride)(dict(info))
        sample = out['data_samples']
        meta = sample.metainfo
        x1, y1, x2, y2 = (int(v) for v in meta['crop_box'])
        flip = bool(meta.get('flip', False))
        seen.add((flip, x2 - x1))
        assert torch.equal(sample.get('pseudo_sem_seg').data,
                           sample.gt('sem_seg'))
        assert torch.allclose(sample.get('pseudo_depth').data,
                              sample.gt('depth'), atol=1e-6)
        assert torch.allclose(sample.get('pseudo_normal').data,
                              sample.gt('normal'), atol=1e-5)
        moved = sample.get('feat_depth').data.float()
        assert moved.shape == (3, fh, fw)
        # where each output feature pixel's centre came from in the input
        oy, ox = np.meshgrid(np.arange(fh) * stride + (stride - 1) / 2,
                             np.arange(fw) * stride + (stride - 1) / 2,
                             indexing='ij')
        if flip:
            ox = (w - 1) - ox
        ex = x1 + (ox + 0.5) * (x2 - x1) / w - 0.5
        ey = y1 + (oy + 0.5) * (y2 - y1) / h - 0.5
        inner = (slice(1, -1), slice(1, -1))  # borders clamp
        err_x = np.abs(moved[0].numpy() - ex)[inner].max()
        err_y = np.abs(moved[1].numpy() - ey)[inner].max()
        assert err_x < 0.5 and err_y < 0.5, (seed, err_x, err_y, flip)
        assert torch.allclose(moved[2], torch.ones(fh, fw), atol=1e-3)
    assert len(seen) > 1  # several zooms / flips were drawn


def test_labelled_task_field_is_invalid_and_shape_checked(
        tiny_procedural_root, tmp_path):
    info = _info(tiny_procedural_root)
    r = _loaded(info)
    h, w = r['img'].shape[:2]
    entry = {f'feat_{t}': np.zeros((3, -(-h // 4), -(-w // 4)), np.float16)
             for t in TASKS}
    entry.update({f'conf_{t}': np.ones((1, -(-h // 4), -(-w // 4)),
                                       np.float16) for t in TASKS})
    store.write_entry(str(tmp_path), str(info['img_id']), entry)
    out = _pipeline(str(tmp_path), 4, scales=(1.0,), prob=0.0)(dict(info))
    sample = out['data_samples']
    assert bool((sample.get('pseudo_sem_seg').data == -1).all())
    assert bool((sample.get('pseudo_depth').data == 0).all())
    assert bool((sample.get('pseudo_normal').data == 0).all())
    entry['feat_depth'] = np.zeros((5, 1, 1), np.float16)
    store.write_entry(str(tmp_path), str(info['img_id']), entry)
    with pytest.raises(ValueError, match='feat_depth'):
        _pipeline(str(tmp_path), 4)(dict(info))
