"""NYUv2Dataset + LoadMultiTaskNpy + PackMultiTaskInputs on tiny trees."""
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch

import mtpsl  # noqa: F401
from mtpsl.datasets import NYUv2Dataset
from mtpsl.datasets.transforms import LoadMultiTaskNpy

sys.path.insert(0, osp.dirname(__file__))
from _tiny_nyu import make_tiny_nyu  # noqa: E402

TASKS = ('sem_seg', 'depth', 'normal')
FOLDER = dict(sem_seg='label', depth='depth', normal='normal')
PIPELINE = [dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=13)),
            dict(type='PackMultiTaskInputs')]


def _dataset(root, **kwargs):
    kwargs.setdefault('pipeline', PIPELINE)
    return NYUv2Dataset(data_root=str(root), **kwargs)


def _expected(maps, task):
    """The file contents as C x H x W, in the loader's dtypes."""
    arr = maps[FOLDER[task]]
    if task == 'sem_seg':
        return torch.from_numpy(arr.astype(np.int64))[None]
    return torch.from_numpy(arr.transpose(2, 0, 1).copy())


def test_loads_shapes_and_contents(tmp_path):
    ref = make_tiny_nyu(tmp_path, n_train=3, n_test=2, h=6, w=8, seed=0)
    for split in ('train', 'val'):
        ds = _dataset(tmp_path, split=split, test_mode=split == 'val')
        assert len(ds) == len(ref[split])
        for i, maps in enumerate(ref[split]):
            item = ds[i]
            inputs, s = item['inputs'], item['data_samples']
            assert inputs.shape == (3, 6, 8) and inputs.dtype == torch.float32
            assert torch.equal(inputs, torch.from_numpy(
                maps['image'].transpose(2, 0, 1).copy()))
            for task in TASKS:
                gt = s.gt(task)
                assert gt.shape == (3 if task == 'normal' else 1, 6, 8)
                assert gt.dtype == (torch.int64 if task == 'sem_seg' else
                                    torch.float32)
                assert torch.equal(gt, _expected(maps, task)), task
            assert s.metainfo['img_path'] == osp.join(
                str(tmp_path), split, 'image', f'{i}.npy')
            assert s.metainfo['img_id'] == str(i)
            assert s.metainfo['ori_shape'] == (6, 8)
            assert s.metainfo['img_shape'] == (6, 8)
            assert s.metainfo['label_flags'] == dict.fromkeys(TASKS, True)
            assert s.labelled_tasks() == list(TASKS)


def test_index_file_carves_train(tmp_path):
    ref = make_tiny_nyu(tmp_path, n_train=4, n_test=1, seed=1)
    train = _dataset(tmp_path, index_file='splits/train.txt')
    val = _dataset(tmp_path, index_file='splits/val.txt', test_mode=True)
    assert [d['img_id'] for d in (train[i]['data_samples'].metainfo
                                  for i in range(len(train)))] == ['0', '1',
                                                                   '2']
    assert len(val) == 1
    item = val[0]
    assert item['data_samples'].metainfo['img_id'] == '3'
    assert torch.equal(item['data_samples'].gt('depth'),
                       _expected(ref['train'][3], 'depth'))


def test_onelabel_regime_loads_only_labelled_gt(tmp_path):
    ref = make_tiny_nyu(tmp_path, n_train=6, n_test=1, seed=2)
    ds = _dataset(tmp_path, label_regime=dict(type='onelabel', seed=0))
    counts = dict.fromkeys(TASKS, 0)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        flags = info['label_flags']
        labelled = [t for t in TASKS if flags[t]]
        assert len(labelled) == 1
        counts[labelled[0]] += 1
        # Paths of unlabelled tasks are absent, so their files are not read.
        assert set(info['gt_paths']) == set(labelled)
        s = ds[i]['data_samples']
        idx = int(s.metainfo['img_id'])
        for task in TASKS:
            if task in labelled:
                assert torch.equal(s.gt(task), _expected(ref['train'][idx],
                                                         task))
            else:
                assert f'gt_{task}' not in s and s.gt(task) is None
                assert not s.is_labelled(task)
    assert counts == dict.fromkeys(TASKS, 2)


