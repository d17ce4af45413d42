"""HiTTs losses by hand: Eq. (10) prediction, Eq. (13) task loss, Eq. (7)
pseudo-label masks, Eq. (6) feature loss and its M^f weighting."""
import math

import pytest
import torch
import torch.nn.functional as F

from mtpsl.models.hitts import (feature_loss, nearest_bin, pseudo_label_loss,
                                soft_centres, task_loss)

DEPTH_CENTRES = torch.tensor([[1.0], [3.0]])


def test_binned_prediction_is_the_weighted_centres():
    # softmax(0, log 3) = (1/4, 3/4) -> 1/4 * 1 + 3/4 * 3 = 2.5
    logits = torch.tensor([0.0, math.log(3.0)]).view(1, 2, 1, 1)
    assert torch.allclose(soft_centres(logits, DEPTH_CENTRES),
                          torch.tensor(2.5).view(1, 1, 1, 1))
    normals = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    pred = soft_centres(logits, normals)
    assert torch.allclose(pred.view(3), torch.tensor([0.75, 0.0, 0.25]))


def test_nearest_bin_depth_in_log_space_and_invalid():
    # centres 1 and 3: log midpoint is sqrt(3) = 1.732; 1.8 -> bin 1 (a
    # linear midpoint, 2, would give bin 0); 0 is invalid -> -1
    target = torch.tensor([1.1, 1.8, 0.0]).view(1, 1, 1, 3)
    idx = nearest_bin('depth', target, DEPTH_CENTRES)
    assert idx.view(3).tolist() == [0, 1, -1]


def test_nearest_bin_normal_by_cosine():
    centres = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    target = torch.tensor([[0.6, 0.0, 0.8], [0.8, 0.0, 0.6],
                           [0.0, 0.0, 0.0]]).t().reshape(1, 3, 1, 3)
    assert nearest_bin('normal', target, centres).view(3).tolist() == [
        0, 1, -1]


def test_eq13_depth_by_hand():
    # uniform logits: pred 2.0 everywhere; targets 1 (bin 0), 3 (bin 1)
    logits = torch.zeros(1, 2, 1, 2, requires_grad=True)
    target = torch.tensor([1.0, 3.0]).view(1, 1, 1, 2)
    out = task_loss('depth', logits, target, DEPTH_CENTRES, reg_weight=0.1)
    assert torch.allclose(out['loss_ce'], torch.tensor(math.log(2.0)))
    # L1 = (|2 - 1| + |2 - 3|) / 2 = 1 -> lambda * 1
    assert torch.allclose(out['loss_reg'], torch.tensor(0.1))
    sum(out.values()).backward()


def test_eq13_normal_angle_loss_by_hand():
    centres = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    logits = torch.tensor([10.0, -10.0]).view(1, 2, 1, 1)  # ~ centre 0
    target = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
    out = task_loss('normal', logits, target, centres, reg_weight=1.0)
    # prediction ~ (0, 0, 1), GT (1, 0, 0): 90 degrees
    assert abs(float(out['loss_reg']) - math.pi / 2) < 1e-3
    assert abs(float(out['loss_ce']) - 20.0) < 1e-3


def test_eq13_label_task_is_cross_entropy_only():
    logits = torch.tensor([2.0, 0.0, -1.0]).view(1, 3, 1, 1)
    target = torch.tensor([0]).view(1, 1, 1, 1)
    out = task_loss('sem_seg', logits, target)
    assert set(out) == {'loss_ce'}
    expected = -F.log_softmax(torch.tensor([2.0, 0.0, -1.0]), 0)[0]
    assert torch.allclose(out['loss_ce'], expected)


def test_eq13_errors():
    with pytest.raises(ValueError, match='needs centres'):
        task_loss('depth', torch.zeros(1, 2, 1, 1), torch.ones(1, 1, 1, 1))
    with pytest.raises(ValueError, match='3 centres'):
        task_loss('depth', torch.zeros(1, 2, 1, 1), torch.ones(1, 1, 1, 1),
                  torch.ones(3, 1))


def test_pseudo_loss_masks_labelled_images_and_low_confidence():
    # image 0 labelled for the task (alpha 1): no pseudo loss from it;
    # image 1: pixel 0 kept (class 0), pixel 1 under tau (-1)
    logits = torch.tensor([[[[5.0, 0.0]], [[0.0, 5.0]]],
                           [[[1.0, 3.0]], [[0.0, 0.0]]]],
                          requires_grad=True)  # B=2, K=2, 1x2
    pseudo = torch.tensor([[[[1, 0]]], [[[0, -1]]]])
    labelled = torch.tensor([True, False])
    out = pseudo_label_loss('sem_seg', logits, pseudo, labelled)
    expected = -F.log_softmax(torch.tensor([1.0, 0.0]), 0)[0]
    assert set(out) == {'loss_pseudo_ce'}
    assert torch.allclose(out['loss_pseudo_ce'], expected)


def test_pseudo_loss_nothing_kept_is_exact_zero_in_graph():
    logits = torch.randn(2, 2, 3, 3, requires_grad=True)
    pseudo = torch.full((2, 1, 3, 3), -1)
    out = pseudo_label_loss('sem_seg', logits, pseudo,
                            torch.tensor([False, False]))
    assert float(out['loss_pseudo_ce'].detach()) == 0.0
    out['loss_pseudo_ce'].backward()
    assert torch.equal(logits.grad, torch.zeros_like(logits))
    # all images labelled: also zero, never NaN
    out = pseudo_label_loss('depth', torch.zeros(1, 2, 1, 1),
                            torch.ones(1, 1, 1, 1), torch.tensor([True]),
                            DEPTH_CENTRES)
    assert all(float(v) == 0.0 for v in out.values())


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
    assert float(none) == 0.0
    none.backward()
    with pytest.raises(ValueError, match='differ'):
        feature_loss(feat, saved[..., :1], torch.tensor([True]), mask)
