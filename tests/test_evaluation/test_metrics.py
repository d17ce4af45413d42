"""Metrics: hand-made golden values, numpy cross-checks, exact reduction."""
import math

import numpy as np
import pytest
import torch

import mtpsl  # noqa: F401
from mtpsl.evaluation import (DepthMetric, NormalMetric, SemSegMetric,
                              format_metrics_table)
from mtpsl.evaluation.metrics.base import NO_GT
from mtpsl.structures import MultiTaskDataSample


def _sample(task, pred, gt, path='img.npy'):
    s = MultiTaskDataSample(metainfo=dict(img_path=path))
    s.set_pred(task, pred)
    s.set_gt(task, gt)
    return s


def _run(metric, samples):
    """As MMEngine's Evaluator: process dicts, then compute on the results."""
    metric.process(None, [s.to_dict() for s in samples])
    return metric.compute_metrics(metric.results)


# -- semantic segmentation ----------------------------------------------------
def test_semseg_golden_with_ignore_and_absent_class():
    # 3 classes; class 2 is in neither GT nor prediction; -1 and 255 ignored.
    gt = torch.tensor([[[0, 0, 1], [1, -1, 0], [255, 1, 1]]])
    pred = torch.tensor([[[0, 1, 1], [0, 0, 0], [2, 1, 1]]])
    # Scored pairs (gt, pred): (0,0) (0,1) (1,1) (1,0) (0,0) (1,1) (1,1)
    # class 0: TP 2, FP 1, FN 1 -> 2/4; class 1: TP 3, FP 1, FN 1 -> 3/5.
    # Note the prediction 2 at the ignored 255 pixel does not count.
    m = _run(SemSegMetric(num_classes=3, class_names=['a', 'b', 'c']),
             [_sample('sem_seg', pred, gt)])
    assert m['IoU.a'] == pytest.approx(50.0)
    assert m['IoU.b'] == pytest.approx(60.0)
    assert math.isnan(m['IoU.c'])
    assert m['mIoU'] == pytest.approx((50.0 + 60.0) / 2)
    assert m['pixel_acc'] == pytest.approx(5 / 7 * 100)


def test_semseg_class_only_predicted_counts_as_zero():
    gt = torch.tensor([[[0, 0], [1, 1]]])
    pred = torch.tensor([[[0, 2], [1, 1]]])
    # class 0: 1/2; class 1: 2/2; class 2: TP 0, FP 1 -> 0 (in the mean).
    m = _run(SemSegMetric(num_classes=3), [_sample('sem_seg', pred, gt)])
    assert m['IoU.2'] == 0.0
    assert m['mIoU'] == pytest.approx((50.0 + 100.0 + 0.0) / 3)


def test_semseg_errors():
    with pytest.raises(ValueError, match='num_classes'):
        SemSegMetric(num_classes=1)
    with pytest.raises(ValueError, match='class names'):
        SemSegMetric(num_classes=3, class_names=['a'])
    metric = SemSegMetric(num_classes=3)
    with pytest.raises(ValueError, match='no image'):
        metric.compute_metrics([])
    s = _sample('sem_seg', torch.zeros(1, 2, 3, dtype=torch.long),
                torch.zeros(1, 2, 2, dtype=torch.long), path='x/7.npy')
    with pytest.raises(ValueError, match='x/7.npy'):
        metric.process(None, [s.to_dict()])
    s = MultiTaskDataSample(metainfo=dict(img_path='x/8.npy'))
    s.set_gt('sem_seg', torch.zeros(1, 2, 2, dtype=torch.long))
    with pytest.raises(KeyError, match='x/8.npy'):
        metric.process(None, [s.to_dict()])


def _np_semseg(preds, gts, c):
    conf = np.zeros((c, c), dtype=np.int64)
    for p, g in zip(preds, gts):
        for pi, gi in zip(p.ravel(), g.ravel()):
            if 0 <= gi < c:
                conf[gi, pi] += 1
    iou = []
    for k in range(c):
        tp = conf[k, k]
        union = conf[k, :].sum() + conf[:, k].sum() - tp
        if union:
            iou.append(tp / union)
    return np.mean(iou) * 100, np.trace(conf) / conf.sum() * 100


