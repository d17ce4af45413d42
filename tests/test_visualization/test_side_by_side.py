"""The side-by-side picture of the main job: one depth colour range per row,
covering the ground truth and every prediction."""
import numpy as np
import pytest

from mtpsl.visualization.side_by_side import depth_range, draw_side_by_side


def test_depth_range_covers_a_prediction_deeper_than_the_ground_truth():
    gt = np.linspace(1.0, 2.0, 101)                   # 1.00, 1.01, ..., 2.00
    pred = np.linspace(2.0, 4.0, 101)                 # all deeper
    vmin, vmax = depth_range([gt, pred], low=0.0, high=100.0)
    assert (vmin, vmax) == (1.0, 4.0)
    # percentiles of the 202 values together (numpy's linear rule, by hand:
    # the 1st percentile sits at rank 0.01 * 201 = 2.01 of the sorted values
    # 1.00, 1.01, 1.02, 1.03, ...)
    vmin, vmax = depth_range([gt, pred])
    assert vmin == pytest.approx(1.0201)
    assert vmax == pytest.approx(4.0 - 0.0402)


def test_depth_range_ignores_invalid_pixels_and_stray_values():
    gt = np.array([0.0, np.nan, 2.0, 3.0])            # 0 and NaN: no depth
    assert depth_range([gt], low=0.0, high=100.0) == (2.0, 3.0)
    many = np.full(1000, 2.0)
    many[0] = 50.0                                     # one stray pixel
    # the 99th percentile sits at rank 0.99 * 999 = 989.01, between two 2.0s;
    # a flat range gets a width of 1e-6 so that the colour map can scale
    assert depth_range([many]) == (2.0, 2.0 + 1e-6)
    assert depth_range([np.zeros(4)]) == (0.0, 1.0)


def test_picture_is_written(tmp_path):
    pytest.importorskip('matplotlib')
    rng = np.random.default_rng(0)
    gts = dict(sem_seg=rng.integers(0, 3, (8, 8)),
               depth=rng.uniform(1, 2, (8, 8)),
               normal=rng.normal(size=(8, 8, 3)))
    preds = {'a': dict(sem_seg=gts['sem_seg'], depth=gts['depth'] + 3,
                       normal=gts['normal'])}
    path = tmp_path / 'p.png'
    draw_side_by_side(str(path), rng.uniform(size=(8, 8, 3)), gts, preds,
                      ['x', 'y', 'z'], title='t')
    assert path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
