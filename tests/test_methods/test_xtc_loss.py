"""XTC: golden values of the consistency loss, the input encodings, the pair
selection, and where its gradient goes."""
import math

import pytest
import torch

import mtpsl  # noqa: F401
from mtpsl.models.methods import MethodBundle, ViewBundle
from mtpsl.models.methods.toolkit import (consistency_pairs,
                                          cosine_distance, encode_prediction,
                                          encode_target,
                                          labelled_unlabelled_pairs)
from mtpsl.models.methods.xtc import XTC
from mtpsl.registry import MODELS


def test_cosine_distance_by_hand():
    # 1 x 2 x 1 x 2: pixel 0 a=(1,0) b=(1,1): cos = 1/sqrt(2);
    # pixel 1 a=(0,1) b=(0,2): cos = 1. Mean of (1 - cos) over the 2 pixels.
    a = torch.tensor([[[[1., 0.]], [[0., 1.]]]])
    b = torch.tensor([[[[1., 0.]], [[1., 2.]]]])
    expected = ((1 - 1 / math.sqrt(2)) + 0.0) / 2  # 0.14644660940672627
    assert cosine_distance(a, b).item() == pytest.approx(expected, abs=1e-6)
    assert cosine_distance(a, a).item() == pytest.approx(0.0, abs=1e-6)
    assert cosine_distance(a, -a).item() == pytest.approx(2.0, abs=1e-6)


def test_encode_semantic_target_one_hot_ignored_zero():
    gt = torch.tensor([[[[0, 2], [-1, 1]]]])
    enc = encode_target('sem_seg', gt, num_classes=3)
    assert enc.shape == (1, 3, 2, 2)
    assert enc[0, :, 0, 0].tolist() == [1, 0, 0]
    assert enc[0, :, 0, 1].tolist() == [0, 0, 1]
    assert enc[0, :, 1, 0].tolist() == [0, 0, 0]  # ignored pixel
    assert enc[0, :, 1, 1].tolist() == [0, 1, 0]


def test_encode_depth_by_per_image_max():
    gt = torch.tensor([[[[2., 4.]]], [[[0., 1.]]]])
    enc = encode_target('depth', gt)
    assert enc[0].flatten().tolist() == [0.5, 1.0]
    assert enc[1].flatten().tolist() == [0.0, 1.0]
    pred = torch.tensor([[[[1., 3.]]]])
    enc = encode_prediction('depth', pred)
    assert enc.flatten().tolist() == pytest.approx([1 / 3, 1.0])


def test_encode_normals_shifted_invalid_half_or_zero():
    # pixel 1 is invalid (an all-zero normal): 0.5 as the release, or 0
    gt = torch.tensor([[[[1., 0.]], [[0., 0.]], [[0., 0.]]]])
    enc = encode_target('normal', gt)
    assert enc[0, :, 0, 0].tolist() == [1.0, 0.5, 0.5]
    assert enc[0, :, 0, 1].tolist() == [0.5, 0.5, 0.5]
    enc = encode_target('normal', gt, normal_invalid=0.0)
    assert enc[0, :, 0, 0].tolist() == [1.0, 0.5, 0.5]
    assert enc[0, :, 0, 1].tolist() == [0.0, 0.0, 0.0]
    pred = torch.tensor([[[[-1.]], [[0.]], [[0.]]]])
    assert encode_prediction('normal', pred).flatten().tolist() == [0, .5, .5]


def test_semantic_prediction_is_hard_gumbel_straight_through():
    torch.manual_seed(0)
    logits = torch.tensor([[[[50.]], [[0.]], [[-50.]]]], requires_grad=True)
    enc = encode_prediction('sem_seg', logits)
    assert enc.flatten().tolist() == [1.0, 0.0, 0.0]  # one-hot forward
    (enc * torch.tensor([1., 2., 3.]).view(1, 3, 1, 1)).sum().backward()
    assert logits.grad is not None  # softmax gradient flows back