# -- depth --------------------------------------------------------------------
def _depth_samples():
    # Image A (2x2): valid errors 0.5, -1, 0 on GT 1, 2, 4.
    a = _sample('depth', torch.tensor([[[1.5, 1.0], [7.0, 4.0]]]),
                torch.tensor([[[1.0, 2.0], [0.0, 4.0]]]))
    # Image B (1x3): valid errors 1, 0.5 on GT 2, 0.5.
    b = _sample('depth', torch.tensor([[[3.0, 9.0, 1.0]]]),
                torch.tensor([[[2.0, 0.0, 0.5]]]))
    return [a, b]


def test_depth_golden_pooled_over_pixels():
    m = _run(DepthMetric(), _depth_samples())
    # 5 valid pixels in the set (not a mean of the two image means, 0.625).
    assert m['abs_err'] == pytest.approx((0.5 + 1 + 0 + 1 + 0.5) / 5)
    assert m['rel_err'] == pytest.approx((0.5 / 1 + 1 / 2 + 0 + 1 / 2 +
                                          0.5 / 0.5) / 5)
    assert m['rmse'] == pytest.approx(math.sqrt((0.25 + 1 + 0 + 1 + 0.25) / 5))


def test_depth_no_valid_pixel_raises():
    s = _sample('depth', torch.ones(1, 2, 2), torch.zeros(1, 2, 2))
    with pytest.raises(ValueError, match='no valid depth'):
        _run(DepthMetric(), [s])


def _np_depth(preds, gts):
    p = np.concatenate([x.ravel() for x in preds]).astype(np.float64)
    g = np.concatenate([x.ravel() for x in gts]).astype(np.float64)
    v = g != 0
    p, g = p[v], g[v]
    d = p - g
    out = dict(abs_err=np.abs(d).mean(), rel_err=(np.abs(d) / g).mean(),
               rmse=np.sqrt((d ** 2).mean()))
    pos = (p > 0) & (g > 0)
    out['log_rmse'] = np.sqrt(((np.log(p[pos]) - np.log(g[pos])) ** 2).mean())
    ratio = np.full(p.shape, np.inf)
    ratio[pos] = np.maximum(p[pos] / g[pos], g[pos] / p[pos])
    for k in (1, 2, 3):
        out[f'delta{k}'] = (ratio < 1.25 ** k).mean() * 100
    return out


# -- normals ------------------------------------------------------------------
ANGLES = (0.0, 15.0, 25.0, 45.0, 60.0, 90.0)


def _normal_sample():
    """GT +z everywhere but one invalid pixel; predictions at known angles
    in the x-z plane, scaled to lengths other than 1."""
    n = len(ANGLES) + 1
    gt = torch.zeros(3, 1, n, dtype=torch.float64)
    gt[2, 0, :-1] = 1.0
    pred = torch.zeros(3, 1, n, dtype=torch.float64)
    for i, a in enumerate(ANGLES):
        scale = 0.5 + i
        pred[0, 0, i] = scale * math.sin(math.radians(a))
        pred[2, 0, i] = scale * math.cos(math.radians(a))
    pred[:, 0, -1] = torch.tensor([-1.0, 0.0, 0.0])  # at the invalid pixel
    return _sample('normal', pred.float(), gt.float())


def test_normal_golden_angles_and_thresholds():
    m = _run(NormalMetric(), [_normal_sample()])
    n = len(ANGLES)
    assert m['mean'] == pytest.approx(sum(ANGLES) / n, abs=1e-3)
    assert m['rmse'] == pytest.approx(
        math.sqrt(sum(a * a for a in ANGLES) / n), abs=1e-3)
    assert m['within_11.25'] == pytest.approx(100 / 6)  # 0
    assert m['within_22.5'] == pytest.approx(200 / 6)   # 0, 15
    assert m['within_30'] == pytest.approx(300 / 6)     # 0, 15, 25


