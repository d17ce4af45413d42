"""The task-output contract and the optional joint decoding stage."""
import pytest
import torch
import torch.nn as nn

import mtpsl  # noqa: F401
from mtpsl.models.heads import TaskOutput, feature_stride
from mtpsl.models.joint import BaseJointStage
from mtpsl.registry import MODELS
from mtpsl.structures import MultiTaskDataSample

WIDTHS = (4, 8, 8, 8, 8)


def _cfg(**extra):
    heads = dict(
        sem_seg=dict(type='SegNetTaskHead', in_channels=4, num_classes=3,
                     loss=dict(type='CrossEntropyLoss')),
        depth=dict(type='SegNetTaskHead', in_channels=4,
                   loss=dict(type='MaskedL1Loss')))
    return dict(type='MultiTaskModel', backbone=dict(type='SegNet',
                                                     widths=WIDTHS),
                heads=heads, **extra)


def _build(**extra):
    torch.manual_seed(0)
    model = MODELS.build(_cfg(**extra))
    model.init_weights()
    return model


def test_feature_stride():
    assert feature_stride((288, 384), torch.zeros(1, 1, 36, 48)) == 8
    assert isinstance(feature_stride((288, 384), torch.zeros(1, 1, 36, 48)),
                      int)
    assert feature_stride((21, 29), torch.zeros(1, 1, 7, 10)) == 3
    assert feature_stride((21, 29), torch.zeros(1, 1, 2, 3)) == 10.5


def test_head_output_is_typed():
    head = MODELS.build(dict(type='ConvTaskHead', task='normal',
                             in_channels=3, channels=4,
                             loss=dict(type='CosineSimilarityLoss')))
    out = head([torch.rand(2, 3, 4, 6)], (16, 24))
    assert isinstance(out, TaskOutput)
    assert out.feat.shape == (2, 4, 4, 6) and out.stride == 4
    assert out.logits.shape == (2, 3, 4, 6)   # raw, at the head's size
    assert out.pred.shape == (2, 3, 16, 24)   # activated, at input size
    norms = out.pred.norm(dim=1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-5)
    assert out.extras == {}


def test_predict_by_feat_labels_probability_and_crop():
    head = MODELS.build(dict(type='SegNetTaskHead', task='edge',
                             in_channels=2, num_classes=2,
                             loss=dict(type='CrossEntropyLoss')))
    logits = torch.zeros(1, 2, 2, 3)
    logits[0, 1, 0, 0] = 2.0     # class 1 wins at (0, 0)
    logits[0, 0, 1, 2] = 1.0     # class 0 wins at (1, 2): cropped away
    out = TaskOutput(feat=logits, logits=logits, pred=logits)
    res, = head.predict_by_feat(out, [dict(img_shape=(2, 2),
                                           ori_shape=(2, 2))])
    assert res['pred'].tolist() == [[[1, 0], [0, 0]]]
    p = 1 / (1 + torch.exp(torch.tensor(-2.0)))
    assert torch.allclose(res['prob'][0, 0, 0], p)
    assert torch.allclose(res['prob'][0, 1], torch.tensor([0.5, 0.5]))
    # depth has no probability; a 1 x 1 prediction is resized
    head = MODELS.build(dict(type='SegNetTaskHead', task='depth',
                             in_channels=1, loss=dict(type='MaskedL1Loss')))
    one = torch.full((1, 1, 1, 1), 3.0)
    res, = head.predict_by_feat(TaskOutput(one, one, one),
                                [dict(img_shape=(1, 1), ori_shape=(2, 3))])
    assert set(res) == {'pred'} and res['pred'].shape == (1, 2, 3)
    assert torch.all(res['pred'] == 3.0)


def test_no_stage_no_keys():
    model = _build()
    assert model.joint_stage is None
    assert not any(k.startswith('joint_stage') for k in model.state_dict())