def test_unlabelled_files_are_never_read(tmp_path):
    make_tiny_nyu(tmp_path, n_train=3, n_test=1, seed=3)
    ds = _dataset(tmp_path, label_regime=dict(type='onelabel', seed=0))
    # Remove every file the regime does not use: loading must still work.
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        for task in TASKS:
            if not info['label_flags'][task]:
                os.remove(osp.join(str(tmp_path), 'train', FOLDER[task],
                                   f'{info["img_id"]}.npy'))
    for i in range(len(ds)):
        ds[i]


def test_test_mode_with_label_regime_raises(tmp_path):
    make_tiny_nyu(tmp_path, n_train=2, n_test=2)
    with pytest.raises(ValueError, match='label_regime'):
        _dataset(tmp_path, split='val', test_mode=True,
                 label_regime=dict(type='onelabel', seed=0))


def test_missing_root_split_and_index_file(tmp_path):
    missing = tmp_path / 'nowhere'
    with pytest.raises(FileNotFoundError, match=str(missing)):
        _dataset(missing)
    make_tiny_nyu(tmp_path, n_train=2, n_test=1)
    with pytest.raises(FileNotFoundError,
                       match=osp.join(str(tmp_path), 'test', 'image')):
        _dataset(tmp_path, split='test')
    with pytest.raises(FileNotFoundError,
                       match=osp.join(str(tmp_path), 'splits', 'no.txt')):
        _dataset(tmp_path, index_file='splits/no.txt')


def test_index_file_errors(tmp_path):
    make_tiny_nyu(tmp_path, n_train=2, n_test=1)
    (tmp_path / 'splits' / 'bad.txt').write_text('0\nzero\n')
    with pytest.raises(ValueError, match=r'bad.txt:2'):
        _dataset(tmp_path, index_file='splits/bad.txt')
    (tmp_path / 'splits' / 'dup.txt').write_text('0\n0\n')
    with pytest.raises(ValueError, match='duplicate'):
        _dataset(tmp_path, index_file='splits/dup.txt')
    (tmp_path / 'splits' / 'far.txt').write_text('0\n5\n')
    with pytest.raises(FileNotFoundError, match=osp.join('image', '5.npy')):
        _dataset(tmp_path, index_file='splits/far.txt')


def test_missing_label_file_named(tmp_path):
    make_tiny_nyu(tmp_path, n_train=2, n_test=1)
    path = osp.join(str(tmp_path), 'train', 'label', '1.npy')
    os.remove(path)
    ds = _dataset(tmp_path)
    ds[0]
    with pytest.raises(FileNotFoundError, match=path):
        ds[1]


def test_corrupt_npy_named(tmp_path):
    make_tiny_nyu(tmp_path, n_train=2, n_test=1)
    path = osp.join(str(tmp_path), 'train', 'depth', '0.npy')
    with open(path, 'wb') as f:
        f.write(b'\x00garbage, not an npy file\xff' * 3)
    with pytest.raises(ValueError, match=f'corrupt.*{path}'):
        _dataset(tmp_path)[0]
    # A truncated file (valid header, missing data) too.
    arr = np.zeros((6, 8, 3), np.float32)
    path = osp.join(str(tmp_path), 'train', 'normal', '1.npy')
    np.save(path, arr)
    with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) - 50)
    with pytest.raises(ValueError, match=path):
        _dataset(tmp_path)[1]


