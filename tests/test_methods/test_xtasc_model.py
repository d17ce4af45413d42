"""XTasC-Net in the model: parameter counts of the release, the groups
weighted as a whole by the balancer, never run at inference."""
import copy
import math
import os.path as osp
import sys

import pytest
import torch
import torch.nn.functional as F
from conftest import REPO

import mtpsl  # noqa: F401
from mtpsl.apis.config import load_config
from mtpsl.registry import MODELS
from mtpsl.structures import MultiTaskDataSample

TASKS = ('sem_seg', 'depth')
TAPS = (4, 4, 8, 16, 32)
CFG_DIR = osp.join(REPO, 'configs', 'xtasc')


def _count(model, prefix=''):
    """Parameters of the network, the balancer's log-variances left out
    (the release counts them apart)."""
    return sum(p.numel() for k, p in model.named_parameters()
               if k.startswith(prefix) and not k.startswith('balancer.'))


def _model_of(name, **backbone):
    cfg = load_config(osp.join(CFG_DIR, name)).model
    if backbone:
        taps = backbone.pop('taps')
        cfg.backbone.update(backbone)
        for head in cfg.heads.values():
            head.in_channels = taps
    return MODELS.build(cfg)


@pytest.mark.parametrize('name,backbone,expected', [
    ('xtasc_resnet34-unet_1xb8-93k_cityscapes-full-128x256.py', {},
     31_553_344),
    ('mtl_resnet34-unet_1xb8-93k_cityscapes-full-128x256.py', {},
     27_785_280),
    ('xtasc_resnet34-unet_1xb6-13k_nyuv2-full-288x384.py', {}, 31_557_952),
    ('xtasc_resnet34-unet_1xb8-93k_cityscapes-full-128x256.py',
     dict(depth=18, taps=(64, 64, 128, 256, 512)), 21_445_184),
    ('xtasc_resnet34-unet_1xb8-93k_cityscapes-full-128x256.py',
     dict(depth=50, taps=(64, 256, 512, 1024, 2048)), 40_412_224),
])
def test_parameter_counts_of_the_release(name, backbone, expected):
    model = _model_of(name, **backbone)
    assert _count(model) == expected
    if model.methods:
        # both TTNets: 3,768,064 at 7 classes, 3,771,904 at 13
        ttnets = _count(model, 'methods.')
        assert ttnets == {7: 3_768_064, 13: 3_771_904}[
            model.methods.xtasc.num_classes]


def _cfg(methods=None, balancer=None, direct_weight=0.75):
    head = dict(type='UNetDecoderHead', in_channels=TAPS, channels=8,
                conv_bias=True, cls_bias=False, xavier_init=True)
    return dict(
        type='MultiTaskModel',
        data_preprocessor=dict(type='MultiTaskDataPreprocessor',
                               size_divisor=32),
        backbone=dict(type='ResNetWithStem', depth=18, stem_channels=4,
                      base_channels=4),
        heads=dict(
            sem_seg=dict(head, num_classes=3, loss=dict(
                type='CrossEntropyLoss', loss_weight=direct_weight)),
            depth=dict(head, loss=dict(type='MaskedL1Loss',
                                       loss_weight=direct_weight))),
        balancer=balancer or dict(type='UncertaintyWeighting',
                                  init_log_var=0.3, reg_weight=1.0),
        methods=methods)


def _xtasc(**kw):
    cfg = dict(type='XTasC', num_classes=3, loss_weight=0.25,
               down_channels=(4, 8, 8), up_channels=(8, 4, 4))
    cfg.update(kw)
    return cfg


def _sample(h, w, labelled, seed):
    g = torch.Generator().manual_seed(seed)
    s = MultiTaskDataSample(metainfo=dict(
        label_flags={t: t in labelled for t in TASKS}, img_shape=(h, w),
        ori_shape=(h, w), tasks=TASKS))
    gts = dict(sem_seg=torch.randint(-1, 3, (1, h, w), generator=g),
               depth=torch.rand(1, h, w, generator=g) + 0.5)
    for t in labelled:
        s.set_gt(t, gts[t])
    return s


def _data(h=32, w=40):
    g = torch.Generator().manual_seed(1)
    return dict(inputs=[torch.rand(3, h, w, generator=g) for _ in range(2)],
                data_samples=[_sample(h, w, ['sem_seg', 'depth'], 10),
                              _sample(h, w, ['sem_seg'], 11)])


