"""Depth log-rmse / delta thresholds and the binned normal median."""
import math

import numpy as np
import pytest
import torch

import mtpsl  # noqa: F401
from mtpsl.evaluation import DepthMetric, NormalMetric, histogram_median
from mtpsl.evaluation.metrics.normal import angle_histogram
from mtpsl.structures import MultiTaskDataSample


def _run(metric, task, pairs):
    samples = []
    for pred, gt in pairs:
        s = MultiTaskDataSample(metainfo=dict(img_path='img.npy'))
        s.set_pred(task, pred)
        s.set_gt(task, gt)
        samples.append(s.to_dict())
    metric.process(None, samples)
    return metric.compute_metrics(metric.results)


# -- depth ----------------------------------------------------------------
def test_depth_log_rmse_and_deltas_golden():
    # valid pixels (GT != 0): ratios 1.2, (pred -1: no ratio), 1, 1.5
    pred = torch.tensor([[[1.2, -1.0, 4.0, 3.0, 9.0]]])
    gt = torch.tensor([[[1.0, 2.0, 4.0, 2.0, 0.0]]])
    m = _run(DepthMetric(), 'depth', [(pred, gt)])
    # the non-positive prediction is left out of log_rmse only ...
    assert m['log_rmse'] == pytest.approx(
        math.sqrt((math.log(1.2) ** 2 + math.log(1.5) ** 2) / 3))
    # ... and never within a delta threshold; 4 valid pixels in all
    assert m['delta1'] == pytest.approx(50.0)   # 1.2, 1
    assert m['delta2'] == pytest.approx(75.0)   # + 1.5 < 1.5625
    assert m['delta3'] == pytest.approx(75.0)
    assert m['abs_err'] == pytest.approx((0.2 + 3 + 0 + 1) / 4)


def test_depth_delta_is_symmetric_and_strict():
    # p / g = 1.25 exactly is not < 1.25; g / p = 1.25 neither
    pred = torch.tensor([[[1.25, 1.0, 1.1]]], dtype=torch.float64)
    gt = torch.tensor([[[1.0, 1.25, 1.0]]], dtype=torch.float64)
    m = _run(DepthMetric(), 'depth', [(pred, gt)])
    assert m['delta1'] == pytest.approx(100 / 3)
    assert m['delta2'] == pytest.approx(100.0)


def test_depth_all_predictions_non_positive():
    m = _run(DepthMetric(), 'depth', [(-torch.ones(1, 2, 2),
                                       torch.ones(1, 2, 2))])
    assert math.isnan(m['log_rmse'])
    assert m['delta3'] == 0.0
    assert m['abs_err'] == pytest.approx(2.0)


# -- normal median ----------------------------------------------------------
def test_histogram_median_golden():
    # width 1: values in bins 0, 0, 2, 2, 2, 3 -> middle two in bin 2
    assert histogram_median(np.array([2, 0, 3, 1]), 1.0) == 2.5
    # odd count: 0, 2, 3 -> bin 2
    assert histogram_median(np.array([1, 0, 1, 1]), 1.0) == 2.5
    # even count across two bins: mean of the two bin centres
    assert histogram_median(np.array([1, 0, 0, 1]), 2.0) == 4.0
    assert math.isnan(histogram_median(np.zeros(4, np.int64), 1.0))


def test_angle_histogram_bins_and_range():
    ang = torch.tensor([0.0, 0.049, 0.05, 179.99, 180.0], dtype=torch.float64)
    h = angle_histogram(ang, 0.05)
    assert h.dtype == np.int32 and h.shape == (3600,)
    assert h[0] == 2 and h[1] == 1 and h[-1] == 2 and h.sum() == 5


def _normals_at(angles_deg):
    """GT +z, predictions at the given angles in the x-z plane (1 x n)."""
    a = torch.deg2rad(torch.tensor(angles_deg, dtype=torch.float64))
    pred = torch.stack([a.sin(), torch.zeros_like(a), a.cos()])[:, None]
    gt = torch.zeros_like(pred)
    gt[2] = 1.0
    return pred, gt


def test_normal_median_golden():
    pred, gt = _normals_at([0.0, 15.0, 25.0, 45.0, 60.0, 90.0])
    m = _run(NormalMetric(), 'normal', [(pred, gt)])
    assert m['median'] == pytest.approx(35.0, abs=0.025 + 1e-9)
    # one image of 3 angles and one of 2: the median of the 5 is 20
    a, ga = _normals_at([10.0, 20.0, 170.0])
    b, gb = _normals_at([5.0, 50.0])
    m = _run(NormalMetric(median_bin_width=0.01), 'normal',
             [(a, ga), (b, gb)])
    assert m['median'] == pytest.approx(20.0, abs=0.005 + 1e-9)


@pytest.mark.parametrize('width', [0.01, 0.05, 0.5])
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_normal_median_within_half_a_bin_of_numpy(width, seed):
    rng = np.random.default_rng(seed)
    pairs, angles = [], []
    for h, w in [(9, 11), (7, 6), (1, 1 + seed)]:
        gt = rng.normal(size=(3, h, w))
        pred = gt + rng.normal(scale=0.6, size=(3, h, w))
        gt /= np.linalg.norm(gt, axis=0)
        gt[:, rng.random((h, w)) < 0.2] = 0
        v = np.any(gt != 0, axis=0)
        p = pred[:, v] / np.linalg.norm(pred[:, v], axis=0)
        angles.append(np.degrees(np.arccos(np.clip((p * gt[:, v]).sum(0),
                                                   -1, 1))))
        pairs.append((torch.from_numpy(pred), torch.from_numpy(gt)))
    ref = np.median(np.concatenate(angles))
    m = _run(NormalMetric(median_bin_width=width), 'normal', pairs)
    assert abs(m['median'] - ref) <= width / 2 + 1e-9


def test_normal_median_bin_width_checked():
    with pytest.raises(ValueError, match='median_bin_width'):
        NormalMetric(median_bin_width=0)
