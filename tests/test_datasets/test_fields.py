"""The per-pixel field table: declared fields move with the image by their
kind, at any stride, through transforms, packing, padding and the bundle."""
import numpy as np
import pytest
import torch

from mtpsl.datasets.transforms import (DeclareFields, InverseDepth,
                                       PackMultiTaskInputs, RandomFlip,
                                       RandomScaleCrop, Resize,
                                       TwoViewTransform)
from mtpsl.datasets.transforms.geometric import warp_maps
from mtpsl.models.data_preprocessor import MultiTaskDataPreprocessor
from mtpsl.models.multitask_model import batch_fields
from mtpsl.structures import (FIELDS, field_spec, present_fields,
                              register_field)

STRIDE = 8
register_field('test_feat_xy', 'feature', channels=2, stride=STRIDE)


def _ramp_results(h=48, w=64):
    """Image channels 0/1 = x/y of each pixel centre; a stride-8 feature
    holding the x/y of each cell centre: the same function at two grids."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    img = np.stack([xs, ys, np.zeros_like(xs)], axis=-1)
    cy, cx = (np.mgrid[0:h // STRIDE, 0:w // STRIDE].astype(np.float32)
              + 0.5) * STRIDE
    return dict(img=img, img_shape=(h, w), ori_shape=(h, w), gt_maps={},
                test_feat_xy=np.stack([cx, cy], axis=-1))


def _pool(img):
    h, w = img.shape[:2]
    return img.reshape(h // STRIDE, STRIDE, w // STRIDE, STRIDE,
                       -1).mean(axis=(1, 3))


def _interior(a):
    return a[1:-1, 1:-1]


def _check_consistent(res):
    feat = res['test_feat_xy']
    h, w = res['img'].shape[:2]
    assert feat.shape == (h // STRIDE, w // STRIDE, 2)
    assert feat.dtype == np.float32
    # the image pooled over each cell agrees with the warped feature
    pooled = _pool(res['img'])[..., :2]
    np.testing.assert_allclose(_interior(feat), _interior(pooled),
                               atol=1e-3)
    # and both show the original point under each cell's centre
    cy, cx = (np.mgrid[0:h // STRIDE, 0:w // STRIDE] + 0.5) * STRIDE
    pts = np.stack([cx.ravel(), cy.ravel(), np.ones(cx.size)])
    orig = np.linalg.inv(res['homography_matrix']) @ pts
    orig = (orig[:2] / orig[2]).T.reshape(cx.shape + (2,))
    np.testing.assert_allclose(_interior(feat), _interior(orig), atol=1e-3)


def test_stride8_feature_crop_flip_resize():
    res = _ramp_results()
    RandomScaleCrop(scales=(1.5,)).apply(res, 1.5, top=5, left=11)
    _check_consistent(res)
    RandomFlip.apply(res)
    _check_consistent(res)
    Resize((96, 128)).transform(res)
    _check_consistent(res)


def test_stride8_feature_in_two_views():
    np.random.seed(3)
    t = TwoViewTransform(view_pipeline=[
        dict(type='RandomScaleCrop', scales=(1.2, 1.5)),
        dict(type='RandomFlip', prob=0.5)])
    res = t(_ramp_results())
    _check_consistent(res)
    view2 = dict(res['view2'])
    assert 'test_feat_xy' in view2
    _check_consistent(view2)


def test_flip_feature_width_not_a_multiple_of_the_stride():
    """Width 20 at stride 8: cells at x centres 4, 12, 20 (the last one
    half outside); mirrored centres 16, 8, 0 read the ramp 16, 8, 4."""
    register_field('test_feat_x20', 'feature', channels=1, stride=8)
    feat = np.array([[4.0, 12.0, 20.0]], np.float32)
    res = dict(img=np.zeros((8, 20, 3), np.float32), gt_maps={},
               test_feat_x20=feat)
    RandomFlip.apply(res)
    # bilinear between cell centres 4, 12, 20; clamped below 4
    np.testing.assert_allclose(res['test_feat_x20'], [[16.0, 8.0, 4.0]])


def test_declared_kinds_divide_negate_and_keep_dtype():
    DeclareFields(dict(test_pdepth='depth', test_pnormal=dict(
        kind='normal', channels=3), test_conf='confidence'))
    rng = np.random.RandomState(0)
    depth = rng.uniform(1, 5, (12, 16, 1)).astype(np.float32)
    normal = rng.randn(12, 16, 3).astype(np.float32)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    conf = rng.rand(12, 16).astype(np.float32)
    res = dict(img=np.zeros((12, 16, 3), np.float32),
               gt_maps=dict(depth=depth.copy(), normal=normal.copy()),
               test_pdepth=depth.copy(), test_pnormal=normal.copy(),
               test_conf=conf.copy())
    RandomScaleCrop(scales=(1.5,)).apply(res, 1.5, 2, 3)
    RandomFlip.apply(res)
    np.testing.assert_array_equal(res['test_pdepth'], res['gt_maps']['depth'])
    np.testing.assert_array_equal(res['test_pnormal'],
                                  res['gt_maps']['normal'])
    # confidence: nearest, never divided or negated
    assert set(np.unique(res['test_conf'])) <= set(np.unique(conf))
    assert res['test_conf'].dtype == np.float32
    InverseDepth()(res)
    np.testing.assert_array_equal(res['test_pdepth'], res['gt_maps']['depth'])


def test_packer_preprocessor_and_bundle_by_kind():
    register_field('test_feat3', 'feature', channels=3, stride=8)
    res = dict(img=np.zeros((40, 40, 3), np.float32), gt_maps={},
               label_flags={}, img_shape=(40, 40),
               test_feat3=np.ones((5, 5, 3), np.float32),
               region_ids=np.full((40, 40), 7, np.int64))
    packed = PackMultiTaskInputs()(res)
    sample = packed['data_samples']
    assert sample.test_feat3.data.shape == (3, 5, 5)
    assert sample.region_ids.data.shape == (1, 40, 40)
    pre = MultiTaskDataPreprocessor(size_divisor=32)
    out = pre(dict(inputs=[packed['inputs']], data_samples=[sample]),
              training=True)
    s = out['data_samples'][0]
    assert s.test_feat3.data.shape == (3, 8, 8)        # ceil(64 / 8)
    assert float(s.test_feat3.data[:, 5:].abs().sum()) == 0.0
    assert s.region_ids.data.shape == (1, 64, 64)
    assert int(s.region_ids.data[0, 40:].max()) == 0    # no region
    fields = batch_fields(out['data_samples'], torch.device('cpu'))
    assert fields['test_feat3'].shape == (1, 3, 8, 8)
    assert fields['region_ids'].dtype == torch.int64


def test_table_errors():
    with pytest.raises(KeyError, match="unknown kind 'bogus'"):
        register_field('test_x', 'bogus')
    with pytest.raises(ValueError, match='already declared'):
        register_field('region_ids', 'feature')
    with pytest.raises(KeyError, match="unknown per-pixel field 'nope'"):
        field_spec('nope')
    with pytest.raises(ValueError, match='3 channels'):
        register_field('test_n2', 'normal', channels=2)
    res = dict(img=np.zeros((16, 16, 3), np.float32), gt_maps={},
               test_feat_xy=np.zeros((3, 2, 2), np.float32))
    with pytest.raises(ValueError, match="field 'test_feat_xy': size"):
        warp_maps(res, (0, 0, 8, 8), (16, 16))
    assert present_fields(['img', 'region_ids']) == ['region_ids']
    assert 'region_ids' in FIELDS
