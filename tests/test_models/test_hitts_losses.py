"""HiTTs losses by hand: Eq. (13) through a binned head with the HiTTs
loss configs, the angle loss, Eq. (7)'s masks (labelled task, under tau) in
the stage-2 method, and Eq. (6) with its M^f weighting."""
import math

import pytest
import torch
import torch.nn.functional as F

from mtpsl.models.heads import SegNetTaskHead
from mtpsl.models.hitts import MaskedAngleLoss, feature_loss
from mtpsl.models.methods import (HiTTsPseudoSupervision, MethodBundle,
                                  ViewBundle)

# LogDepthBins with 2 bins from 1 to 3: centres exactly 1 and 3
DEPTH_BINS = dict(type='LogDepthBins', num_bins=2, min_depth=1.0,
                  max_depth=3.0)
L1 = dict(type='MaskedL1Loss', loss_weight=0.1)


def _depth_head():
    return SegNetTaskHead('depth', in_channels=2, bins=DEPTH_BINS, loss=L1)


def test_eq13_depth_by_hand():
    head = _depth_head()
    # uniform logits: the prediction is (1 + 3) / 2 = 2 everywhere (Eq. 10)
    logits = torch.zeros(1, 2, 1, 2, requires_grad=True)
    out = head.output(torch.zeros(1, 2, 1, 2), (1, 2),
                      extras=dict(logits=logits))
    assert torch.allclose(out.pred, torch.full((1, 1, 1, 2), 2.0))
    target = torch.tensor([1.0, 3.0]).view(1, 1, 1, 2)
    losses = head.loss_by_feat(out, target)
    # 0.1 * L1 = 0.1 * (|2 - 1| + |2 - 3|) / 2; CE of the bins 0 and 1
    assert torch.allclose(losses['loss_l1'], torch.tensor(0.1))
    assert torch.allclose(losses['loss_bin_ce'], torch.tensor(math.log(2.)))
    sum(losses.values()).backward()
    assert logits.grad is not None


def test_angle_loss_by_hand():
    loss = MaskedAngleLoss(loss_weight=0.1)
    pred = torch.tensor([[0.0, 0.0, 2.0], [1.0, 0.0, 0.0],
                         [1.0, 1.0, 0.0]]).t().reshape(1, 3, 1, 3)
    target = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0],
                           [0.0, 0.0, 0.0]]).t().reshape(1, 3, 1, 3)
    # 90 and 0 degrees on the two valid pixels; the third is invalid
    assert torch.allclose(loss(pred, target),
                          torch.tensor(0.1 * (math.pi / 2) / 2), atol=1e-4)
    none = loss(pred, torch.zeros_like(target))
    assert float(none.detach()) == 0.0


def _bundle(outputs, fields, flags):
    """A one-view bundle for tasks (sem_seg, depth)."""
    view = ViewBundle(inputs=torch.zeros(flags.shape[0], 3, 1, 2),
                      shared_feats=(), task_feats={}, preds={}, targets={},
                      label_flags=flags, outputs=outputs, fields=fields)
    return MethodBundle(tasks=('sem_seg', 'depth'), view1=view)


def _outputs(seg_logits, depth_logits):
    seg = SegNetTaskHead('sem_seg', in_channels=2, num_classes=2,
                         loss=dict(type='CrossEntropyLoss'))
    b = seg_logits.shape[0]
    feat = torch.zeros(b, 2, 1, 2)
    return dict(
        sem_seg=seg.output(feat, (1, 2), extras=dict(logits=seg_logits)),
        depth=_depth_head().output(feat, (1, 2),
                                   extras=dict(logits=depth_logits)))


def test_pseudo_loss_masks_labelled_images_and_low_confidence():
    method = HiTTsPseudoSupervision(
        tasks=('sem_seg', 'depth'), losses=dict(depth=L1),
        bins=dict(depth=DEPTH_BINS), features=False)
    seg_logits = torch.tensor([[[[5.0, 0.0]], [[0.0, 5.0]]],
                               [[[1.0, 3.0]], [[0.0, 0.0]]]],
                              requires_grad=True)  # B=2, 2 classes, 1x2
    depth_logits = torch.zeros(2, 2, 1, 2)
    # image 0 is labelled for sem_seg (alpha 1): its pseudo label, though
    # present, gives nothing; image 1: pixel 0 kept (class 0), pixel 1
    # under tau (-1). Depth: image 0 unlabelled, pixel 0 = 3 m kept,
    # pixel 1 under tau (0); image 1 labelled for depth.
    fields = dict(
        pseudo_sem_seg=torch.tensor([[[[1, 0]]], [[[0, -1]]]]),
        pseudo_depth=torch.tensor([[[[3.0, 0.0]]], [[[1.0, 1.0]]]]))
    flags = torch.tensor([[True, False], [False, True]])
    terms = method.task_terms(_bundle(_outputs(seg_logits, depth_logits),
                                      fields, flags))
    expected = -F.log_softmax(torch.tensor([1.0, 0.0]), 0)[0]
    assert set(terms['sem_seg']) == {'loss_pseudo_ce'}
    assert torch.allclose(terms['sem_seg']['loss_pseudo_ce'], expected)
    # depth: one pixel, prediction 2 vs 3 -> 0.1; bin CE log 2
    assert torch.allclose(terms['depth']['loss_pseudo_l1'],
                          torch.tensor(0.1))
    assert torch.allclose(terms['depth']['loss_pseudo_bin_ce'],
                          torch.tensor(math.log(2.0)))
    assert float(method.loss(_bundle(_outputs(seg_logits, depth_logits),
                                     fields, flags))['hitts.loss_feat']) == 0


