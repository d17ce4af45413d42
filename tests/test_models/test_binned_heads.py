"""Binned regression: fixed centres, soft-weighted prediction, bin loss."""
import json
import math
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from conftest import REPO, DEMO_CONFIG

import mtpsl  # noqa: F401
from mtpsl.models.heads import (LogDepthBins, NormalBins, fibonacci_sphere,
                                spherical_kmeans)
from mtpsl.registry import MODELS


def test_log_depth_centres_and_assignment():
    bins = LogDepthBins(num_bins=3, min_depth=1.0, max_depth=4.0)
    assert torch.allclose(bins.centres[:, 0], torch.tensor([1.0, 2.0, 4.0]))
    # log-nearest: 1.4 -> 1 (|log 1.4| < |log 1.4/2|), 1.5 -> 2, 0 invalid
    depth = torch.tensor([1.4, 1.5, 0.0, 9.0, 0.2]).view(1, 1, 1, 5)
    assert bins.assign(depth).flatten().tolist() == [0, 1, -1, 2, 0]
    with pytest.raises(ValueError, match='min_depth'):
        LogDepthBins(3, 2.0, 1.0)


def test_soft_weighted_prediction_golden():
    bins = LogDepthBins(num_bins=2, min_depth=1.0, max_depth=3.0)
    logits = torch.tensor([0.0, math.log(3.0)]).view(1, 2, 1, 1)
    # softmax = (1/4, 3/4): 1/4 * 1 + 3/4 * 3 = 2.5
    assert torch.allclose(bins.expect(logits), torch.tensor(2.5))


def test_fibonacci_sphere_is_unit_and_spread():
    c = fibonacci_sphere(40)
    assert torch.allclose(c.norm(dim=1), torch.ones(40), atol=1e-6)
    assert abs(float(c.mean(dim=0).norm())) < 0.05
    cos = c @ c.T - 2 * torch.eye(40)
    assert float(cos.max()) < 0.95   # no two centres nearly equal


def test_normal_assignment_and_invalid():
    bins = NormalBins(num_bins=6)
    target = torch.zeros(1, 3, 1, 2)
    target[0, :, 0, 0] = bins.centres[4] * 0.999 + 0.001
    assert bins.assign(target).flatten().tolist() == [4, -1]


def test_spherical_kmeans_recovers_three_axes():
    g = torch.Generator().manual_seed(0)
    axes = torch.eye(3)
    pts = torch.cat([a + 0.05 * torch.randn(200, 3, generator=g)
                     for a in axes])
    centres = spherical_kmeans(pts, 3, seed=1)
    # every axis has a centre within 2 degrees
    cos = (centres @ axes.T).max(dim=0).values
    assert float(cos.min()) > math.cos(math.radians(2.0))
    assert torch.equal(centres, spherical_kmeans(pts, 3, seed=1))
    with pytest.raises(ValueError, match='vectors for k'):
        spherical_kmeans(pts[:2], 3)


def _head(task, bins, **kw):
    torch.manual_seed(0)
    loss = dict(type='MaskedL1Loss', loss_weight=0.1) if task == 'depth' \
        else dict(type='CosineSimilarityLoss', loss_weight=0.1)
    return MODELS.build(dict(type='ConvTaskHead', task=task, in_channels=3,
                             channels=4, loss=loss, bins=bins, **kw))


def test_binned_depth_head_output_and_losses():
    head = _head('depth', dict(type='LogDepthBins', num_bins=5,
                               min_depth=0.5, max_depth=8.0))
    out = head([torch.rand(2, 3, 4, 6)], (8, 12))
    assert out.logits.shape == (2, 5, 4, 6)
    assert out.pred.shape == (2, 1, 8, 12)
    assert torch.equal(out.extras['bin_centres'], head.bins.centres)
    expected = F.interpolate(head.bins.expect(out.logits), size=(8, 12),
                             mode='bilinear', align_corners=False)
    assert torch.allclose(out.pred, expected)
    pred = out.pred.detach()
    assert float(pred.min()) >= 0.5 and float(pred.max()) <= 8.0
    target = torch.full((2, 1, 8, 12), 2.0)
    target[1] = 0.0   # the second image unlabelled
    losses = head.loss_by_feat(out, target)
    assert set(losses) == {'loss_l1', 'loss_bin_ce'}
    index = head.bins.assign(target)
    logits = F.interpolate(out.logits, size=(8, 12), mode='bilinear',
                           align_corners=False)
    ce = F.cross_entropy(logits[:1], index[:1, 0])
    assert torch.allclose(losses['loss_bin_ce'], ce)
    l1 = (out.pred[:1] - 2.0).abs().mean() * 0.1
    assert torch.allclose(losses['loss_l1'], l1)
    # nothing labelled: exact zeros
    zero = head.loss_by_feat(out, torch.zeros_like(target))
    assert all(float(v) == 0.0 for v in zero.values())


