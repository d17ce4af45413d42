"""Transforms: golden values by hand on tiny maps, and the invariants that
every geometric transform must keep (dtypes, invalid values, alignment)."""
import copy

import numpy as np
import pytest
import torch

from mtpsl.datasets.transforms import (PackTwoViewInputs,
                                       PhotoMetricDistortion, RandomFlip,
                                       RandomScaleCrop, Resize,
                                       TwoViewTransform, map_pixels,
                                       relate_views, view_params)
from mtpsl.registry import TRANSFORMS


def make_results(h=12, w=16, seed=0, tasks=('sem_seg', 'depth', 'normal')):
    """A loaded sample with the conventions of LoadMultiTaskNpy."""
    rng = np.random.RandomState(seed)
    labels = rng.randint(-1, 13, (h, w, 1)).astype(np.int64)
    depth = rng.uniform(0.5, 10, (h, w, 1)).astype(np.float32)
    depth[0, :3] = 0.0
    normal = rng.randn(h, w, 3).astype(np.float32)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    normal[h // 2:, :w // 3] = 0.0
    maps = dict(sem_seg=labels, depth=depth, normal=normal)
    return dict(img=rng.rand(h, w, 3).astype(np.float32),
                gt_maps={t: maps[t] for t in tasks},
                # region id = label + 1: no region (0) exactly where ignored
                region_ids=labels[..., 0] + 1,
                img_shape=(h, w), ori_shape=(h, w))


def check_invariants(res):
    """dtypes, value sets, invalid values and label/region alignment."""
    gt = res['gt_maps']
    assert res['img'].dtype == np.float32
    assert res['img'].shape[:2] == tuple(res['img_shape'])
    assert gt['sem_seg'].dtype == np.int64
    assert set(np.unique(gt['sem_seg'])) <= set(range(-1, 13))
    assert res['region_ids'].dtype == np.int64
    np.testing.assert_array_equal(res['region_ids'], gt['sem_seg'][..., 0] + 1)
    assert gt['depth'].dtype == np.float32 and (gt['depth'] >= 0).all()
    n = gt['normal']
    assert n.dtype == np.float32
    valid = np.any(n != 0, axis=-1)
    np.testing.assert_allclose(np.linalg.norm(n[valid], axis=-1), 1,
                               atol=1e-5)
    assert (n[~valid] == 0).all() and not np.signbit(n[~valid]).any()


# ---------------------------------------------------------------- RandomFlip
def test_flip_normal_golden():
    normal = np.array([[[1, 0, 0], [0, 1, 0], [0, 0, 1]],
                       [[.6, .8, 0], [0, .6, .8], [0, 0, 0]]], np.float32)
    res = RandomFlip(prob=1.0).transform(dict(
        img=np.zeros((2, 3, 3), np.float32), gt_maps=dict(normal=normal),
        img_shape=(2, 3)))
    expected = np.array([[[0, 0, 1], [0, 1, 0], [-1, 0, 0]],
                         [[0, 0, 0], [0, .6, .8], [-.6, .8, 0]]], np.float32)
    np.testing.assert_array_equal(res['gt_maps']['normal'], expected)
    assert not np.signbit(res['gt_maps']['normal'][1, 0]).any()
    assert res['flip'] is True and res['flip_direction'] == 'horizontal'


def test_flip_moves_every_map_and_twice_is_identity():
    res = make_results()
    orig = copy.deepcopy(res)
    RandomFlip.apply(res)
    check_invariants(res)
    np.testing.assert_array_equal(res['region_ids'],
                                  orig['region_ids'][:, ::-1])
    np.testing.assert_array_equal(res['gt_maps']['depth'],
                                  orig['gt_maps']['depth'][:, ::-1])
    RandomFlip.apply(res)
    for t in orig['gt_maps']:
        np.testing.assert_array_equal(res['gt_maps'][t], orig['gt_maps'][t])
    np.testing.assert_array_equal(res['homography_matrix'], np.eye(3))
    assert res['flip'] is False


def test_flip_prob_zero_keeps_sample():
    res = RandomFlip(prob=0.0)(make_results())
    np.testing.assert_array_equal(res['img'], make_results()['img'])
    assert res['flip'] is False and 'homography_matrix' not in res


# ----------------------------------------------------------- RandomScaleCrop
def test_scale_crop_depth_golden():
    i, j = np.mgrid[0:4, 0:6]
    depth = (1.0 + j + 10 * i).astype(np.float32)[..., None]
    depth[1, 2] = 0.0  # invalid stays invalid
    res = dict(img=np.zeros((4, 6, 3), np.float32),
               gt_maps=dict(depth=depth), img_shape=(4, 6))
    # s = 1.5: window int(4/1.5) x int(6/1.5) = 2 x 4 at (top 1, left 1),
    # rows 1-2, cols 1-4; nearest half-pixel source cols 0,1,1,2,3,3 and
    # rows 0,0,1,1 of the window.
    RandomScaleCrop().apply(res, scale=1.5, top=1, left=1)
    row1 = np.array([12, 0, 0, 14, 15, 15]) / 1.5
    row2 = np.array([22, 23, 23, 24, 25, 25]) / 1.5
    expected = np.stack([row1, row1, row2, row2]).astype(np.float32)
    np.testing.assert_allclose(res['gt_maps']['depth'][..., 0], expected,
                               rtol=1e-6)
    assert res['gt_maps']['depth'][0, 1, 0] == 0.0
    np.testing.assert_array_equal(res['crop_box'], [1, 1, 5, 3])
    assert res['zoom_scale'] == 1.5 and res['scale_factor'] == (1.5, 2.0)
    assert res['img_shape'] == (4, 6)


def test_scale_crop_sizes_exact_at_nyu_resolution():
    for s, hw in ((1.0, (288, 384)), (1.2, (240, 320)), (1.5, (192, 256))):
        assert RandomScaleCrop.crop_size((288, 384), s) == hw


def test_scale_crop_keeps_invariants_and_is_seeded():
    outs = []
    for _ in range(2):
        np.random.seed(3)
        t = RandomScaleCrop(scales=(1.2, 1.5))
        outs.append([t(make_results(seed=k)) for k in range(5)])
    for a, b in zip(*outs):
        check_invariants(a)
        np.testing.assert_array_equal(a['crop_box'], b['crop_box'])
        np.testing.assert_array_equal(a['gt_maps']['normal'],
                                      b['gt_maps']['normal'])
    # depth is divided by the zoom: times the zoom, every value is a source one
    a = outs[0][0]
    src = np.unique(make_results(seed=0)['gt_maps']['depth'])
    vals = np.unique(a['gt_maps']['depth'] * a['zoom_scale'])
    assert np.abs(vals[:, None] - src[None]).min(axis=1).max() < 1e-5


def test_scale_crop_prob_zero_and_bad_offset():
    res = RandomScaleCrop(prob=0.0)(make_results())
    np.testing.assert_array_equal(res['gt_maps']['depth'],
                                  make_results()['gt_maps']['depth'])
    assert res['zoom_scale'] == 1.0
    with pytest.raises(ValueError, match='does not fit'):
        RandomScaleCrop().apply(make_results(), 1.5, top=5, left=0)
    tiny = dict(img=np.ones((1, 1, 3), np.float32), gt_maps={},
                img_shape=(1, 1))
    assert RandomScaleCrop(scales=(1.5,))(tiny)['img'].shape == (1, 1, 3)


# -------------------------------------------------------------------- Resize
def test_resize_normals_unit_and_invalid_zero():
    res = Resize(size=(17, 23))(make_results())
    check_invariants(res)
    assert res['img_shape'] == (17, 23)
    assert res['gt_maps']['sem_seg'].shape == (17, 23, 1)
    assert res['scale_factor'] == (23 / 16, 17 / 12)
    # the invalid block (rows >= 6, cols < 5) is invalid after resizing
    assert (res['gt_maps']['normal'][14:, :5] == 0).all()


def test_resize_does_not_divide_depth():
    src = make_results()['gt_maps']['depth']
    res = Resize(size=(24, 32))(make_results())
    assert set(np.unique(res['gt_maps']['depth'])) == set(np.unique(src))


# ------------------------------------------------------------- photometric
def test_photometric_changes_img_only():
    np.random.seed(0)
    res = make_results()
    gt_before = copy.deepcopy(res['gt_maps'])
    img_before = res['img'].copy()
    t = PhotoMetricDistortion()
    changed = False
    for _ in range(5):
        res = t(res)
        changed |= not np.array_equal(res['img'], img_before)
        assert res['img'].dtype == np.float32
        assert res['img'].min() >= 0 and res['img'].max() <= 1
    assert changed
    for task, gt in gt_before.items():
        np.testing.assert_array_equal(res['gt_maps'][task], gt)
    np.testing.assert_array_equal(res['region_ids'],
                                  gt_before['sem_seg'][..., 0] + 1)


# ---------------------------------------------------------------- two views
def unique_id_sample(h=12, w=18):
    res = make_results(h, w)
    res['region_ids'] = np.arange(h * w, dtype=np.int64).reshape(h, w)
    return res


def test_map_pixels_golden_flip():
    p1 = dict(homography_matrix=np.array([[-1., 0, 6], [0, 1, 0],
                                          [0, 0, 1]]), img_shape=(4, 6))
    p2 = dict(homography_matrix=np.eye(3), img_shape=(4, 6))
    r2, c2, inside = map_pixels(p1, p2, np.array([0, 3]), np.array([0, 4]))
    assert r2.tolist() == [0, 3] and c2.tolist() == [5, 1] and inside.all()
    np.testing.assert_allclose(relate_views(p1, p2), p1['homography_matrix'])


def test_map_pixels_exact_between_zoom_and_flip():
    base = unique_id_sample()
    v1, v2 = copy.deepcopy(base), copy.deepcopy(base)
    RandomScaleCrop().apply(v1, 1.5, top=2, left=3)
    RandomFlip.apply(v1)
    RandomFlip.apply(v2)  # view 2 sees the whole image: every pixel maps
    rows, cols = np.mgrid[0:12, 0:18]
    r2, c2, inside = map_pixels(view_params(v1), view_params(v2), rows, cols)
    assert inside.all()
    np.testing.assert_array_equal(v2['region_ids'][r2, c2], v1['region_ids'])
    # depth2 = depth1 * zoom_scale1 / zoom_scale2 at corresponding pixels
    np.testing.assert_allclose(v2['gt_maps']['depth'][r2, c2],
                               v1['gt_maps']['depth'] * 1.5, rtol=1e-6)


def test_two_view_relation_maps_pixels():
    np.random.seed(1)
    t = TwoViewTransform(view_pipeline=[dict(type='RandomScaleCrop'),
                                        dict(type='RandomFlip'),
                                        dict(type='PhotoMetricDistortion')])
    res = t(unique_id_sample())
    v2 = res['view2']
    p1, p2 = res['view_params']
    assert not np.array_equal(res['region_ids'], v2['region_ids'])
    assert p1['zoom_scale'] != p2['zoom_scale'] or p1['flip'] != p2['flip'] \
        or not np.array_equal(p1['crop_box'], p2['crop_box'])
    rows, cols = np.mgrid[0:12, 0:18]
    # each view pixel shows the original pixel under its centre, exactly
    for ids, p in ((res['region_ids'], p1), (v2['region_ids'], p2)):
        orig = dict(homography_matrix=np.eye(3), img_shape=(12, 18))
        r0, c0, _ = map_pixels(p, orig, rows, cols)
        np.testing.assert_array_equal(ids, r0 * 18 + c0)
    # view 1 -> view 2: same original pixel up to one pixel of resampling
    r2, c2, inside = map_pixels(p1, p2, rows, cols)
    assert inside.sum() > 20
    id1 = res['region_ids'][inside]
    id2 = v2['region_ids'][r2[inside], c2[inside]]
    assert np.abs(id1 // 18 - id2 // 18).max() <= 1
    assert np.abs(id1 % 18 - id2 % 18).max() <= 1
    assert v2['gt_maps']['depth'].dtype == np.float32


def test_nested_views_view2_is_a_crop_of_view1():
    # XTC's release: view 2 is a zoom-crop OF view 1 (depth / (s1 * s2))
    base = unique_id_sample(12, 18)
    depth0 = base['gt_maps']['depth'][..., 0].copy()
    np.random.seed(3)
    t = TwoViewTransform(view_pipeline=[dict(type='RandomScaleCrop',
                                             scales=(1.5,))],
                         nested=True)
    res = t(base)
    p1, p2 = res['view_params']
    assert p1['zoom_scale'] == 1.5 and p2['zoom_scale'] == 1.5 * 1.5
    # every view-2 pixel shows an original pixel that view 1 shows, within
    # one pixel (two nearest resamplings) of where the composed map says
    rows, cols = np.mgrid[0:12, 0:18]
    orig = dict(homography_matrix=np.eye(3), img_shape=(12, 18))
    ids2 = res['view2']['region_ids']
    r0, c0, _ = map_pixels(p2, orig, rows, cols)
    assert np.abs(ids2 // 18 - r0).max() <= 1
    assert np.abs(ids2 % 18 - c0).max() <= 1
    assert set(ids2.ravel()) <= set(res['region_ids'].ravel())
    # depth of view 2 is the depth of the original pixel it shows / (s1 s2)
    d2 = res['view2']['gt_maps']['depth'][..., 0]
    np.testing.assert_allclose(d2, depth0[ids2 // 18, ids2 % 18] / 2.25,
                               rtol=1e-6)


def test_nested_views_with_an_identity_view1():
    base = unique_id_sample(12, 18)
    np.random.seed(4)
    t = TwoViewTransform(view_pipeline=[], nested=True, view2_pipeline=[
        dict(type='RandomScaleCrop', scales=(1.2,))])
    res = t(copy.deepcopy(base))
    np.testing.assert_array_equal(res['region_ids'], base['region_ids'])
    assert res['view_params'][0]['zoom_scale'] == 1.0
    assert res['view_params'][1]['zoom_scale'] == 1.2
    assert 'nested=True' in repr(t)


def test_two_view_pack_and_unlabelled_task_absent():
    np.random.seed(2)
    pipeline = [TRANSFORMS.build(dict(
        type='TwoViewTransform', view_pipeline=[
            dict(type='RandomScaleCrop'), dict(type='RandomFlip')])),
        TRANSFORMS.build(dict(type='PackTwoViewInputs'))]
    res = make_results(tasks=('depth',))
    res['label_flags'] = dict(sem_seg=False, depth=True, normal=False)
    for t in pipeline:
        res = t(res)
    sample = res['data_samples']
    assert res['inputs'].shape == res['inputs_view2'].shape == (3, 12, 16)
    assert sample.gt('sem_seg') is None and sample.view2.gt('sem_seg') is None
    assert sample.gt('depth').shape == sample.view2.gt('depth').shape
    assert sample.view2.region_ids.data.dtype == torch.int64
    assert len(sample.metainfo['view_params']) == 2


def test_unlabelled_task_absent_through_geometric():
    res = make_results(tasks=('depth',))
    for t in (RandomScaleCrop(), RandomFlip(prob=1.0), Resize(size=(6, 8)),
              PhotoMetricDistortion()):
        res = t(res)
    assert set(res['gt_maps']) == {'depth'}


def test_pack_two_view_needs_view2():
    with pytest.raises(KeyError, match='TwoViewTransform'):
        PackTwoViewInputs()(make_results())


# ------------------------------------------------------- arguments and repr
@pytest.mark.parametrize('build, match', [
    (lambda: RandomScaleCrop(scales=(0.5, 1.0)), 'scales'),
    (lambda: RandomScaleCrop(scales=()), 'scales'),
    (lambda: RandomScaleCrop(prob=1.5), 'prob'),
    (lambda: RandomFlip(prob=-0.1), 'prob'),
    (lambda: Resize(size=(0, 4)), 'size'),
    (lambda: Resize(size=(4,)), 'size'),
    (lambda: PhotoMetricDistortion(contrast_range=(1.5, 0.5)),
     'contrast_range'),
    (lambda: PhotoMetricDistortion(brightness_delta=32), 'brightness_delta'),
    (lambda: PhotoMetricDistortion(hue_delta=200), 'hue_delta'),
    (lambda: TwoViewTransform(view_pipeline=[]), 'view_pipeline'),
])
def test_bad_arguments(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_repr_names_arguments():
    assert 'scales=(1.0, 1.2, 1.5)' in repr(RandomScaleCrop())
    assert 'size=(4, 5)' in repr(Resize(size=(4, 5)))
    assert 'prob=0.5' in repr(RandomFlip())
    assert 'hue_delta=18.0' in repr(PhotoMetricDistortion())
    r = repr(TwoViewTransform(view_pipeline=[dict(type='RandomFlip')]))
    assert 'RandomFlip(prob=0.5' in r