@pytest.mark.parametrize('folder,arr,match', [
    ('depth', np.ones((6, 8, 2), np.float32), r'HxWx1 or HxW'),
    ('normal', np.ones((6, 8), np.float32), r'HxWx3'),
    ('label', np.zeros((5, 8), np.float32), r'differs from its image'),
    ('image', np.zeros((6, 8), np.float32), r'HxWx3'),
])
def test_wrong_shape_named(tmp_path, folder, arr, match):
    make_tiny_nyu(tmp_path, n_train=1, n_test=1)
    path = osp.join(str(tmp_path), 'train', folder, '0.npy')
    np.save(path, arr)
    with pytest.raises(ValueError, match=match) as e:
        _dataset(tmp_path)[0]
    assert path in str(e.value)


@pytest.mark.parametrize('value', [13, -2, 2.5])
def test_bad_labels_named(tmp_path, value):
    ref = make_tiny_nyu(tmp_path, n_train=1, n_test=1)
    label = ref['train'][0]['label'].copy()
    label[2, 3] = value
    path = osp.join(str(tmp_path), 'train', 'label', '0.npy')
    np.save(path, label)
    with pytest.raises(ValueError, match=path):
        _dataset(tmp_path)[0]


def test_nan_depth_counted_and_invalid_or_strict_error(tmp_path):
    ref = make_tiny_nyu(tmp_path, n_train=1, n_test=1)
    depth = ref['train'][0]['depth'].copy()
    depth[1, 2, 0] = np.nan
    depth[4, 5, 0] = np.inf
    path = osp.join(str(tmp_path), 'train', 'depth', '0.npy')
    np.save(path, depth)
    info = _dataset(tmp_path, pipeline=[]).get_data_info(0)
    results = LoadMultiTaskNpy()(dict(info))
    assert results['num_nonfinite'] == dict(sem_seg=0, depth=2, normal=0)
    loaded = results['gt_maps']['depth']
    assert loaded[1, 2, 0] == 0.0 and loaded[4, 5, 0] == 0.0
    expected = depth.copy()
    expected[1, 2, 0] = expected[4, 5, 0] = 0.0
    np.testing.assert_array_equal(loaded, expected)
    # Through the whole pipeline, the packed GT is finite.
    assert torch.isfinite(_dataset(tmp_path)[0]['data_samples']
                          .gt('depth')).all()
    with pytest.raises(ValueError, match=f'{path}: 2 pixels are NaN/Inf'):
        LoadMultiTaskNpy(strict=True)(dict(info))


def test_unknown_task_rejected(tmp_path):
    make_tiny_nyu(tmp_path, n_train=1, n_test=1)
    with pytest.raises(ValueError, match='human_parts'):
        _dataset(tmp_path, tasks=('sem_seg', 'human_parts'))


def test_nan_image_named(tmp_path):
    ref = make_tiny_nyu(tmp_path, n_train=1, n_test=1)
    image = ref['train'][0]['image'].copy()
    image[0, 0, 1] = np.nan
    path = osp.join(str(tmp_path), 'train', 'image', '0.npy')
    np.save(path, image)
    with pytest.raises(ValueError, match=f'{path}: image contains NaN'):
        _dataset(tmp_path)[0]


def test_extra_maps_packed(tmp_path):
    make_tiny_nyu(tmp_path, n_train=2, n_test=1, h=6, w=8)
    os.makedirs(osp.join(str(tmp_path), 'train', 'instance'))
    ids = [np.arange(48).reshape(6, 8) % (i + 3) for i in range(2)]
    for i, arr in enumerate(ids):
        np.save(osp.join(str(tmp_path), 'train', 'instance', f'{i}.npy'),
                arr.astype(np.int32))
    ds = _dataset(tmp_path, extra_maps=dict(region_ids='instance'))
    for i in range(2):
        region_ids = ds[i]['data_samples'].region_ids.data
        assert region_ids.shape == (1, 6, 8)
        assert region_ids.dtype == torch.int64
        assert torch.equal(region_ids[0], torch.from_numpy(ids[i]))
