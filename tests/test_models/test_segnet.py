"""SegNet backbone and heads: parameter count of the release, shapes, init."""
import pytest
import torch
import torch.nn as nn

import mtpsl  # noqa: F401
from mtpsl.apis import load_config
from mtpsl.registry import MODELS

MODEL_CFG = 'configs/_base_/models/segnet_mtl.py'
NARROW = (8, 8, 16, 16, 16)


def _model_cfg(balancer: dict, widths=None) -> dict:
    cfg = load_config(MODEL_CFG).model.to_dict()
    cfg['balancer'] = balancer
    if widths is not None:
        cfg['backbone']['widths'] = widths
        for head in cfg['heads'].values():
            head['in_channels'] = widths[0]
    return cfg


def _conv_bn(c_in: int, c_out: int) -> int:
    # 3x3 conv weights + bias, BN weight + bias.
    return 9 * c_in * c_out + c_out + 2 * c_out


def _segnet_mtl_params(widths, num_classes=13, balancer_params=3) -> int:
    """Independent count of SegNet + 3 SegNet heads (+ log-variances)."""
    f = list(widths)
    total = 0
    for i in range(5):
        extra = 1 if i < 2 else 2
        c_in = 3 if i == 0 else f[i - 1]
        total += _conv_bn(c_in, f[i]) + extra * _conv_bn(f[i], f[i])
        c_out = f[0] if i == 0 else f[i - 1]
        total += _conv_bn(f[i], c_out) + extra * _conv_bn(c_out, c_out)
    for out in (num_classes, 1, 3):
        total += 9 * f[0] * f[0] + f[0] + f[0] * out + out
    return total + balancer_params


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_param_count_matches_release_with_uncertainty():
    model = MODELS.build(_model_cfg(dict(type='UncertaintyWeighting')))
    assert _segnet_mtl_params((64, 128, 256, 512, 512)) == 25_055_188
    assert _count(model) == 25_055_188
    assert _count(model.balancer) == 3


def test_param_count_with_fixed_weights():
    model = MODELS.build(_model_cfg(dict(type='FixedWeights')))
    assert _count(model) == 25_055_185
    assert _count(model.balancer) == 0


def test_narrow_param_count_matches_formula():
    model = MODELS.build(_model_cfg(dict(type='FixedWeights'), NARROW))
    assert _count(model) == _segnet_mtl_params(NARROW, balancer_params=0)


@pytest.mark.parametrize('hw', [(64, 96), (50, 70), (33, 47)])
def test_forward_full_resolution(hw):
    torch.manual_seed(0)
    model = MODELS.build(_model_cfg(dict(type='FixedWeights'), NARROW))
    model.init_weights()
    model.eval()
    x = torch.randn(2, 3, *hw)
    with torch.no_grad():
        bottleneck, dec = model.backbone(x)
        out = model._forward(x)
    assert dec.shape == (2, NARROW[0], *hw)
    # Five floor-halvings of the input size.
    h, w = hw
    for _ in range(5):
        h, w = h // 2, w // 2
    assert bottleneck.shape == (2, NARROW[4], h, w)
    assert set(out) == {'sem_seg', 'depth', 'normal'}
    assert out['sem_seg'].shape == (2, 13, *hw)
    assert out['depth'].shape == (2, 1, *hw)
    assert out['normal'].shape == (2, 3, *hw)
    norms = out['normal'].norm(dim=1)
    torch.testing.assert_close(norms, torch.ones_like(norms), rtol=0,
                               atol=1e-5)


def test_weight_init():
    model = MODELS.build(_model_cfg(dict(type='FixedWeights'), NARROW))
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.constant_(m.bias, 0.3)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 0.3)
            nn.init.constant_(m.bias, 0.3)
    model.init_weights()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    # 13 + 13 conv-bn units in the SegNet, 2 convs per head.
    assert len(convs) == 26 + 6 and len(bns) == 26
    for m in convs:
        assert torch.all(m.bias == 0)
        assert m.weight.std() > 0
    for m in bns:
        assert torch.all(m.weight == 1) and torch.all(m.bias == 0)


def test_segnet_rejects_bad_widths():
    with pytest.raises(ValueError, match='5 positive widths'):
        MODELS.build(dict(type='SegNet', widths=(8, 8, 16, 16)))
    with pytest.raises(ValueError, match='5 positive widths'):
        MODELS.build(dict(type='SegNet', widths=(8, 8, 0, 16, 16)))


def test_head_needs_classes_and_loss():
    with pytest.raises(ValueError, match='num_classes'):
        MODELS.build(dict(type='SegNetTaskHead', task='sem_seg',
                          in_channels=8,
                          loss=dict(type='CrossEntropyLoss')))
    with pytest.raises(ValueError, match='no loss'):
        MODELS.build(dict(type='SegNetTaskHead', task='depth', in_channels=8))