def _build(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_each_group_is_weighted_as_a_whole_by_uncertainty():
    model = _build(_cfg([_xtasc()]))
    model.train()
    data = model.data_preprocessor(_data(), training=True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'sem_seg.loss_ce', 'sem_seg.loss_xtasc',
                           'sem_seg.loss_uncertainty', 'depth.loss_l1',
                           'depth.loss_xtasc', 'depth.loss_uncertainty'}
    # the same forward again (train-mode BN: same outputs), the terms
    # computed here from the predictions by hand
    with torch.no_grad():
        out = model.forward_tasks(data['inputs'])
        # the batch is padded from 32 x 40 to 32 x 64: the terms count the
        # images' own pixels only
        seg = out['sem_seg'].pred[..., :32, :40]
        depth = out['depth'].pred[..., :32, :40]
        assert out['depth'].pred.shape[-1] == 64
        xt = model.methods.xtasc
        to_depth, to_seg = xt.transfer(out['sem_seg'].pred,
                                       out['depth'].pred)
        to_depth, to_seg = to_depth[..., :32, :40], to_seg[..., :32, :40]
        gt_seg = torch.stack([s.gt('sem_seg') for s in data['data_samples']])
        ce = F.cross_entropy(seg, gt_seg[:, 0, :32, :40].long(),
                             ignore_index=-1)
        gt_d = data['data_samples'][0].gt('depth')[None, :, :32, :40]
        l1 = (depth[:1] - gt_d).abs().mean()   # all GT depth > 0.5
        # seg group: image 0 under its GT mask (all valid), image 1 (no
        # depth GT) where the detached depth prediction is > 0
        per_image = [(to_depth[0] - depth[0]).abs().mean()]
        pos = depth[1] > 0
        if pos.any():
            per_image.append((to_depth[1] - depth[1]).abs()[pos].mean())
        d_term = torch.stack(per_image).mean()
        s_term = F.cross_entropy(to_seg, seg.argmax(1))
    w = 0.5 * math.exp(-0.3)
    for key, value in (('sem_seg.loss_ce', 0.75 * ce),
                       ('sem_seg.loss_xtasc', 0.25 * d_term),
                       ('depth.loss_l1', 0.75 * l1),
                       ('depth.loss_xtasc', 0.25 * s_term)):
        assert losses[key].item() == pytest.approx(w * value.item(),
                                                   rel=1e-5), key
    assert losses['sem_seg.loss_uncertainty'].item() == pytest.approx(0.3)
    # d L / d s_seg = -(the whole weighted seg group) + 1 (release form)
    sum(losses.values()).backward()
    group = losses['sem_seg.loss_ce'] + losses['sem_seg.loss_xtasc']
    assert model.balancer.log_vars.grad[0].item() == pytest.approx(
        1.0 - group.item(), rel=1e-5)


def test_lambda_zero_is_the_base_mt_net():
    xt = _build(_cfg([_xtasc(loss_weight=0.0)], direct_weight=1.0))
    mt = _build(_cfg(direct_weight=1.0))
    mt.load_state_dict({k: v for k, v in xt.state_dict().items()
                        if not k.startswith('methods.')})
    grads = []
    for model in (xt, mt):
        model.train()
        data = model.data_preprocessor(_data(), training=True)
        losses = model(**data, mode='loss')
        sum(losses.values()).backward()
        grads.append({k: p.grad.clone() for k, p in model.named_parameters()
                      if not k.startswith('methods.')})
        if model is xt:
            assert losses['sem_seg.loss_xtasc'].item() == 0.0
            assert losses['depth.loss_xtasc'].item() == 0.0
    assert grads[0].keys() == grads[1].keys()
    for key in grads[0]:
        assert torch.allclose(grads[0][key], grads[1][key], atol=1e-7), key


def test_gradnorm_sees_the_groups_through_the_task_terms():
    model = _build(_cfg([_xtasc()], balancer=dict(type='GradNorm',
                                                  alpha=0.16)))
    model.train()
    data = model.data_preprocessor(_data(), training=True)
    losses = model(**data, mode='loss')
    assert {'sem_seg.loss_xtasc', 'depth.loss_xtasc',
            'sem_seg.loss_gradnorm', 'depth.loss_gradnorm'} <= set(losses)
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert model.balancer.weights.grad is not None
    assert all(p.grad is not None for p in model.methods.parameters())


def test_trained_with_xtasc_predicts_like_base_mt_net(tmp_path):
    xt = _build(_cfg([_xtasc()]))
    optim = torch.optim.Adam(xt.parameters(), lr=1e-2)
    xt.train()
    data = xt.data_preprocessor(_data(), training=True)
    sum(xt(**data, mode='loss').values()).backward()
    optim.step()
    # the TTNets are dropped from the export: a plain state dict
    sys.path.insert(0, osp.join(REPO, 'tools'))
    from publish_model import publish
    ckpt = tmp_path / 'iter_1.pth'
    torch.save(dict(state_dict=xt.state_dict()), ckpt)
    state = torch.load(publish(str(ckpt), str(tmp_path / 'pub'), 'xtasc',
                               drop_prefix=['methods.']), weights_only=True)
    plain = _build(_cfg())
    assert set(state) == set(plain.state_dict())
    plain.load_state_dict(state, strict=True)
    calls = []
    for net in (xt.methods.xtasc.seg_to_depth, xt.methods.xtasc.depth_to_seg):
        net.register_forward_hook(lambda *a: calls.append(1))
    xt.eval()
    plain.eval()
    test = xt.data_preprocessor(_data(), training=False)
    with torch.no_grad():
        raw_a = xt(test['inputs'], mode='tensor')
        raw_b = plain(test['inputs'], mode='tensor')
        pred_a = xt(**copy.deepcopy(test), mode='predict')
        pred_b = plain(**copy.deepcopy(test), mode='predict')
    assert not calls   # never at inference
    for t in TASKS:
        assert torch.equal(raw_a[t], raw_b[t])
        for sa, sb in zip(pred_a, pred_b):
            assert torch.equal(sa.pred(t), sb.pred(t))


def test_unet_head_release_options():
    from mtpsl.models.heads import UNetDecoderHead
    kw = dict(task='sem_seg', num_classes=7, in_channels=TAPS, channels=8,
              loss=dict(type='CrossEntropyLoss'))
    plain = UNetDecoderHead(**kw)
    release = UNetDecoderHead(conv_bias=True, cls_bias=False,
                              xavier_init=True, **kw)
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    # + a bias per block conv (5 blocks x 3 convs x 8), - the 7 cls biases
    assert n(release) - n(plain) == 5 * 3 * 8 - 7
    assert release.cls.bias is None
    release.init_weights()
    plain.init_weights()   # the Kaiming default still runs
    conv = release.blocks[1][0][0]
    fan_in, fan_out = conv.in_channels * 9, conv.out_channels * 9
    std = math.sqrt(2.0 / (fan_in + fan_out))
    assert conv.weight.std().item() == pytest.approx(std, rel=0.15)
    assert torch.count_nonzero(conv.bias) == 0
