"""check_dataset: statistics on a hand-made tree, every planted problem."""
import importlib.util
import os
import os.path as osp
import sys

import numpy as np
import pytest

from mtpsl.datasets.checks import check_dataset

sys.path.insert(0, osp.dirname(__file__))
from _tiny_nyu import make_tiny_nyu  # noqa: E402
from _tiny_pascal import TRAIN_IDS, make_tiny_pascal  # noqa: E402

TOOL = osp.join(osp.dirname(__file__), '..', '..', 'tools',
                'check_dataset.py')


def _tool():
    spec = importlib.util.spec_from_file_location('check_dataset_tool', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _hand_made(root):
    """Two 2x3 NYU-layout images with invalid pixels counted by hand."""
    labels = [np.array([[0, 1, -1], [1, 12, -1]], np.float32),   # 2 ignore
              np.array([[5, 5, 5], [5, 5, 0]], np.float32)]      # 0 ignore
    depths = [np.array([[1, 0, 2], [3, 4, 5]], np.float32),      # 1 invalid
              np.array([[0, 0, 0], [0.5, 0.5, 9]], np.float32)]  # 3 invalid
    n = np.zeros((2, 3, 3), np.float32)
    n[..., 2] = 1
    normals = [n.copy(), n.copy()]
    normals[1][0, :2] = 0                                        # 2 invalid
    for split in ('train', 'val'):
        for i in range(2):
            for folder, arr in (('image', np.full((2, 3, 3), 0.5,
                                                  np.float32)),
                                ('label', labels[i]),
                                ('depth', depths[i][..., None]),
                                ('normal', normals[i])):
                os.makedirs(osp.join(root, split, folder), exist_ok=True)
                np.save(osp.join(root, split, folder, f'{i}.npy'), arr)


def test_statistics_by_hand(tmp_path, capsys):
    _hand_made(tmp_path)
    report = check_dataset(str(tmp_path), 'nyuv2')
    assert report.ok and not report.warnings
    assert report.num_images == 2
    assert dict(report.image_shapes) == {(2, 3, 3): 2}
    assert report.image_range == (0.5, 0.5)
    seg, depth, normal = (report.tasks[t] for t in
                          ('sem_seg', 'depth', 'normal'))
    assert seg.invalid_share == pytest.approx(2 / 12)
    assert depth.invalid_share == pytest.approx(4 / 12)
    assert normal.invalid_share == pytest.approx(2 / 12)
    expected_hist = np.zeros(13, np.int64)
    for c, k in {0: 2, 1: 2, 12: 1, 5: 5}.items():
        expected_hist[c] = k
    np.testing.assert_array_equal(seg.histogram, expected_hist)
    assert (seg.vmin, seg.vmax) == (0, 12)
    assert (depth.vmin, depth.vmax) == (0.5, 9)
    assert _tool().main([str(tmp_path), '--type', 'nyuv2']) == 0
    out = capsys.readouterr().out
    assert 'images: 2' in out and 'depth: 2 maps' in out
    assert 'invalid 33.33%' in out and 'problems: 0' in out


def test_every_planted_problem_reported(tmp_path, capsys):
    make_tiny_nyu(tmp_path, n_train=4, n_test=1, h=6, w=8)
    split = osp.join(str(tmp_path), 'train')
    depth_path = osp.join(split, 'depth', '0.npy')
    depth = np.load(depth_path)
    depth[2, 2, 0] = np.nan
    np.save(depth_path, depth)
    label_path = osp.join(split, 'label', '1.npy')
    label = np.load(label_path)
    label[0, 0] = 13
    np.save(label_path, label)
    normal_path = osp.join(split, 'normal', '2.npy')
    os.remove(normal_path)
    report = check_dataset(str(tmp_path), 'nyuv2')
    assert report.num_images == 4 and not report.ok
    by_path = {p.path: p.message for p in report.problems}
    assert set(by_path) == {depth_path, label_path, normal_path}
    assert 'NaN/Inf' in by_path[depth_path]
    assert 'label 13 outside' in by_path[label_path]
    assert 'not found' in by_path[normal_path]
    # The good maps of the bad images are still counted.
    assert report.tasks['depth'].num_maps == 4
    assert report.tasks['sem_seg'].num_maps == 3
    assert report.tasks['normal'].num_maps == 3
    assert _tool().main([str(tmp_path), '--type', 'nyuv2']) == 1
    out = capsys.readouterr().out
    for path in (depth_path, label_path, normal_path):
        assert f'PROBLEM {path}' in out
    assert check_dataset(str(tmp_path), 'nyuv2', limit=1).num_images == 1


def test_strict_turns_warnings_into_problems(tmp_path):
    _hand_made(tmp_path)
    path = osp.join(str(tmp_path), 'train', 'image', '1.npy')
    np.save(path, np.full((2, 3, 3), 1.5, np.float32))
    loose = check_dataset(str(tmp_path), 'nyuv2')
    assert loose.ok and [w.path for w in loose.warnings] == [path]
    strict = check_dataset(str(tmp_path), 'nyuv2', strict=True)
    assert not strict.ok and [p.path for p in strict.problems] == [path]


def test_pascal_context(tmp_path):
    make_tiny_pascal(tmp_path)
    report = check_dataset(str(tmp_path), 'pascal_context')
    assert report.ok, report.format()
    assert report.num_images == 3
    assert report.tasks['human_parts'].num_maps == 1  # only one has people
    assert report.tasks['saliency'].histogram.size == 2
    missing = osp.join(str(tmp_path), 'JPEGImages', f'{TRAIN_IDS[1]}.jpg')
    os.remove(missing)
    bad = osp.join(str(tmp_path), 'sal_distill', f'{TRAIN_IDS[2]}.png')
    with open(bad, 'wb') as f:
        f.write(b'junk')
    report = check_dataset(str(tmp_path), 'pascal_context')
    assert [p.path for p in report.problems] == [missing, bad]
    assert report.num_images == 3


def test_missing_root_is_one_problem(tmp_path):
    report = check_dataset(str(tmp_path / 'none'), 'cityscapes')
    assert not report.ok and 'does not exist' in report.problems[0].message
