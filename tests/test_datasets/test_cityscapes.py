"""CityscapesDataset (label_7 / label_19, depth, inverse depth), tiny trees."""
import os
import os.path as osp

import numpy as np
import pytest
import torch

import mtpsl  # noqa: F401
from mtpsl.datasets import CityscapesDataset
from mtpsl.datasets.transforms import InverseDepth, inverse_depth

H, W = 4, 8


def make_tiny_cityscapes(root, n_train=3, n_test=2, seed=0):
    """ROOT/{train,val}/{image,label_7,label_19,depth}/{i}.npy; the maps."""
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in (('train', n_train), ('val', n_test)):
        out[split] = []
        for i in range(n):
            label_7 = rng.integers(0, 7, (H, W)).astype(np.float32)
            label_7[0, 0] = -1
            label_19 = rng.integers(0, 19, (H, W)).astype(np.float32)
            label_19[1, 1] = -1
            depth = rng.uniform(0.01, 0.2, (H, W, 1)).astype(np.float32)
            depth[2, 3, 0] = 0.0
            maps = dict(image=rng.random((H, W, 3), dtype=np.float32),
                        label_7=label_7, label_19=label_19, depth=depth)
            for folder, arr in maps.items():
                os.makedirs(osp.join(root, split, folder), exist_ok=True)
                np.save(osp.join(root, split, folder, f'{i}.npy'), arr)
            out[split].append(maps)
    os.makedirs(osp.join(root, 'splits'), exist_ok=True)
    (root / 'splits' / 'val.txt').write_text(f'{n_train - 1}\n')
    return out


def _ds(root, num_classes=7, **kwargs):
    kwargs.setdefault('pipeline', [
        dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=num_classes)),
        dict(type='PackMultiTaskInputs')])
    return CityscapesDataset(data_root=str(root), num_classes=num_classes,
                             **kwargs)


@pytest.mark.parametrize('num_classes', [7, 19])
def test_loads_shapes_and_contents(tmp_path, num_classes):
    ref = make_tiny_cityscapes(tmp_path)
    for split in ('train', 'val'):
        ds = _ds(tmp_path, num_classes, split=split, test_mode=split == 'val')
        assert len(ds) == len(ref[split])
        assert len(ds.metainfo['classes']) == num_classes
        for i, maps in enumerate(ref[split]):
            item = ds[i]
            s = item['data_samples']
            assert torch.equal(item['inputs'], torch.from_numpy(
                maps['image'].transpose(2, 0, 1).copy()))
            label = torch.from_numpy(
                maps[f'label_{num_classes}'].astype(np.int64))[None]
            assert s.gt('sem_seg').dtype == torch.int64
            assert torch.equal(s.gt('sem_seg'), label)
            assert torch.equal(s.gt('depth'), torch.from_numpy(
                maps['depth'].transpose(2, 0, 1).copy()))
            assert s.metainfo['label_flags'] == dict(sem_seg=True, depth=True)
            assert ds.get_data_info(i)['depth_target'] == 'depth'


def test_inverse_depth_golden():
    depth = np.array([[[2.0], [0.0]], [[0.5], [4.0]]], np.float32)
    expected = np.array([[[0.5], [0.0]], [[2.0], [0.25]]], np.float32)
    np.testing.assert_array_equal(inverse_depth(depth), expected)
    results = InverseDepth()(dict(gt_maps=dict(depth=depth.copy())))
    np.testing.assert_array_equal(results['gt_maps']['depth'], expected)
    assert results['depth_target'] == 'inverse_depth'
    # An image unlabelled for depth passes through untouched.
    assert InverseDepth()(dict(gt_maps={}))['gt_maps'] == {}


def test_inverse_depth_dataset(tmp_path):
    ref = make_tiny_cityscapes(tmp_path, n_train=2, n_test=1)
    ds = _ds(tmp_path, depth_target='inverse_depth')
    names = [type(t).__name__ for t in ds.pipeline.transforms]
    assert names == ['LoadMultiTaskNpy', 'CheckValues', 'InverseDepth',
                     'PackMultiTaskInputs']
    for i in range(2):
        d = ref['train'][i]['depth']
        gt = ds[i]['data_samples'].gt('depth')[0].numpy()
        assert gt[2, 3] == 0.0
        valid = d[..., 0] > 0
        np.testing.assert_allclose(gt[valid], 1.0 / d[..., 0][valid],
                                   rtol=1e-6)
        assert ds.get_data_info(i)['depth_target'] == 'inverse_depth'
    with pytest.raises(ValueError, match='twice'):
        _ds(tmp_path, depth_target='inverse_depth',
            pipeline=[dict(type='LoadMultiTaskNpy'),
                      dict(type='InverseDepth')])
    with pytest.raises(ValueError, match='depth_target'):
        _ds(tmp_path, depth_target='disparity')
    with pytest.raises(ValueError, match='7 or 19'):
        _ds(tmp_path, num_classes=13)


def test_index_file_and_onelabel_regime(tmp_path):
    ref = make_tiny_cityscapes(tmp_path, n_train=4, n_test=1)
    val = _ds(tmp_path, index_file='splits/val.txt', test_mode=True)
    assert len(val) == 1 and val.get_data_info(0)['img_id'] == '3'
    assert torch.equal(val[0]['data_samples'].gt('depth')[0],
                       torch.from_numpy(ref['train'][3]['depth'][..., 0]))
    ds = _ds(tmp_path, label_regime=dict(type='onelabel', seed=0))
    counts = dict(sem_seg=0, depth=0)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        (task,) = [t for t, f in info['label_flags'].items() if f]
        assert set(info['gt_paths']) == {task}
        counts[task] += 1
        assert ds[i]['data_samples'].labelled_tasks() == [task]
    assert counts == dict(sem_seg=2, depth=2)


def test_errors_name_the_file(tmp_path):
    make_tiny_cityscapes(tmp_path, n_train=2, n_test=1)
    with pytest.raises(ValueError, match='normal'):
        _ds(tmp_path, tasks=('sem_seg', 'normal'))
    path = osp.join(str(tmp_path), 'train', 'label_7', '1.npy')
    bad = np.zeros((H, W), np.float32)
    bad[0, 1] = 7  # valid in label_19, out of range for 7 classes
    np.save(path, bad)
    with pytest.raises(ValueError, match=f'{path}: label 7 outside'):
        _ds(tmp_path)[1]
    os.remove(osp.join(str(tmp_path), 'train', 'depth', '0.npy'))
    with pytest.raises(FileNotFoundError,
                       match=osp.join('train', 'depth', '0.npy')):
        _ds(tmp_path)[0]


def test_inverse_depth_after_zoom(tmp_path):
    """With a zoom s, the target is the inverse of the zoomed depth: s / d."""
    make_tiny_cityscapes(tmp_path, n_train=1, n_test=1)
    np.save(osp.join(str(tmp_path), 'train', 'depth', '0.npy'),
            np.full((H, W, 1), 0.1, np.float32))
    ds = _ds(tmp_path, depth_target='inverse_depth', pipeline=[
        dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=7)),
        dict(type='RandomScaleCrop', scales=(2.0,)),
        dict(type='PackMultiTaskInputs')])
    assert [type(t).__name__ for t in ds.pipeline.transforms][-2:] == [
        'InverseDepth', 'PackMultiTaskInputs']
    gt = ds[0]['data_samples'].gt('depth')
    assert torch.allclose(gt, torch.full_like(gt, 2.0 / 0.1))