def test_pseudo_loss_nothing_kept_is_exact_zero():
    method = HiTTsPseudoSupervision(
        tasks=('sem_seg', 'depth'), losses=dict(depth=L1),
        bins=dict(depth=DEPTH_BINS), features=False)
    seg_logits = torch.randn(2, 2, 1, 2, requires_grad=True)
    fields = dict(pseudo_sem_seg=torch.full((2, 1, 1, 2), -1),
                  pseudo_depth=torch.zeros(2, 1, 1, 2))
    flags = torch.tensor([[False, False], [False, False]])
    terms = method.task_terms(_bundle(_outputs(seg_logits,
                                               torch.zeros(2, 2, 1, 2)),
                                      fields, flags))
    for named in terms.values():
        for v in named.values():
            assert float(v.detach()) == 0.0 and not torch.isnan(v)


def test_pseudo_loss_refuses_other_bins():
    method = HiTTsPseudoSupervision(
        tasks=('sem_seg', 'depth'), losses=dict(depth=L1),
        bins=dict(depth=dict(DEPTH_BINS, max_depth=4.0)), features=False)
    fields = dict(pseudo_sem_seg=torch.full((1, 1, 1, 2), -1),
                  pseudo_depth=torch.zeros(1, 1, 1, 2))
    with pytest.raises(ValueError, match="bins of 'depth' differ"):
        method.task_terms(_bundle(_outputs(torch.zeros(1, 2, 1, 2),
                                           torch.zeros(1, 2, 1, 2)),
                                  fields, torch.tensor([[False, False]])))


def test_missing_field_is_a_clear_error():
    method = HiTTsPseudoSupervision(tasks=('sem_seg', 'depth'),
                                    bins=dict(depth=DEPTH_BINS))
    with pytest.raises(KeyError, match='LoadPseudoSupervision'):
        method.task_terms(_bundle(_outputs(torch.zeros(1, 2, 1, 2),
                                           torch.zeros(1, 2, 1, 2)),
                                  {}, torch.tensor([[False, False]])))


def test_feature_loss_by_hand_with_mask_weighting():
    # two images, one pixel, 2 channels; image 0 labelled, image 1 not
    feat = torch.tensor([[1.0, 3.0], [2.0, 2.0]]).view(2, 2, 1, 1)
    saved = torch.tensor([[0.0, 1.0], [0.0, 0.0]]).view(2, 2, 1, 1)
    mask = torch.tensor([0.1, 0.25]).view(2, 1, 1, 1)
    labelled = torch.tensor([True, False])
    # mse: image 0 (1 + 4) / 2 = 2.5 weight 1 (mask ignored);
    # image 1 (4 + 4) / 2 = 4 weight 0.25 -> (2.5 + 1) / 2 pixels
    out = feature_loss(feat, saved, labelled, mask)
    assert torch.allclose(out, torch.tensor(1.75))


def test_feature_loss_valid_pixels_and_empty():
    feat = torch.ones(1, 2, 1, 2, requires_grad=True)
    saved = torch.zeros(1, 2, 1, 2, dtype=torch.float16)
    mask = torch.ones(1, 1, 1, 2)
    valid = torch.tensor([True, False]).view(1, 1, 1, 2)
    out = feature_loss(feat, saved, torch.tensor([True]), mask, valid)
    assert torch.allclose(out, torch.tensor(1.0))
    none = feature_loss(feat, saved, torch.tensor([True]), mask,
                        torch.zeros_like(valid))
    assert float(none.detach()) == 0.0
    none.backward()
    with pytest.raises(ValueError, match='differ'):
        feature_loss(feat, saved[..., :1], torch.tensor([True]), mask)
