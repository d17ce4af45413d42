"""Region sources and LoadRegionMap: counts, the oracle, files, alignment."""
import os.path as osp

import numpy as np
import pytest
import torch

from mtpsl.datasets.procedural import load_sample
from mtpsl.regions import (PatchRegions, SamRegions, compute_superpixels,
                           num_regions, write_region_map)
from mtpsl.registry import TRANSFORMS


def _results(img, img_path='/x/train/image/0.npy', img_id='0'):
    return dict(img=img, img_path=img_path, img_id=img_id)


def test_patches_by_grid_and_by_size():
    img = np.zeros((30, 40, 3), np.float32)
    ids, _ = PatchRegions(grid=(3, 4))(_results(img))
    assert num_regions(ids) == 12
    assert ids[0, 0] == 1 and ids[-1, -1] == 12 and ids[10, 10] == 6
    ids, _ = PatchRegions(patch_size=(16, 16))(_results(img))
    assert num_regions(ids) == 2 * 3  # 30/16 -> 2 rows, 40/16 -> 3 cols
    assert set(np.bincount(ids.ravel())[1:]) == {16 * 16, 16 * 8, 14 * 16,
                                                 14 * 8}
    with pytest.raises(ValueError, match='exactly one'):
        PatchRegions()
    with pytest.raises(ValueError, match='does not fit'):
        PatchRegions(grid=(31, 1))(_results(img))


def _blocks(rows, cols, size=16):
    """An image of rows x cols flat blocks, each of its own colour."""
    rng = np.random.default_rng(0)
    colours = rng.permutation(np.linspace(0.05, 0.95, rows * cols * 3)
                              ).reshape(rows * cols, 3)
    img = np.zeros((rows * size, cols * size, 3), np.float32)
    for k, c in enumerate(colours):
        r, q = divmod(k, cols)
        img[r * size:(r + 1) * size, q * size:(q + 1) * size] = c
    return img


def test_superpixels_count_regions_of_flat_blocks():
    pytest.importorskip('skimage')
    img = _blocks(2, 2)
    ids = compute_superpixels(img, 'felzenszwalb', scale=1, sigma=0,
                              min_size=5)
    assert num_regions(ids) == 4
    assert ids[0, 0] == 1 and ids.max() == 4
    ids = compute_superpixels(_blocks(4, 4), 'slic', n_segments=16,
                              compactness=1, sigma=0)
    assert num_regions(ids) == 16


def test_superpixel_cache_round_trip_and_refusal(tmp_path):
    pytest.importorskip('skimage')
    t = TRANSFORMS.build(dict(type='LoadRegionMap', source=dict(
        type='superpixels', method='slic', n_segments=4,
        cache_dir=str(tmp_path))))
    out = t(_results(_blocks(2, 2)))
    assert osp.isfile(tmp_path / '0.npy') and out['region_ids'].max() >= 1
    again = t(_results(np.zeros((32, 32, 3), np.float32)))  # read, not made
    np.testing.assert_array_equal(again['region_ids'], out['region_ids'])
    other = TRANSFORMS.build(dict(type='LoadRegionMap', source=dict(
        type='superpixels', method='slic', n_segments=9,
        cache_dir=str(tmp_path))))
    with pytest.raises(ValueError, match='cache made with'):
        other(_results(_blocks(2, 2)))


def test_oracle_equals_generator_instance_ids(tiny_procedural_root):
    t = TRANSFORMS.build(dict(type='LoadRegionMap', source=dict(type='oracle')))
    for i in (0, 3):
        path = osp.join(tiny_procedural_root, 'train', 'image', f'{i}.npy')
        sample = load_sample(tiny_procedural_root, 'train', i)
        out = t(_results(sample['image'], path, str(i)))
        np.testing.assert_array_equal(out['region_ids'], sample['instance'])
        assert out['region_ids'].dtype == np.int64