def test_pairs_only_labelled_to_unlabelled_per_image():
    flags = torch.tensor([[1, 0, 0], [1, 1, 1], [0, 1, 1]], dtype=torch.bool)
    pairs = [(s, t, i.tolist()) for s, t, i in
             labelled_unlabelled_pairs(flags)]
    # image 1 is fully labelled: in no pair
    assert pairs == [(0, 1, [0]), (0, 2, [0]), (1, 0, [2]), (2, 0, [2])]
    assert labelled_unlabelled_pairs(torch.ones(4, 3, dtype=torch.bool)) == []


def test_release_pairs_add_every_pair_of_a_fully_labelled_image():
    flags = torch.tensor([[1, 0, 0], [1, 1, 1], [0, 1, 1]], dtype=torch.bool)
    pairs = [(s, t, i.tolist()) for s, t, i in consistency_pairs(flags)]
    assert pairs == [(0, 1, [0, 1]), (0, 2, [0, 1]), (1, 0, [1, 2]),
                     (1, 2, [1]), (2, 0, [1, 2]), (2, 1, [1])]
    off = [(s, t, i.tolist()) for s, t, i in
           consistency_pairs(flags, full_label_pairs=False)]
    assert off == [(s, t, i.tolist()) for s, t, i in
                   labelled_unlabelled_pairs(flags)]
    assert consistency_pairs(torch.zeros(2, 3, dtype=torch.bool)) == []