def test_normal_exact_angles():
    # sqrt(3) x + z is at 60 degrees from z, length 2.
    gt = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
                      ).reshape(3, 1, 3)
    pred = torch.tensor([[0.0, 3.0, math.sqrt(3)], [0.0, 0.0, 0.0],
                         [2.0, 0.0, 1.0]]).reshape(3, 1, 3)
    m = _run(NormalMetric(), [_sample('normal', pred, gt)])
    assert m['mean'] == pytest.approx((0 + 90 + 60) / 3, abs=1e-4)


def _np_normal(preds, gts):
    angles = []
    for p, g in zip(preds, gts):
        p = p.reshape(3, -1).astype(np.float64)
        g = g.reshape(3, -1).astype(np.float64)
        v = np.any(g != 0, axis=0)
        p = p[:, v] / np.linalg.norm(p[:, v], axis=0)
        g = g[:, v] / np.linalg.norm(g[:, v], axis=0)
        angles.append(np.degrees(np.arccos(np.clip((p * g).sum(0), -1, 1))))
    a = np.concatenate(angles)
    return dict(mean=a.mean(), rmse=np.sqrt((a ** 2).mean()),
                median=np.median(a),
                **{f'within_{t:g}': (a < t).mean() * 100
                   for t in (11.25, 22.5, 30.0)})


# -- random cross-checks and the exact reduction ------------------------------
def _random_maps(seed):
    rng = np.random.default_rng(seed)
    out = []
    for h, w in [(5, 7), (6, 4), (3, 9)]:
        label_gt = rng.integers(-1, 4, (1, h, w))
        label_gt[0, 0, 0] = 255
        label_pred = rng.integers(0, 4, (1, h, w))
        depth_gt = rng.uniform(0.5, 8, (1, h, w))
        depth_gt[rng.random((1, h, w)) < 0.3] = 0.0
        depth_pred = rng.uniform(0.5, 8, (1, h, w))
        normal_gt = rng.normal(size=(3, h, w))
        normal_gt /= np.linalg.norm(normal_gt, axis=0)
        normal_gt[:, rng.random((h, w)) < 0.25] = 0
        normal_pred = rng.normal(size=(3, h, w))
        out.append(dict(sem_seg=(label_pred, label_gt),
                        depth=(depth_pred.astype(np.float32),
                               depth_gt.astype(np.float32)),
                        normal=(normal_pred.astype(np.float32),
                                normal_gt.astype(np.float32))))
    return out


def _samples(maps, task):
    return [_sample(task, torch.from_numpy(m[task][0]),
                    torch.from_numpy(m[task][1])) for m in maps]


@pytest.mark.parametrize('seed', [0, 1])
def test_metrics_agree_with_numpy(seed):
    maps = _random_maps(seed)
    preds = {t: [m[t][0] for m in maps] for t in maps[0]}
    gts = {t: [m[t][1] for m in maps] for t in maps[0]}
    m = _run(SemSegMetric(num_classes=4), _samples(maps, 'sem_seg'))
    miou, acc = _np_semseg(preds['sem_seg'], gts['sem_seg'], 4)
    assert m['mIoU'] == pytest.approx(miou)
    assert m['pixel_acc'] == pytest.approx(acc)
    m = _run(DepthMetric(), _samples(maps, 'depth'))
    ref = _np_depth(preds['depth'], gts['depth'])
    assert m.keys() == ref.keys()
    for k in ref:
        assert m[k] == pytest.approx(ref[k], rel=1e-9), k
    m = _run(NormalMetric(), _samples(maps, 'normal'))
    ref = _np_normal(preds['normal'], gts['normal'])
    assert m.keys() == ref.keys()
    for k in ref:
        # the median comes from 0.05-degree bins: within half a bin
        tol = dict(abs=0.025 + 1e-9) if k == 'median' else dict(rel=1e-6)
        assert m[k] == pytest.approx(ref[k], **tol), k


@pytest.mark.parametrize('metric_cls,task', [
    (lambda: SemSegMetric(num_classes=4), 'sem_seg'),
    (DepthMetric, 'depth'), (NormalMetric, 'normal')])