def test_centres_are_buffers_never_trained():
    head = _head('normal', dict(type='NormalBins', num_bins=8))
    names = [n for n, _ in head.named_parameters()]
    assert not any('bins' in n for n in names)
    assert 'bins.centres' in head.state_dict()
    out = head([torch.rand(2, 3, 4, 4)], (4, 4))
    norms = out.pred.norm(dim=1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-5)


def test_bins_rejected_for_label_task_and_wrong_task():
    with pytest.raises(ValueError, match='not the label task'):
        MODELS.build(dict(type='ConvTaskHead', task='sem_seg', in_channels=3,
                          num_classes=3, loss=dict(type='CrossEntropyLoss'),
                          bins=dict(type='NormalBins', num_bins=4)))
    with pytest.raises(ValueError, match="quantise 'normal'"):
        _head('depth', dict(type='NormalBins', num_bins=4))


def test_checkpoint_carries_the_centres(tmp_path):
    path = tmp_path / 'c.json'
    path.write_text(json.dumps(dict(centres=[[0, 0, 1], [0, 1, 0],
                                             [1, 0, 0]])))
    head = _head('normal', dict(type='NormalBins', num_bins=3,
                                centres_file=str(path)))
    assert torch.equal(head.bins.centres, torch.tensor(
        [[0., 0., 1.], [0., 1., 0.], [1., 0., 0.]]))
    uniform = _head('normal', dict(type='NormalBins', num_bins=3))
    uniform.load_state_dict(head.state_dict())
    assert torch.equal(uniform.bins.centres, head.bins.centres)
    with pytest.raises(ValueError, match='num_bins=4'):
        NormalBins(4, centres_file=str(path))
    with pytest.raises(FileNotFoundError, match='compute_normal_centres'):
        NormalBins(3, centres_file=str(tmp_path / 'missing.json'))


def test_compute_normal_centres_tool(tiny_procedural_root, tmp_path):
    out = tmp_path / 'centres.json'
    proc = subprocess.run(
        [sys.executable, 'tools/compute_normal_centres.py', DEMO_CONFIG,
         '--num-bins', '4', '--max-pixels', '2000', '--iters', '10',
         '--data-root', tiny_procedural_root, '--out', str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads(out.read_text())
    assert record['num_bins'] == 4 and record['pixels'] == 2000
    bins = NormalBins(4, centres_file=str(out))
    assert torch.allclose(bins.centres.norm(dim=1), torch.ones(4),
                          atol=1e-5)


def test_binned_heads_in_a_model_train_and_predict():
    from mtpsl.structures import MultiTaskDataSample
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='MultiTaskModel', backbone=dict(type='SegNet',
                                             widths=(4, 8, 8, 8, 8)),
        heads=dict(depth=dict(type='SegNetTaskHead', in_channels=4,
                              loss=dict(type='MaskedL1Loss'),
                              bins=dict(type='LogDepthBins', num_bins=4,
                                        min_depth=1.0, max_depth=8.0)),
                   normal=dict(type='SegNetTaskHead', in_channels=4,
                               loss=dict(type='CosineSimilarityLoss'),
                               bins=dict(type='NormalBins', num_bins=6)))))
    samples = []
    for _ in range(2):
        s = MultiTaskDataSample(metainfo=dict(
            label_flags=dict(depth=True, normal=True), img_shape=(32, 32),
            ori_shape=(32, 32), batch_input_shape=(32, 32)))
        s.set_gt('depth', torch.full((1, 32, 32), 3.0))
        s.set_gt('normal', F.normalize(torch.rand(3, 32, 32), dim=0))
        samples.append(s)
    x = torch.rand(2, 3, 32, 32)
    losses = model(x, samples, mode='loss')
    assert {'depth.loss_l1', 'depth.loss_bin_ce', 'normal.loss_cos',
            'normal.loss_bin_ce'} <= set(losses)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    model.eval()
    preds = model.predict(x)
    assert preds[0].pred('depth').shape == (1, 32, 32)
    assert preds[0].pred('normal').shape == (3, 32, 32)