def test_mixer_starts_as_the_identity_and_adds_only_its_keys():
    plain = _build()
    mixed = _build(joint_stage=dict(type='TaskFeatureMixer', channels=4))
    extra = set(mixed.state_dict()) - set(plain.state_dict())
    assert extra == {'joint_stage.mix.sem_seg.weight',
                     'joint_stage.mix.depth.weight'}
    assert set(plain.state_dict()) <= set(mixed.state_dict())
    mixed.load_state_dict(plain.state_dict(), strict=False)
    x = torch.rand(2, 3, 32, 32)
    plain.eval(), mixed.eval()
    a, b = plain._forward(x), mixed._forward(x)
    for task in a:
        assert torch.equal(a[task], b[task])


def test_mixer_golden_and_cross_task_gradient():
    """1-channel features: F'_depth = F_depth + 2 F_sem - F_depth."""
    stage = MODELS.build(dict(type='TaskFeatureMixer', channels=1,
                              tasks=('sem_seg', 'depth'), return_mix=True))
    with torch.no_grad():
        stage.mix['depth'].weight.copy_(torch.tensor([2.0, -1.0]).view(
            1, 2, 1, 1))
    sem = torch.tensor([[[[1.0, 2.0]]]], requires_grad=True)
    depth = torch.tensor([[[[5.0, 7.0]]]])
    feats, extras = stage(dict(sem_seg=sem, depth=depth), (), (1, 2))
    assert feats['depth'].flatten().tolist() == [2.0, 4.0]
    assert extras['depth']['mix'].flatten().tolist() == [-3.0, -3.0]
    assert torch.equal(feats['sem_seg'], sem)   # its own mix is still 0
    feats['depth'].sum().backward()
    assert sem.grad.flatten().tolist() == [2.0, 2.0]


class _DropsATask(BaseJointStage):
    def joint(self, task_feats, shared_feats, input_size):
        return {t: v for t, v in list(task_feats.items())[:1]}, {}


class _GivesLogits(BaseJointStage):
    """Replaces the depth logits by the mean shared feature, as a stage
    that refines logits itself would."""

    def joint(self, task_feats, shared_feats, input_size):
        logits = shared_feats[0].mean(dim=1, keepdim=True)
        return dict(task_feats), dict(depth=dict(logits=logits,
                                                 token=logits.sum()))


def test_stage_must_return_every_task():
    MODELS.register_module(module=_DropsATask, force=True)
    model = _build(joint_stage=dict(type='_DropsATask'))
    with pytest.raises(KeyError, match='returned features for'):
        model._forward(torch.rand(1, 3, 32, 32))


def test_stage_logits_and_extras_reach_the_task_output():
    MODELS.register_module(module=_GivesLogits, force=True)
    model = _build(joint_stage=dict(type='_GivesLogits'))
    x = torch.rand(2, 3, 32, 32)
    outs = model.forward_tasks(x)
    shared = model.extract_feat(x)[0]
    assert torch.allclose(outs['depth'].pred,
                          shared.mean(dim=1, keepdim=True))
    assert set(outs['depth'].extras) == {'token'}
    assert outs['sem_seg'].extras == {}


def test_view_bundle_carries_outputs_and_strides():
    from mtpsl.models.multitask_model import make_view_bundle
    model = _build()
    x = torch.rand(2, 3, 32, 32)
    feats = model.extract_feat(x)
    outs = model.forward_heads(feats, x.shape[-2:])
    samples = [MultiTaskDataSample() for _ in range(2)]
    view = make_view_bundle(x, feats, outs, {}, torch.ones(2, 2,
                                                           dtype=bool),
                            samples)
    assert view.strides == dict(sem_seg=1, depth=1)
    # SegNet returns (bottleneck at 1/32, decoder output at 1/1)
    assert view.shared_strides == (32, 1)
    assert view.outputs['depth'] is outs['depth']
    assert torch.equal(view.preds['sem_seg'], outs['sem_seg'].pred)
    assert isinstance(model.heads['depth'].cls, nn.Conv2d)
