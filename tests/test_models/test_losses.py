"""Task losses: hand-computed golden values, empty batches, bad labels."""
import math

import pytest
import torch

import mtpsl  # noqa: F401
from mtpsl.models.losses import (CosineSimilarityLoss, CrossEntropyLoss,
                                 MaskedL1Loss)


def _ce_inputs():
    # 1 x 2 x 1 x 3 logits; pixel 2 is ignored (-1).
    logits = torch.tensor([[[[0.0, 0.0, 5.0]],
                            [[math.log(3.0), 0.0, -5.0]]]],
                          requires_grad=True)
    target = torch.tensor([[[[1, 0, -1]]]])
    return logits, target


def test_cross_entropy_golden_with_ignored_pixel():
    logits, target = _ce_inputs()
    # pixel 0: softmax([0, ln 3])[1] = 3/4 -> -ln(3/4) = ln(4/3)
    # pixel 1: softmax([0, 0])[0] = 1/2 -> ln 2; pixel 2 ignored.
    expected = (math.log(4 / 3) + math.log(2)) / 2
    loss = CrossEntropyLoss()(logits, target)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    loss.backward()
    # The ignored pixel gets no gradient.
    assert torch.all(logits.grad[0, :, 0, 2] == 0)


def test_cross_entropy_loss_weight_and_name():
    logits, target = _ce_inputs()
    expected = (math.log(4 / 3) + math.log(2)) / 2
    loss_fn = CrossEntropyLoss(loss_weight=2.5, loss_name='loss_seg')
    assert loss_fn.loss_name == 'loss_seg'
    assert loss_fn(logits, target).item() == pytest.approx(2.5 * expected,
                                                          rel=1e-6)
    with pytest.raises(ValueError, match='loss_weight'):
        CrossEntropyLoss(loss_weight=-1.0)


@pytest.mark.parametrize('bad', [2, 7, -3])
def test_cross_entropy_rejects_labels_out_of_range(bad):
    logits, _ = _ce_inputs()
    target = torch.tensor([[[[1, bad, -1]]]])
    with pytest.raises(ValueError, match=rf'label {bad} outside \[0, 2\)'):
        CrossEntropyLoss()(logits, target)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match='differ'):
        MaskedL1Loss()(torch.zeros(1, 1, 2, 2), torch.ones(1, 1, 2, 3))
    with pytest.raises(ValueError, match='differ'):
        CrossEntropyLoss()(torch.zeros(2, 3, 2, 2),
                           torch.zeros(1, 1, 2, 2, dtype=torch.long))


def test_masked_l1_golden_with_invalid_pixels():
    pred = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], requires_grad=True)
    target = torch.tensor([[[[1.5, 0.0], [5.0, 0.0]]]])
    # valid pixels: |1 - 1.5| = 0.5 and |3 - 5| = 2 -> mean 1.25
    loss = MaskedL1Loss()(pred, target)
    assert loss.item() == pytest.approx(1.25)
    loss.backward()
    # d/dpred of the mean: sign / 2 on valid pixels, 0 on invalid ones.
    torch.testing.assert_close(pred.grad,
                               torch.tensor([[[[-0.5, 0.0], [-0.5, 0.0]]]]))
    assert MaskedL1Loss(loss_weight=0.5)(pred, target).item() == \
        pytest.approx(0.625)


def test_masked_l1_multichannel_valid_if_any_channel():
    pred = torch.zeros(1, 3, 1, 2)
    # pixel 0 valid (one non-zero channel), pixel 1 all zero -> invalid.
    target = torch.tensor([[[[0.0, 0.0]], [[0.6, 0.0]], [[0.0, 0.0]]]])
    # mean over 1 pixel x 3 channels of |0 - t| = 0.6 / 3
    assert MaskedL1Loss()(pred, target).item() == pytest.approx(0.2)


def test_cosine_golden():
    s3 = math.sqrt(3.0)
    # pixels: same direction (cos 1), orthogonal (cos 0), 60 degrees
    # (cos 1/2), and one with an all-zero (invalid) target.
    pred = torch.tensor([[1.0, 0.0, 0.5, 0.3],
                         [0.0, 1.0, s3 / 2, 0.4],
                         [0.0, 0.0, 0.0, 0.5]]).reshape(1, 3, 1, 4)
    pred.requires_grad_(True)
    target = torch.tensor([[1.0, 1.0, 1.0, 0.0],
                           [0.0, 0.0, 0.0, 0.0],
                           [0.0, 0.0, 0.0, 0.0]]).reshape(1, 3, 1, 4)
    loss = CosineSimilarityLoss()(pred, target)
    assert loss.item() == pytest.approx(1 - (1 + 0 + 0.5) / 3, rel=1e-6)
    loss.backward()
    assert torch.all(pred.grad[..., 3] == 0)
    assert CosineSimilarityLoss(loss_weight=3.0)(pred, target).item() == \
        pytest.approx(3 * 0.5, rel=1e-6)


