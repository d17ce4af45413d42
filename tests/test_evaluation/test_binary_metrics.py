"""Saliency max F / IoU and edge ODS F: golden values, brute-force numpy
references, and the probability map the model predicts."""
import math

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData

import mtpsl  # noqa: F401
from mtpsl.evaluation import EdgeMetric, SaliencyMetric
from mtpsl.evaluation.metrics.edge import disk
from mtpsl.registry import MODELS
from mtpsl.structures import MultiTaskDataSample


def _sample(task, gt, prob=None, label=None, path='img.npy'):
    gt = torch.as_tensor(gt).reshape(1, *np.shape(gt)[-2:])
    s = MultiTaskDataSample(metainfo=dict(img_path=path))
    s.set_gt(task, gt.long())
    if prob is not None:
        prob = torch.as_tensor(prob, dtype=torch.float64).reshape(gt.shape)
        s.set_field(PixelData(data=prob), f'pred_{task}_prob',
                    dtype=PixelData)
        if label is None:
            label = (prob > 0.5).long()
    s.set_pred(task, torch.as_tensor(label).reshape(gt.shape).long())
    return s.to_dict()


def _run(metric, samples):
    metric.process(None, samples)
    return metric.compute_metrics(metric.results)


# -- saliency -----------------------------------------------------------------
def test_saliency_golden():
    # N = 4: bins floor(4 p); GT 1 at bins 3, 1; GT 0 at bins 2, 0, 0
    gt = [[1, 1, 0, 0, -1, 0]]
    prob = [[0.9, 0.3, 0.6, 0.1, 0.99, 0.0]]
    m = _run(SaliencyMetric(num_thresholds=4), [_sample('saliency', gt,
                                                        prob)])
    # k=3 (p >= .75): TP 1, FP 0 -> P 1, R .5; F = 1.3 * .5 / (.3 + .5)
    assert m['maxF'] == pytest.approx(81.25)
    # labels 1 0 1 0 . 0: class 1 TP 1 FP 1 FN 1; class 0 TP 2 FP 1 FN 1
    assert m['fg_IoU'] == pytest.approx(100 / 3)
    assert m['mIoU'] == pytest.approx((50 + 100 / 3) / 2)


def test_saliency_without_probability_scores_the_label_map():
    gt = [[1, 1, 0, 0]]
    m = _run(SaliencyMetric(), [_sample('saliency', gt, label=[[1, 0, 1, 0]])])
    # thresholds in (0, 1] all give the label map: P = R = .5 -> F = .5
    # (0 is no threshold: calling every pixel salient would give 56.5)
    assert m['maxF'] == pytest.approx(50.0)


def test_saliency_errors():
    with pytest.raises(ValueError, match='beta2'):
        SaliencyMetric(beta2=0)
    with pytest.raises(ValueError, match='num_thresholds'):
        SaliencyMetric(num_thresholds=0)
    with pytest.raises(ValueError, match='no valid saliency'):
        _run(SaliencyMetric(), [_sample('saliency', [[-1, -1]],
                                        [[0.2, 0.8]])])
    s = _sample('saliency', [[0, 1]], [[0.2, 0.8]], path='p/3.png')
    s['pred_saliency_prob']['data'] = torch.zeros(1, 1, 3)
    with pytest.raises(ValueError, match='p/3.png'):
        SaliencyMetric().process(None, [s])


def _np_saliency(probs, gts, n, beta2=0.3):
    p = np.concatenate([x.ravel() for x in probs])
    g = np.concatenate([x.ravel() for x in gts])
    p, g = p[g >= 0], g[g >= 0]
    best = 0.0
    for k in range(1, n + 1):
        pos = p >= k / n
        tp, fp = (pos & (g == 1)).sum(), (pos & (g == 0)).sum()
        if tp:
            prec, rec = tp / (tp + fp), tp / (g == 1).sum()
            best = max(best, (1 + beta2) * prec * rec / (beta2 * prec + rec))
    lab = p > 0.5
    fg = (lab & (g == 1)).sum() / (lab | (g == 1)).sum()
    bg = (~lab & (g == 0)).sum() / (~lab | (g == 0)).sum()
    return dict(maxF=best * 100, mIoU=(fg + bg) / 2 * 100, fg_IoU=fg * 100)


def _random_binary(seed, edge_rate):
    rng = np.random.default_rng(seed)
    out = []
    for h, w in [(12, 15), (9, 7), (15, 12)]:
        gt = (rng.random((h, w)) < edge_rate).astype(np.int64)
        gt[rng.random((h, w)) < 0.1] = -1
        prob = np.clip(rng.random((h, w)) * 0.7 + 0.3 * (gt == 1), 0, 1)
        out.append((prob, gt))
    return out


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_saliency_agrees_with_numpy(seed):
    maps = _random_binary(seed, 0.4)
    m = _run(SaliencyMetric(num_thresholds=20),
             [_sample('saliency', g, p) for p, g in maps])
    ref = _np_saliency(*zip(*maps), n=20)
    assert m == pytest.approx(ref)


# -- edges ------------------------------------------------------------------
def test_disk_footprint():
    assert disk(0.5).tolist() == [[True]]
    assert disk(1.0).sum() == 5 and disk(1.5).sum() == 9
    assert disk(2.0).sum() == 13


