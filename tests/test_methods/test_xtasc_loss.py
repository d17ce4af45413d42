"""XTasC-Net's transfer terms on hand-made predictions (golden values), the
detach of the targets, the grouping and its uncertainty weighting."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import mtpsl  # noqa: F401
from mtpsl.models.methods import MethodBundle, ViewBundle, XTasC
from mtpsl.models.methods.xtasc import per_image_masked_l1
from mtpsl.registry import MODELS

TASKS = ('sem_seg', 'depth')


class _Fn(nn.Module):
    """A fixed function standing in for a TTNet."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def _bundle(seg, depth, seg_gt=None, depth_gt=None, flags=None):
    b = seg.shape[0]
    h, w = seg.shape[-2:]
    if seg_gt is None:
        seg_gt = torch.full((b, 1, h, w), -1.0)
    if depth_gt is None:
        depth_gt = torch.zeros(b, 1, h, w)
    if flags is None:
        flags = torch.ones(b, 2, dtype=torch.bool)
    view = ViewBundle(inputs=torch.zeros(b, 3, h, w), shared_feats=(),
                      task_feats={}, preds=dict(sem_seg=seg, depth=depth),
                      targets=dict(sem_seg=seg_gt, depth=depth_gt),
                      label_flags=flags)
    return MethodBundle(tasks=TASKS, view1=view)


def _method(**kw):
    kw.setdefault('num_classes', 2)
    return XTasC(tasks=TASKS, **kw)


def test_per_image_masked_l1_golden_and_empty():
    pred = torch.tensor([[[[1., 2.], [3., 4.]]], [[[0., 0.], [0., 8.]]]])
    target = torch.zeros_like(pred)
    mask = torch.tensor([[[[1, 1], [0, 0]]], [[[0, 0], [0, 1]]]]).bool()
    # image 0: (1 + 2) / 2 = 1.5; image 1: 8 / 1; mean 4.75 (not 11 / 3)
    assert per_image_masked_l1(pred, target, mask).item() == 4.75
    mask[1] = False  # an image without a masked pixel does not count
    assert per_image_masked_l1(pred, target, mask).item() == 1.5
    assert per_image_masked_l1(pred, target, torch.zeros_like(mask)) is None


def test_image_region_mask_leaves_out_the_padding():
    from mtpsl.models.methods.toolkit import image_region_mask
    from mtpsl.structures import MultiTaskDataSample
    samples = [MultiTaskDataSample(metainfo=dict(img_shape=(2, 3))),
               MultiTaskDataSample(metainfo=dict(img_shape=(3, 4)))]
    mask = image_region_mask(samples, (2, 3, 4))
    assert mask[0, 0].sum() == 6 and not mask[0, 0, 2].any()
    assert not mask[0, 0, :, 3].any() and mask[1].all()
    assert image_region_mask(None, (1, 2, 2)).all()


def test_consistency_skips_padding_of_unlabelled_images():
    m = _method()
    m.seg_to_depth = _Fn(lambda x: torch.zeros_like(x[:, :1]))
    m.depth_to_seg = _Fn(lambda d: torch.cat([d, -d], dim=1))
    from mtpsl.structures import MultiTaskDataSample
    seg = torch.zeros(1, 2, 1, 3)
    seg[0, 1, 0, 1] = 1.0           # argmax: 0, 1, 0
    depth = torch.tensor([[[[1., 2., 9.]]]])   # pixel 2 is padding
    bundle = _bundle(seg, depth, flags=torch.tensor([[True, False]]))
    bundle.data_samples = [MultiTaskDataSample(metainfo=dict(
        img_shape=(1, 2)))]
    terms = m.task_terms(bundle)
    # depth: mean(|0 - 1|, |0 - 2|) = 1.5, not (1 + 2 + 9) / 3
    assert terms['sem_seg']['loss_xtasc'].item() == pytest.approx(0.01 * 1.5)
    # seg: logits (1, -1) target 0 and (2, -2) target 1 on 2 pixels
    ce = (math.log(1 + math.exp(-2)) + math.log(1 + math.exp(4))) / 2
    assert terms['depth']['loss_xtasc'].item() == pytest.approx(
        0.01 * ce, rel=1e-6)