def test_sam_maps_npy_and_png_and_errors(tmp_path):
    ids = np.array([[0, 1, 1], [2, 2, 65535]])
    write_region_map(str(tmp_path / 'a.npy'), ids)
    write_region_map(str(tmp_path / 'b.png'), ids)
    img = np.zeros((2, 3, 3), np.float32)
    src = SamRegions(root=str(tmp_path))
    for name in ('a', 'b'):
        got, origin = src(_results(img, img_id=name))
        np.testing.assert_array_equal(got, ids)
        assert got.dtype == np.int64 and origin.startswith(str(tmp_path))
    with pytest.raises(FileNotFoundError, match='c.npy and .*c.png'):
        src(_results(img, img_id='c'))
    t = TRANSFORMS.build(dict(type='LoadRegionMap', source=dict(
        type='sam', root=str(tmp_path))))
    with pytest.raises(ValueError, match=r'a\.npy: region map size \(2, 3\) '
                                         r'differs from its image \(4, 3\)'):
        t(_results(np.zeros((4, 3, 3), np.float32), img_id='a'))


def test_sam_maps_beside_the_images_by_default(tmp_path):
    img_path = tmp_path / 'train' / 'image' / '5.npy'
    write_region_map(str(tmp_path / 'train' / 'sam' / '5.npy'),
                     np.ones((2, 2)))
    got, origin = SamRegions()(_results(np.zeros((2, 2, 3)), str(img_path),
                                        '5'))
    assert origin == str(tmp_path / 'train' / 'sam' / '5.npy')
    assert got.sum() == 4


def test_region_ids_stay_aligned_through_augmentation(tiny_procedural_root):
    """After crop + flip, every pixel's region id is the id of the pixel it
    came from (found through the recorded homography)."""
    pipeline = [dict(type='LoadMultiTaskNpy'),
                dict(type='LoadRegionMap', source=dict(type='oracle')),
                dict(type='RandomScaleCrop', scales=(1.5,)),
                dict(type='RandomFlip', prob=1.0)]
    transforms = [TRANSFORMS.build(p) for p in pipeline]
    path = osp.join(tiny_procedural_root, 'train', 'image', '1.npy')
    results = dict(img_path=path, img_id='1', gt_paths={})
    np.random.seed(3)
    for t in transforms:
        results = t(results)
    original = load_sample(tiny_procedural_root, 'train', 1)['instance']
    h, w = results['region_ids'].shape
    inv = np.linalg.inv(results['homography_matrix'])
    jj, ii = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    src = inv @ np.stack([jj.ravel(), ii.ravel(), np.ones(h * w)])
    cols = np.floor(src[0] + 1e-6).astype(int).reshape(h, w)
    rows = np.floor(src[1] + 1e-6).astype(int).reshape(h, w)
    np.testing.assert_array_equal(results['region_ids'],
                                  original[rows, cols])
    assert results['flip'] and results['zoom_scale'] == 1.5


def test_dataset_packs_region_ids(tiny_procedural_root):
    from mtpsl.registry import DATASETS
    ds = DATASETS.build(dict(
        type='NYUv2Dataset', data_root=tiny_procedural_root, split='train',
        tasks=('sem_seg',), pipeline=[
            dict(type='LoadMultiTaskNpy'),
            dict(type='LoadRegionMap', source=dict(type='patches',
                                                   grid=(2, 3))),
            dict(type='RandomFlip', prob=1.0),
            dict(type='PackMultiTaskInputs')]))
    ids = ds[0]['data_samples'].region_ids.data
    assert ids.shape == (1, 32, 48) and ids.dtype == torch.int64
    assert ids[0, 0, 0] == 3 and ids[0, -1, -1] == 4  # mirrored grid


def test_missing_package_is_one_line_naming_the_install(monkeypatch):
    from mtpsl.regions import deps

    def missing(module):
        top = module.split('.')[0]
        raise ModuleNotFoundError(f'No module named {top!r}', name=top)

    monkeypatch.setattr(deps.importlib, 'import_module', missing)
    with pytest.raises(deps.MissingPackageError) as err:
        compute_superpixels(np.zeros((4, 4, 3)))
    msg = str(err.value)
    assert len(msg.splitlines()) == 1
    assert "'skimage'" in msg and "pip install 'scikit-image" in msg
    from mtpsl.regions.sam import import_segment_anything
    with pytest.raises(deps.MissingPackageError,
                       match="pip install 'segment-anything==1.0'"):
        import_segment_anything()