def test_per_image_statistics_sum_to_concatenation(metric_cls, task):
    """Summing per-image statistics == computing on all pixels at once: the
    property that makes the gather across processes exact."""
    maps = _random_maps(3)[:1] + [_random_maps(4)[0]]  # both 5 x 7
    per_image = metric_cls()
    per_image.process(None, [s.to_dict() for s in _samples(maps, task)])
    assert len(per_image.results) == 2
    whole = metric_cls()
    pred = np.concatenate([m[task][0] for m in maps], axis=-1)
    gt = np.concatenate([m[task][1] for m in maps], axis=-1)
    whole.process(None, [_sample(task, torch.from_numpy(pred),
                                 torch.from_numpy(gt)).to_dict()])
    a = per_image.compute_metrics(per_image.results)
    b = whole.compute_metrics(whole.results)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-9, nan_ok=True), k


def test_evaluate_prefix_and_table_lists_every_metric():
    maps = _random_maps(5)
    metrics = {}
    for metric, task in [(SemSegMetric(num_classes=4), 'sem_seg'),
                         (DepthMetric(), 'depth'), (NormalMetric(), 'normal')]:
        metric.process(None, [s.to_dict() for s in _samples(maps, task)])
        metrics.update(metric.evaluate(len(maps)))
    assert metric.results == []  # evaluate clears the results
    expected = ['sem_seg/mIoU', 'sem_seg/pixel_acc', 'depth/abs_err',
                'depth/rel_err', 'depth/rmse', 'depth/log_rmse',
                'depth/delta1', 'depth/delta2', 'depth/delta3',
                'normal/mean', 'normal/rmse', 'normal/median',
                'normal/within_11.25', 'normal/within_22.5',
                'normal/within_30']
    assert set(expected) <= set(metrics)
    assert {k for k in metrics if k not in expected} == {
        f'sem_seg/IoU.{i}' for i in range(4)}
    table = format_metrics_table(metrics)
    rows = [line.split() for line in table.splitlines()[2:]]
    assert len(rows) == len(expected)  # per-class IoU left out
    for key in expected:
        task, name = key.split('/')
        row = next(r for r in rows if r[:2] == [task, name])
        assert float(row[2]) == pytest.approx(metrics[key], rel=1e-2, abs=1e-4)
    assert next(r for r in rows if r[1] == 'mIoU')[3] == 'higher'
    assert next(r for r in rows if r[1] == 'abs_err')[3] == 'lower'
    assert format_metrics_table({}) == '(no metrics)'


def test_semseg_prediction_out_of_range_is_an_error():
    metric = SemSegMetric(num_classes=3)
    sample = _sample('sem_seg', torch.tensor([[[0, 3]]]),
                     torch.tensor([[[0, 1]]]))
    with pytest.raises(ValueError, match='predicted class 3'):
        _run(metric, [sample])


def test_image_flagged_unlabelled_is_skipped_but_keeps_its_place():
    """PASCAL human parts: an image without people has no GT and the flag
    False; it adds a NO_GT entry (the gather interleaves by position)."""
    def sample(gt, flag=True):
        s = MultiTaskDataSample(metainfo=dict(
            img_path='a.jpg', label_flags=dict(human_parts=flag)))
        s.set_pred('human_parts', torch.tensor([[[0, 1], [2, 2]]]))
        if gt is not None:
            s.set_gt('human_parts', gt)
        return s.to_dict()
    gt = torch.tensor([[[0, 1], [2, 0]]])
    metric = SemSegMetric(task='human_parts', num_classes=3)
    metric.process(None, [sample(gt), sample(None, flag=False)])
    assert len(metric.results) == 2 and metric.results[1] == NO_GT
    ref = SemSegMetric(task='human_parts', num_classes=3)
    ref.process(None, [sample(gt)])
    assert metric.compute_metrics(metric.results) == \
        ref.compute_metrics(ref.results)
    with pytest.raises(ValueError, match='no image'):
        metric.compute_metrics([NO_GT])
    # a GT missing without the flag saying so is an error
    with pytest.raises(KeyError, match='no GT'):
        metric.process(None, [sample(None, flag=True)])
