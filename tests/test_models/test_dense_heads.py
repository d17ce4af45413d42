"""Decoder heads on mmseg encoders: shapes at the input size (odd sizes),
the U-Net decoder's structure, ASPP's batch-of-one guard, the FPN neck."""
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

import mtpsl  # noqa: F401
from mtpsl.registry import MODELS

HRNET18_EXTRA = Config.fromfile(osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'configs', '_base_', 'models', 'hrnet18.py')).hrnet18_extra
NUM_CLASSES = 5


def _heads(make):
    """sem_seg / depth / normal heads from ``make(**task kwargs)``."""
    return dict(
        sem_seg=make(num_classes=NUM_CLASSES,
                     loss=dict(type='CrossEntropyLoss')),
        depth=make(loss=dict(type='MaskedL1Loss')),
        normal=make(loss=dict(type='CosineSimilarityLoss')))


COMBOS = {
    'resnet18-conv': dict(
        backbone=dict(type='mmseg.ResNetV1c', depth=18),
        heads=_heads(lambda **k: dict(type='ConvTaskHead', in_channels=512,
                                      channels=32, num_convs=2, **k))),
    'resnet18-aspp-os8': dict(
        backbone=dict(type='mmseg.ResNetV1c', depth=18,
                      dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1)),
        heads=_heads(lambda **k: dict(type='ASPPTaskHead', in_channels=512,
                                      channels=16, **k))),
    'resnet50-aspp': dict(
        backbone=dict(type='mmseg.ResNetV1c', depth=50),
        heads=_heads(lambda **k: dict(type='ASPPTaskHead', in_channels=2048,
                                      channels=16, dilations=(1, 6), **k))),
    'resnet34-unet': dict(
        backbone=dict(type='ResNetWithStem', depth=34),
        # narrow decoder here: the paper's 128 channels are checked below
        heads=_heads(lambda **k: dict(type='UNetDecoderHead',
                                      in_channels=(64, 64, 128, 256, 512),
                                      channels=16, **k))),
    'hrnet18-concat': dict(
        backbone=dict(type='mmseg.HRNet', extra=HRNET18_EXTRA),
        heads=_heads(lambda **k: dict(type='ConvTaskHead',
                                      in_channels=[18, 36, 72, 144],
                                      in_index=[0, 1, 2, 3], channels=32,
                                      **k))),
    'hrnet18-fpn': dict(
        backbone=dict(type='mmseg.HRNet', extra=HRNET18_EXTRA),
        neck=dict(type='mmseg.FPN', in_channels=[18, 36, 72, 144],
                  out_channels=32, num_outs=4),
        heads=_heads(lambda **k: dict(type='SemanticFPNTaskHead',
                                      in_channels=32, channels=16, **k))),
}


def _model(combo):
    # torch's default init: shapes do not depend on it, and MMEngine's
    # init report of a full HRNet costs seconds
    torch.manual_seed(0)
    return MODELS.build(dict(type='MultiTaskModel', **COMBOS[combo]))


@pytest.mark.parametrize('combo', sorted(COMBOS))
def test_predictions_at_input_size_odd(combo):
    model = _model(combo)
    x = torch.rand(2, 3, 21, 29)
    outs = model.forward_tasks(x)
    assert outs['sem_seg'].pred.shape == (2, NUM_CLASSES, 21, 29)
    assert outs['depth'].pred.shape == (2, 1, 21, 29)
    assert outs['normal'].pred.shape == (2, 3, 21, 29)
    norms = outs['normal'].pred.norm(dim=1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-4)
    for out in outs.values():
        assert out.feat.dim() == 4 and out.feat.shape[0] == 2
    # a training step reaches the encoder
    total = sum(o.pred.mean() for o in outs.values())
    total.backward()
    first = next(model.backbone.parameters())
    assert first.grad is not None and torch.isfinite(first.grad).all()