def test_hard_seg_target_golden():
    m = _method(seg_target='hard')
    # the seg prediction argmax: class 1 then class 0
    seg = torch.tensor([[[[0., 5.]], [[1., 2.]]]])
    transferred = torch.tensor([[[[0., 0.]], [[math.log(3), 0.]]]])
    # pixel 0: p = (1/4, 3/4), target 1 -> -log(3/4); pixel 1: target 0,
    # p = (1/2, 1/2) -> log 2
    expected = (math.log(4 / 3) + math.log(2)) / 2
    assert m.seg_term(transferred, seg, None).item() == pytest.approx(
        expected, rel=1e-6)
    # label smoothing eps: (1 - eps) CE + eps * mean_c(-log p_c)
    ms = _method(seg_target='hard', label_smoothing=0.1)
    smooth0 = 0.9 * math.log(4 / 3) + 0.1 * (math.log(4) + math.log(4 / 3)) / 2
    smooth1 = math.log(2)
    assert ms.seg_term(transferred, seg, None).item() == pytest.approx(
        (smooth0 + smooth1) / 2, rel=1e-6)


def test_soft_seg_target_golden():
    m = _method(seg_target='soft')
    # Eq. (13): -sum_c p_c log q_c, p = softmax of the direct prediction
    seg = torch.tensor([[[[0., math.log(4)]], [[math.log(3), 0.]]]])
    transferred = torch.tensor([[[[0., 0.]], [[0., math.log(3)]]]])
    # pixel 0: p = (1/4, 3/4), q = (1/2, 1/2) -> log 2
    # pixel 1: p = (4/5, 1/5), q = (1/4, 3/4)
    px1 = -(0.8 * math.log(0.25) + 0.2 * math.log(0.75))
    assert m.seg_term(transferred, seg, None).item() == pytest.approx(
        (math.log(2) + px1) / 2, rel=1e-6)
    # a one-hot-like soft target equals the hard one
    sharp = seg * 100
    hard = _method(seg_target='hard').seg_term(transferred, sharp, None)
    assert m.seg_term(transferred, sharp, None).item() == pytest.approx(
        hard.item(), rel=1e-5)


def test_depth_term_masks_labelled_by_gt_unlabelled_by_sign():
    m = _method()
    depth = torch.tensor([[[[1., 2.]]], [[[-1., 3.]]]])
    transferred = torch.zeros(2, 1, 1, 2)
    gt = torch.tensor([[[[0., 5.]]], [[[0., 0.]]]])  # image 1 unlabelled
    labelled = torch.tensor([True, False])
    # image 0: GT-valid pixel 1 only: |0 - 2| = 2; image 1: prediction > 0
    # on pixel 1 only: 3; mean 2.5
    assert m.depth_term(transferred, depth, gt, labelled).item() == 2.5
    every = _method(unlabelled_depth_mask='all')
    # image 1 on both pixels: (1 + 3) / 2 = 2
    assert every.depth_term(transferred, depth, gt, labelled).item() == 2.0


def test_align_targets_are_the_gt_and_zero_without_gt():
    m = _method(mode='align')
    seg_gt = torch.tensor([[[[1., -1.]]]])
    transferred = torch.tensor([[[[0., 0.]], [[math.log(3), 0.]]]])
    # only pixel 0 is labelled: target 1, p = (1/4, 3/4)
    assert m.seg_term(transferred, None, seg_gt).item() == pytest.approx(
        math.log(4 / 3), rel=1e-6)
    gt = torch.tensor([[[[0., 5.]]]])
    assert m.depth_term(torch.ones(1, 1, 1, 2), torch.zeros(1, 1, 1, 2), gt,
                        torch.tensor([True])).item() == 4.0
    # nothing labelled: exact zeros through task_terms, never NaN
    seg = torch.zeros(1, 2, 8, 8, requires_grad=True)
    depth = torch.ones(1, 1, 8, 8, requires_grad=True)
    terms = m.task_terms(_bundle(seg, depth))
    for task in TASKS:
        value = terms[task]['loss_xtasc']
        assert value.item() == 0.0 and torch.isfinite(value)
        value.backward()
    assert all(p.grad is not None for p in m.parameters())