class _StubMapper(torch.nn.Module):
    """depth (1 ch) -> (x, x); normal (3 ch) -> its first 2 channels."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def pair_index(self, s, t):
        return 0

    def map_all(self, maps, pair_ids):
        self.calls.append(tuple(m.shape[0] for m, _ in maps))
        return tuple(torch.cat([m, m], 1) if task == 'depth' else m[:, :2]
                     for m, task in maps)

    def map_per_sample(self, maps, pair_ids):
        # the stub maps every pixel on its own: per sample = per map
        assert len(pair_ids) == sum(m.shape[0] for m, _ in maps)
        return self.map_all(maps, pair_ids)


def _view(flags, depth_gt, normal_pred, feat, depth_pred=None,
          normal_gt=None):
    b = flags.shape[0]
    depth_pred = depth_pred if depth_pred is not None else torch.ones(
        b, 1, 1, 2)
    normal_gt = normal_gt if normal_gt is not None else torch.zeros(
        b, 3, 1, 2)
    return ViewBundle(
        inputs=torch.zeros(b, 3, 1, 2), shared_feats=(feat,),
        task_feats={}, preds=dict(depth=depth_pred, normal=normal_pred),
        targets=dict(depth=depth_gt, normal=normal_gt), label_flags=flags)


def test_xtc_loss_golden_values_with_stub_mapper():
    # our earlier aggregation: mean over (image, pair), view 1, no pair on
    # a fully labelled image
    xtc = XTC(tasks=('depth', 'normal'), num_classes={}, feat_channels=2,
              mapper=dict(widths=(2,), convs_per_stage=1), loss_weight=2.0,
              reg_weight=0.5, views=(1,), reduction='mean',
              full_label_pairs=False)
    xtc.mapper = _StubMapper()
    # image 0: depth labelled, normal not -> one pair (depth, normal).
    # image 1: fully labelled -> no pair, does not enter the means.
    flags = torch.tensor([[True, False], [True, True]])
    depth_gt = torch.tensor([[[[2., 4.]]], [[[9., 9.]]]])  # -> 0.5, 1.0
    # normal prediction (1, 0, 0) -> encoded (1, .5, .5) -> mapped (1, .5)
    normal_pred = torch.tensor([[1., 0., 0.]]).view(1, 3, 1, 1).expand(
        2, 3, 1, 2).contiguous()
    feat = torch.tensor([1., 0.]).view(1, 2, 1, 1).expand(2, 2, 1, 2)
    bundle = MethodBundle(tasks=('depth', 'normal'),
                          view1=_view(flags, depth_gt, normal_pred, feat))
    losses = xtc(bundle)
    # mapped depth (.5,.5) and (1,1): both along (1,1); mapped normal (1,.5)
    cos_st = 1.5 / (math.sqrt(2) * math.sqrt(1.25))   # 0.9486833
    cos_sf = 1 / math.sqrt(2)                          # 0.7071068
    cos_tf = 1 / math.sqrt(1.25)                       # 0.8944272
    assert set(losses) == {'xtc.loss_con', 'xtc.loss_reg'}
    assert losses['xtc.loss_con'].item() == pytest.approx(
        2.0 * (1 - cos_st), abs=1e-6)
    assert losses['xtc.loss_reg'].item() == pytest.approx(
        2.0 * 0.5 * ((1 - cos_sf) + (1 - cos_tf)), abs=1e-6)


def test_xtc_fully_labelled_batch_gives_zero_touching_params():
    xtc = XTC(tasks=('depth', 'normal'), num_classes={}, feat_channels=4,
              mapper=dict(widths=(4, 4), convs_per_stage=1), views=(1,),
              full_label_pairs=False)
    flags = torch.ones(2, 2, dtype=torch.bool)
    bundle = MethodBundle(tasks=('depth', 'normal'), view1=_view(
        flags, torch.ones(2, 1, 1, 2), torch.ones(2, 3, 1, 2),
        torch.ones(2, 4, 1, 2)))
    losses = xtc(bundle)
    assert all(v.item() == 0 for v in losses.values())
    sum(losses.values()).backward()
    # every mapper parameter took part (DDP without find_unused_parameters)
    assert all(p.grad is not None for p in xtc.parameters())


def test_gradient_reaches_mapper_and_unlabelled_head_not_targets():
    torch.manual_seed(0)
    tasks = ('sem_seg', 'depth', 'normal')
    xtc = MODELS.build(dict(type='XTC', num_classes=dict(sem_seg=4),
                            feat_channels=8, views=(1,),
                            mapper=dict(widths=(4, 8), convs_per_stage=1)),
                       default_args=dict(tasks=tasks))
    b, h, w = 2, 8, 8
    preds = dict(sem_seg=torch.randn(b, 4, h, w, requires_grad=True),
                 depth=torch.rand(b, 1, h, w, requires_grad=True),
                 normal=torch.nn.functional.normalize(
                     torch.randn(b, 3, h, w), dim=1).requires_grad_())
    targets = dict(sem_seg=torch.randint(-1, 4, (b, 1, h, w)),
                   depth=torch.rand(b, 1, h, w).requires_grad_(),
                   normal=torch.nn.functional.normalize(
                       torch.randn(b, 3, h, w), dim=1))
    image_feat = torch.randn(b, 8, 2, 2, requires_grad=True)
    # image 0: depth only; image 1: depth only -> sem_seg and normal
    # predictions are the unlabelled ones, depth's is never used
    flags = torch.tensor([[False, True, False], [False, True, False]])
    view = ViewBundle(inputs=torch.zeros(b, 3, h, w),
                      shared_feats=(image_feat,), task_feats={},
                      preds=preds, targets=targets, label_flags=flags)
    losses = xtc(MethodBundle(tasks=tasks, view1=view))
    sum(losses.values()).backward()
    assert preds['sem_seg'].grad.abs().sum() > 0
    assert preds['normal'].grad.abs().sum() > 0
    assert preds['depth'].grad is None          # labelled: its GT is used
    assert image_feat.grad is None              # the anchor is detached
    assert targets['depth'].grad is None        # GT is a constant
    mapper_grads = [p.grad for p in xtc.mapper.parameters()]
    assert all(g is not None for g in mapper_grads)
    assert sum(g.abs().sum() for g in mapper_grads) > 0