@pytest.mark.parametrize('loss_fn,pred,target', [
    (CrossEntropyLoss(), torch.randn(2, 3, 2, 2),
     torch.full((2, 1, 2, 2), -1, dtype=torch.long)),
    (MaskedL1Loss(), torch.randn(2, 1, 2, 2), torch.zeros(2, 1, 2, 2)),
    (CosineSimilarityLoss(), torch.randn(2, 3, 2, 2), torch.zeros(2, 3, 2, 2)),
])
def test_no_labelled_pixel_gives_exact_zero_in_graph(loss_fn, pred, target):
    pred = pred.clone().requires_grad_(True)
    loss = loss_fn(pred, target)
    assert loss.item() == 0.0
    assert loss.requires_grad
    loss.backward()
    assert pred.grad is not None
    assert torch.all(pred.grad == 0)
    assert not torch.isnan(pred.grad).any()


# ------------------------------------------- per-image sum (XTC's release)
def test_image_sum_l1_golden():
    # 3 images of 1 x 2: image 0 |0.5|, |2| valid; image 1 one valid
    # pixel |1|; image 2 nothing labelled (counts in B, adds nothing).
    pred = torch.tensor([[1.0, 3.0], [2.0, 7.0], [4.0, 4.0]]).view(3, 1, 1, 2)
    target = torch.tensor([[1.5, 5.0], [3.0, 0.0], [0.0, 0.0]]).view(
        3, 1, 1, 2)
    got = MaskedL1Loss(reduction='image_sum')(pred, target)
    assert got.item() == pytest.approx((1.25 + 1.0 + 0.0) / 3)
    # the default pools the 3 labelled pixels of the batch
    assert MaskedL1Loss()(pred, target).item() == pytest.approx(3.5 / 3)


def test_image_sum_cross_entropy_golden():
    # image 0: the two pixels of _ce_inputs (ln 4/3, ln 2), one ignored;
    # image 1: one pixel, softmax([0, ln 3])[0] = 1/4 -> ln 4.
    logits = torch.tensor([[[[0.0, 0.0, 5.0]], [[math.log(3.0), 0.0, -5.0]]],
                           [[[0.0, 9.0, 9.0]], [[math.log(3.0), 9.0, 9.0]]]])
    target = torch.tensor([[[[1, 0, -1]]], [[[0, -1, -1]]]])
    expected = ((math.log(4 / 3) + math.log(2)) / 2 + math.log(4)) / 2
    got = CrossEntropyLoss(reduction='image_sum')(logits, target)
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_image_sum_cosine_golden():
    # image 0: cos 1 and cos 0 -> 1 - 1/2; image 1: cos 1/2 -> 1/2
    pred = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]], [[0.0, 0.0]]])
    pred = torch.stack([pred, torch.tensor([[[0.5, 0.0]], [[0.0, 0.0]],
                                            [[0.0, 0.0]]])])
    target = torch.zeros(2, 3, 1, 2)
    target[0, 0, 0, :] = 1.0
    target[1, 0, 0, 0] = 1.0  # image 1: pixel 1 invalid
    got = CosineSimilarityLoss(reduction='image_sum')(pred, target)
    assert got.item() == pytest.approx((0.5 + 0.5) / 2, rel=1e-6)


@pytest.mark.parametrize('cls', [CrossEntropyLoss, MaskedL1Loss,
                                 CosineSimilarityLoss])
def test_reduction_checked_and_empty_image_sum_is_zero(cls):
    with pytest.raises(ValueError, match="reduction must be one of"):
        cls(reduction='sum')
    c = 3 if cls is not MaskedL1Loss else 1
    pred = torch.randn(2, c, 2, 2, requires_grad=True)
    target = (torch.full((2, 1, 2, 2), -1, dtype=torch.long)
              if cls is CrossEntropyLoss else torch.zeros(2, c, 2, 2))
    loss = cls(reduction='image_sum')(pred, target)
    assert loss.item() == 0.0 and loss.requires_grad