def test_task_terms_golden_grouping_and_detach():
    lam = 0.25
    m = _method(loss_weight=lam)
    # fixed "TTNets": seg -> depth returns log p_0; depth -> seg the logits
    # (d, -d)
    m.seg_to_depth = _Fn(lambda x: x[:, :1])
    m.depth_to_seg = _Fn(lambda d: torch.cat([d, -d], dim=1))
    seg = torch.zeros(1, 2, 1, 2, requires_grad=True)       # p = (1/2, 1/2)
    seg.data[0, 1, 0, 1] = math.log(3)     # pixel 1: p = (1/4, 3/4)
    depth = torch.tensor([[[[1., 2.]]]], requires_grad=True)
    gt = torch.tensor([[[[4., 4.]]]])
    terms = m.task_terms(_bundle(seg, depth, depth_gt=gt))
    assert set(terms) == set(TASKS)
    assert set(terms['sem_seg']) == set(terms['depth']) == {'loss_xtasc'}
    # seg group: L1(log p_0, depth): |-log2 - 1| and |-log4 - 2|
    d_term = ((math.log(2) + 1) + (math.log(4) + 2)) / 2
    assert terms['sem_seg']['loss_xtasc'].item() == pytest.approx(
        lam * d_term, rel=1e-6)
    # depth group: CE of logits (d, -d) against argmax(seg) = (0, 1):
    # pixel 0: logits (1, -1), target 0; pixel 1: (2, -2), target 1
    ce0 = math.log(1 + math.exp(-2))
    ce1 = math.log(1 + math.exp(4))
    assert terms['depth']['loss_xtasc'].item() == pytest.approx(
        lam * (ce0 + ce1) / 2, rel=1e-6)
    # the detach: the seg group's term reaches seg (TTNet input), never the
    # depth prediction (its target) ...
    terms['sem_seg']['loss_xtasc'].backward(retain_graph=True)
    assert depth.grad is None and seg.grad.abs().sum() > 0
    # ... and the depth group's term reaches depth, never seg
    seg.grad = None
    terms['depth']['loss_xtasc'].backward()
    assert seg.grad is None and depth.grad.abs().sum() > 0


def test_ttnet_inputs_are_log_softmax_and_raw_depth():
    m = _method()
    seen = {}
    m.seg_to_depth = _Fn(lambda x: seen.setdefault('sd', x)[:, :1])
    m.depth_to_seg = _Fn(lambda d: seen.setdefault('ds', d).repeat(1, 2, 1,
                                                                   1))
    seg = torch.randn(2, 2, 4, 4)
    depth = torch.randn(2, 1, 4, 4)
    m.task_terms(_bundle(seg, depth))
    assert torch.allclose(seen['sd'], F.log_softmax(seg, dim=1))
    assert seen['ds'] is depth


def test_bad_options_name_the_key():
    with pytest.raises(ValueError, match="mode='x'"):
        _method(mode='x')
    with pytest.raises(ValueError, match="seg_target='argmax'"):
        _method(seg_target='argmax')
    with pytest.raises(ValueError, match="depth_task='normal'"):
        _method(depth_task='normal')
    with pytest.raises(ValueError, match='num_classes'):
        XTasC(tasks=TASKS, num_classes=dict(sem_seg=2))
    with pytest.raises(ValueError, match='label_smoothing'):
        _method(label_smoothing=1.0)


def test_uncertainty_reg_weight_is_the_release_form():
    from mtpsl.models.balancers import UncertaintyWeighting
    bal = UncertaintyWeighting(TASKS, init_log_var=0.0, reg_weight=1.0)
    bal.log_vars.data = torch.tensor([0.5, -0.2])
    out = bal(dict(sem_seg=dict(loss_ce=torch.tensor(2.0)),
                   depth=dict(loss_l1=torch.tensor(3.0))),
              dict(sem_seg=True, depth=False))
    assert out['sem_seg.loss_ce'].item() == pytest.approx(
        0.5 * math.exp(-0.5) * 2.0, rel=1e-6)
    assert out['sem_seg.loss_uncertainty'].item() == pytest.approx(0.5)
    assert 'depth.loss_uncertainty' not in out   # unlabelled: no s term
    with pytest.raises(ValueError, match='reg_weight'):
        UncertaintyWeighting(TASKS, reg_weight=0.0)


def test_ttnet_layout_counts_and_odd_sizes():
    from mtpsl.models.methods import TaskTransferNet
    seg_to_depth = TaskTransferNet(7, 1)
    depth_to_seg = TaskTransferNet(1, 7)
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    # by hand: the 11 shared 3x3 convs (with bias) 1,881,408, plus the
    # first conv (in x 9 x 64 + 64) and the bias-free 1x1 head (64 x out)
    assert n(seg_to_depth) == 1_881_408 + (7 * 9 * 64 + 64) + 64
    assert n(depth_to_seg) == 1_881_408 + (9 * 64 + 64) + 64 * 7
    assert seg_to_depth.head.bias is None
    assert not any(isinstance(m, nn.BatchNorm2d)
                   for m in seg_to_depth.modules())
    # the up path upsamples first: up block 2 reads 128 (up 1) + 128 (down
    # block 2) channels, up block 3 64 + 64 (down block 1)
    assert seg_to_depth.up[1][0].in_channels == 256
    assert seg_to_depth.up[2][0].in_channels == 128
    # an odd size comes back at its own size
    out = TaskTransferNet(3, 2, (4, 8, 8), (8, 4, 4))(torch.randn(2, 3, 13,
                                                                  22))
    assert out.shape == (2, 2, 13, 22)
    with pytest.raises(ValueError, match='3 down and 3 up'):
        TaskTransferNet(3, 2, (4, 8))