def test_edge_golden():
    # 6 x 8, diagonal 10, max_dist .15 -> tolerance 1.5 (3 x 3 box)
    gt = np.zeros((6, 8), np.int64)
    gt[:, 3] = 1          # a vertical GT edge
    gt[:, 0] = -1         # an ignored column
    prob = np.full((6, 8), 0.1)
    prob[0:3, 4] = 0.9    # next to the GT edge: correct
    prob[:, 6] = 0.7      # 3 px away: false positives
    m = _run(EdgeMetric(max_dist=0.15, num_thresholds=2),
             [_sample('edge', gt, prob)])
    # k=1 (p >= .5): 9 predicted, 3 correct -> P 1/3; GT rows 0..3 within
    # 1.5 of (0..2, 4) -> R 4/6; F = 4/9. k=2 (p >= 1): nothing predicted.
    # (k=0 is no threshold: all 42 valid pixels, P 3/7, R 1, F .6)
    assert m['odsF'] == pytest.approx(400 / 9)
    prob[:, 6] = 0.2      # no false positive left at k=1: P 1, R 4/6
    m = _run(EdgeMetric(max_dist=0.15, num_thresholds=2),
             [_sample('edge', gt, prob)])
    assert m['odsF'] == pytest.approx(80.0)


def test_edge_image_without_gt_edges_and_errors():
    gt = np.zeros((4, 4), np.int64)
    prob = np.full((4, 4), 0.8)
    gt2 = np.zeros((4, 4), np.int64)
    gt2[1, 1] = 1
    prob2 = np.zeros((4, 4))
    prob2[1, 1] = 0.8
    # image 1 adds 16 false positives at every threshold <= .8
    m = _run(EdgeMetric(max_dist=0.0, num_thresholds=10),
             [_sample('edge', gt, prob), _sample('edge', gt2, prob2)])
    # best k=1..8: P = 1/17, R = 1; k=9,10: nothing predicted
    assert m['odsF'] == pytest.approx(100 * 2 * (1 / 17) / (1 + 1 / 17))
    with pytest.raises(ValueError, match='no GT edge'):
        _run(EdgeMetric(), [_sample('edge', gt, prob)])
    with pytest.raises(ValueError, match='max_dist'):
        EdgeMetric(max_dist=1.0)


def _np_edge(maps, max_dist, n):
    """Brute force: pairwise distances at every threshold."""
    pred_all = np.zeros(n + 1)
    pred_hit = np.zeros(n + 1)
    gt_hit = np.zeros(n + 1)
    gt_total = 0
    for prob, gt in maps:
        h, w = gt.shape
        r = max_dist * math.hypot(h, w)
        g = np.argwhere(gt == 1)
        gt_total += len(g)
        for k in range(n + 1):
            pred = (gt >= 0) & (prob >= k / n)
            q = np.argwhere(pred)
            d = np.sqrt(((q[:, None, :] - g[None, :, :]) ** 2).sum(-1))
            pred_all[k] += len(q)
            if len(q) and len(g):
                pred_hit[k] += (d <= r).any(1).sum()
                gt_hit[k] += (d <= r).any(0).sum()
    prec = np.where(pred_all > 0, pred_hit / np.maximum(pred_all, 1), 0)
    rec = gt_hit / gt_total
    f = np.where(prec + rec > 0, 2 * prec * rec /
                 np.maximum(prec + rec, 1e-300), 0)
    return f[1:].max() * 100


@pytest.mark.parametrize('max_dist', [0.0, 0.05, 0.1])
@pytest.mark.parametrize('seed', [0, 1])
def test_edge_agrees_with_brute_force(seed, max_dist):
    maps = _random_binary(seed, 0.08)
    m = _run(EdgeMetric(max_dist=max_dist, num_thresholds=10),
             [_sample('edge', g, p) for p, g in maps])
    assert m['odsF'] == pytest.approx(_np_edge(maps, max_dist, 10))


# -- the probability map of the model ----------------------------------------
def test_model_predicts_probability_of_binary_tasks():
    torch.manual_seed(0)
    widths = (4, 4, 8, 8, 8)
    head = dict(type='SegNetTaskHead', in_channels=4, num_classes=2,
                loss=dict(type='CrossEntropyLoss'))
    model = MODELS.build(dict(
        type='MultiTaskModel', backbone=dict(type='SegNet', widths=widths),
        heads=dict(edge=head, saliency=head, depth=dict(
            type='SegNetTaskHead', in_channels=4,
            loss=dict(type='MaskedL1Loss')))))
    model.init_weights()
    model.eval()
    samples = [MultiTaskDataSample(metainfo=dict(img_shape=(32, 32),
                                                 ori_shape=(20, 24)))]
    with torch.no_grad():
        out = model.predict(torch.rand(1, 3, 32, 32), samples)[0]
    assert 'pred_depth_prob' not in out
    for task in ('edge', 'saliency'):
        prob = out.get(f'pred_{task}_prob').data
        label = out.pred(task)
        assert prob.shape == label.shape == (1, 20, 24)
        assert bool(((prob >= 0) & (prob <= 1)).all())
        decided = (prob - 0.5).abs() > 1e-6
        assert torch.equal((prob > 0.5)[decided], (label == 1)[decided])
        gt = torch.randint(0, 2, (1, 20, 24))
        out.set_gt(task, gt)
    for metric in (SaliencyMetric(), EdgeMetric()):
        m = _run(metric, [out.to_dict()])
        assert all(0 <= v <= 100 for v in m.values())


@pytest.mark.parametrize('radius', [0.0, 1.0, 1.5, 2.9])
def test_disk_max_at_equals_a_maximum_filter(radius):
    from scipy import ndimage

    from mtpsl.evaluation.metrics.edge import disk_max_at
    rng = np.random.default_rng(int(radius * 10))
    values = rng.integers(-1, 50, (13, 17))
    where = rng.random((13, 17)) < 0.3
    ref = ndimage.maximum_filter(values, footprint=disk(radius),
                                 mode='constant', cval=-1)[where]
    assert np.array_equal(disk_max_at(values, disk(radius), where), ref)
