"""The bad_values policy: every bad value the issue lists is raised, warned
about (once per file, with counts) or masked, as docs/datasets.md says."""
import os.path as osp

import numpy as np
import pytest

from mtpsl.datasets import NYUv2Dataset
from mtpsl.datasets.value_checks import CheckValues, find_bad_values

H, W = 4, 5


def _sample(depth=None, normal=None, img=None, nonfinite=None):
    """One loaded sample as the loader leaves it."""
    gt = {}
    if depth is not None:
        gt['depth'] = np.asarray(depth, np.float32).reshape(H, W, 1)
    if normal is not None:
        gt['normal'] = np.asarray(normal, np.float32)
    return dict(img=np.full((H, W, 3), 0.5, np.float32) if img is None
                else img, img_path='img.npy', gt_maps=gt,
                gt_paths={t: f'{t}.npy' for t in gt},
                num_nonfinite=nonfinite or {})


def _unit_normals():
    n = np.zeros((H, W, 3), np.float32)
    n[..., 2] = 1.0
    return n


def _depth(neg=0, big=0):
    d = np.full(H * W, 2.0, np.float32)
    d[:neg] = -2.0
    d[neg:neg + big] = 2500.0
    return d


def test_clean_sample_passes_unchanged():
    s = _sample(_depth(), _unit_normals())
    ref = {k: v.copy() for k, v in s['gt_maps'].items()}
    for policy in ('error', 'warn', 'mask'):
        out = CheckValues(policy)(dict(s, gt_maps=dict(s['gt_maps'])))
        for k in ref:
            np.testing.assert_array_equal(out['gt_maps'][k], ref[k])


def test_negative_depth():
    with pytest.raises(ValueError, match=r'depth.npy: 3 negative depth'):
        CheckValues('error')(_sample(_depth(neg=3)))
    out = CheckValues('mask')(_sample(_depth(neg=3)))
    d = out['gt_maps']['depth'][..., 0].ravel()
    assert (d[:3] == 0).all() and (d[3:] == 2).all()  # 0 = invalid depth
    out = CheckValues('warn')(_sample(_depth(neg=3)))
    assert (out['gt_maps']['depth'][..., 0].ravel()[:3] == -2).all()


def test_non_unit_normals():
    n = _unit_normals()
    n[0, 0] = (0.0, 0.0, 0.5)  # length 0.5
    n[0, 1] = 0.0  # an invalid pixel stays allowed
    with pytest.raises(ValueError, match='1 normals not unit length'):
        CheckValues('error')(_sample(normal=n))
    out = CheckValues('mask')(_sample(normal=n.copy()))
    assert (out['gt_maps']['normal'][0, 0] == 0).all()
    assert (out['gt_maps']['normal'][1:, :, 2] == 1).all()


def test_image_in_0_255():
    img = np.full((H, W, 3), 200.0, np.float32)
    for policy in ('error', 'mask'):
        with pytest.raises(ValueError, match=r'20 image pixels outside '
                           r'\[0, 1\].*\[0, 255\]'):
            CheckValues(policy)(_sample(img=img))
    assert CheckValues('warn')(_sample(img=img))['img'] is img


def test_millimetres_and_nan_warn_once_per_file():
    check = CheckValues('error')
    for _ in range(3):  # three epochs: one line per file and kind
        check(_sample(_depth(big=4), nonfinite={'depth': 2}))
    text = '\n'.join(check.messages)
    assert len(check.messages) == 2
    assert text.count('4 depth values above 100 m') == 1
    assert text.count('2 depth pixels are NaN/Inf') == 1
    assert 'millimetres' in text


def test_unknown_policy_names_value():
    with pytest.raises(ValueError, match="bad_values='drop'"):
        CheckValues('drop')


def test_find_bad_values_is_what_check_dataset_reports():
    gt = _depth(neg=2).reshape(H, W, 1)
    kinds = [k for k, *_ in find_bad_values('depth', gt, np.ones((H, W),
                                                                  bool))]
    assert kinds == ['negative_depth']


def _nyu(root, depth):
    for sub in ('image', 'label', 'depth', 'normal'):
        (root / 'train' / sub).mkdir(parents=True, exist_ok=True)
    np.save(root / 'train' / 'image' / '0.npy',
            np.full((H, W, 3), 0.5, np.float32))
    np.save(root / 'train' / 'label' / '0.npy', np.zeros((H, W), np.float32))
    np.save(root / 'train' / 'depth' / '0.npy', depth.reshape(H, W, 1))
    np.save(root / 'train' / 'normal' / '0.npy', _unit_normals())


def test_dataset_applies_the_policy_after_loading(tmp_path):
    _nyu(tmp_path, _depth(neg=1))
    pipeline = [dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=13))]
    ds = NYUv2Dataset(data_root=str(tmp_path), pipeline=pipeline)
    with pytest.raises(ValueError, match=osp.join('depth', '0.npy') +
                       ': 1 negative depth'):
        ds[0]
    masked = NYUv2Dataset(data_root=str(tmp_path), pipeline=pipeline,
                          bad_values='mask')
    assert masked[0]['gt_maps']['depth'].min() == 0.0


def test_clean_files_are_checked_once_until_they_change(tmp_path,
                                                        monkeypatch):
    """A sample whose files passed is not checked again; a file rewritten
    on disk (new size / modification time) is, and its defect is raised;
    a sample with a defect is checked every time (its warning is once)."""
    import os

    import mtpsl.datasets.value_checks as vc
    paths = {}
    for name in ('img', 'depth', 'normal'):
        paths[name] = str(tmp_path / f'{name}.npy')
        np.save(paths[name], np.zeros(3))
    calls = []
    real = vc.find_bad_values
    monkeypatch.setattr(vc, 'find_bad_values',
                        lambda task, *a, **k: calls.append(task) or
                        real(task, *a, **k))

    def sample(depth):
        s = _sample(depth, _unit_normals())
        s['img_path'] = paths['img']
        s['gt_paths'] = dict(depth=paths['depth'], normal=paths['normal'])
        return s
    check = CheckValues('error')
    check(sample(_depth()))
    assert sorted(calls) == ['depth', 'normal']
    check(sample(_depth()))
    check(sample(_depth()))
    assert len(calls) == 2  # not checked again
    # the depth file rewritten (now negative): checked again, and raised
    np.save(paths['depth'], np.zeros(5))
    os.utime(paths['depth'], ns=(1, 10 ** 18))
    with pytest.raises(ValueError, match='3 negative depth'):
        check(sample(_depth(neg=3)))
    assert calls[2:] == ['depth']  # raised before the normals
    # a sample with a defect (warned) is checked on every call
    warn = CheckValues('warn')
    for _ in range(3):
        warn(sample(_depth(big=2)))
    assert len(calls) == 3 + 3 * 2 and len(warn.messages) == 1
    # a sample whose files cannot be stat-ed is checked every time
    anonymous = CheckValues('error')
    for _ in range(2):
        anonymous(_sample(_depth(), _unit_normals()))
    assert len(calls) == 9 + 2 * 2