def test_unet_decoder_structure():
    head = MODELS.build(dict(type='UNetDecoderHead', task='depth',
                             loss=dict(type='MaskedL1Loss')))
    assert len(head.blocks) == 5
    in_ch = [512, 128 + 256, 128 + 128, 128 + 64, 128 + 64]
    for block, c_in in zip(head.blocks, in_ch):
        layers = list(block)
        assert len(layers) == 3
        for j, layer in enumerate(layers):
            conv, bn, act = layer
            assert isinstance(conv, nn.Conv2d) and conv.kernel_size == (3, 3)
            assert conv.in_channels == (c_in if j == 0 else 128)
            assert conv.out_channels == 128
            assert isinstance(bn, nn.BatchNorm2d)
            assert isinstance(act, nn.ReLU)
    assert head.cls.kernel_size == (1, 1) and head.cls.out_channels == 1
    # stride-2 .. stride-32 maps -> a stride-1 feature
    feats = [torch.rand(1, c, 40 // s, 64 // s) for c, s in
             zip((64, 64, 128, 256, 512), (2, 4, 8, 16, 32))]
    out = head(feats)
    feat, pred = out.feat, out.pred
    assert out.stride == 1 and out.logits.shape == pred.shape
    assert feat.shape == (1, 128, 40, 64) and pred.shape == (1, 1, 40, 64)


def test_resnet_with_stem_outputs():
    backbone = MODELS.build(dict(type='ResNetWithStem', depth=18))
    outs = backbone(torch.rand(1, 3, 64, 96))
    assert [tuple(o.shape[1:]) for o in outs] == [
        (64, 32, 48), (64, 16, 24), (128, 8, 12), (256, 4, 6), (512, 2, 3)]


def test_aspp_batch_of_one_guard():
    cfg = dict(type='ASPPTaskHead', task='depth', in_channels=8, channels=4,
               dilations=(1, 2), loss=dict(type='MaskedL1Loss'))
    head = MODELS.build(cfg)
    x = [torch.rand(1, 8, 5, 7)]
    with pytest.raises(ValueError, match='image_pool_norm=False'):
        head(x)
    head.eval()
    assert head(x).pred.shape == (1, 1, 5, 7)
    head = MODELS.build(dict(cfg, image_pool_norm=False))
    assert head(x).pred.shape == (1, 1, 5, 7)
    assert head(x).feat.shape == (1, 4, 5, 7)


def test_head_init_weights():
    head = MODELS.build(dict(type='ConvTaskHead', task='sem_seg',
                             in_channels=4, channels=8, num_classes=3,
                             loss=dict(type='CrossEntropyLoss')))
    head.init_weights()
    assert torch.all(head.cls.bias == 0)
    assert 0 < head.cls.weight.std().item() < 0.05
    bn = head.convs[0][1]
    assert torch.all(bn.weight == 1) and torch.all(bn.bias == 0)


def test_head_config_errors():
    with pytest.raises(ValueError, match='in_channels'):
        MODELS.build(dict(type='ConvTaskHead', task='depth',
                          in_channels=[4, 8], in_index=[0, 1, 2],
                          loss=dict(type='MaskedL1Loss')))
    with pytest.raises(ValueError, match='no loss'):
        MODELS.build(dict(type='ConvTaskHead', task='depth', in_channels=4))
    with pytest.raises(ValueError, match='feature_strides'):
        MODELS.build(dict(type='SemanticFPNTaskHead', task='depth',
                          feature_strides=(4, 8), in_index=(0, 1, 2),
                          loss=dict(type='MaskedL1Loss')))


def test_pretrained_is_a_config_path(tmp_path):
    """init_cfg Pretrained loads a user's checkpoint; nothing downloaded."""
    src = MODELS.build(dict(type='mmseg.ResNetV1c', depth=18))
    path = str(tmp_path / 'r18.pth')
    torch.save(src.state_dict(), path)
    dst = MODELS.build(dict(type='ResNetWithStem', depth=18, deep_stem=True,
                            init_cfg=dict(type='Pretrained',
                                          checkpoint=path)))
    dst.init_weights()
    for k, v in src.state_dict().items():
        assert torch.equal(v, dst.state_dict()[k]), k
