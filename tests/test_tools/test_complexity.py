"""tools/analysis/complexity.py: parameters and FLOPs against hand counts."""
import pytest
import torch
import torch.nn as nn

from conftest import tiny_train_config
from tools.analysis.complexity import (build_model, count_flops,
                                       count_parameters, main as complexity)

NUM_CLASSES = 13  # the tiny config keeps the demo's 13 classes


def _conv(cin, cout, k=3, bn=True):
    """Parameters of a conv with bias (+ BN weight and bias)."""
    return k * k * cin * cout + cout + (2 * cout if bn else 0)


def segnet_mtl_params(widths, num_classes=NUM_CLASSES):
    """SegNet MTL parameters, written from the architecture description:
    five encoder/decoder stages of 2, 2, 3, 3, 3 conv-BN-ReLU layers, and a
    3x3 + 1x1 conv head per task (13 classes, depth 1, normal 3)."""
    f = widths
    total = 0
    for i in range(5):
        extra = 1 if i < 2 else 2
        total += _conv(3 if i == 0 else f[i - 1], f[i]) + extra * _conv(
            f[i], f[i])
        out = f[0] if i == 0 else f[i - 1]
        total += _conv(f[i], out) + extra * _conv(out, out)
    for channels in (num_classes, 1, 3):
        total += _conv(f[0], f[0], bn=False) + _conv(f[0], channels, 1,
                                                     bn=False)
    return total


def segnet_mtl_flops(widths, h, w, num_classes=NUM_CLASSES):
    """MMEngine's count by hand: conv MACs plus 2 per BN output element."""
    f = widths
    total = 0
    for i in range(5):
        hw = (h >> i) * (w >> i)
        extra = 1 if i < 2 else 2
        for cin, cout in [(3 if i == 0 else f[i - 1], f[i])] + \
                [(f[i], f[i])] * extra:
            total += hw * (9 * cin * cout + 2 * cout)
        out = f[0] if i == 0 else f[i - 1]
        for cin, cout in [(f[i], out)] + [(out, out)] * extra:
            total += hw * (9 * cin * cout + 2 * cout)
    for channels in (num_classes, 1, 3):
        total += h * w * (9 * f[0] * f[0] + f[0] * channels)
    return total


def test_formula_gives_the_published_count():
    # 25,055,188 in the MTPSL release, which adds the 3 log-variances of
    # its uncertainty weighting; our baseline config uses fixed weights
    assert segnet_mtl_params((64, 128, 256, 512, 512)) + 3 == 25_055_188


@pytest.fixture(scope='module')
def tiny_config(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('complexity')
    return tiny_train_config(str(tmp / 'no_data'), str(tmp / 'work'))


def test_parameters_of_a_narrow_segnet(tiny_config):
    model = build_model(tiny_config)
    assert count_parameters(model) == segnet_mtl_params((4, 8, 8, 8, 8))


def test_flops_of_one_conv_are_its_macs():
    conv = nn.Conv2d(3, 8, 3, padding=1)
    flops = count_flops(conv, torch.rand(1, 3, 10, 12))
    assert flops['total'] == 8 * 10 * 12 * 3 * 9  # bias not counted
    strided = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
    assert count_flops(strided, torch.rand(2, 3, 10, 12))['total'] == \
        2 * 8 * 5 * 6 * 3 * 9  # per batch: a batch of 2 counts twice


def test_flops_of_a_narrow_segnet(tiny_config):
    model = build_model(tiny_config)
    flops = count_flops(model, torch.rand(1, 3, 32, 64))
    assert flops['total'] == segnet_mtl_flops((4, 8, 8, 8, 8), 32, 64)
    assert set(flops['by_operator']) == {'conv', 'batch_norm'}
    assert set(flops['by_module']) >= {'backbone', 'heads', 'heads.depth'}
    # unpooling is not counted by MMEngine's rules
    assert any('unpool' in op for op in flops['unsupported'])


@pytest.mark.slow  # a child process trains
def test_tool_end_to_end(tiny_config, capsys):
    report = complexity([tiny_config, '--shape', '32', '32', '--batch', '2',
                         '--steps', '2', '--warmup', '0', '--device', 'cpu'])
    assert report['params'] == segnet_mtl_params((4, 8, 8, 8, 8))
    assert report['flops']['total'] == segnet_mtl_flops((4, 8, 8, 8, 8),
                                                        32, 32)
    train = report['train']
    assert len(train['times']) == 2 and min(train['times']) > 0
    assert train['peak_rss_mib'] >= train['rss_before_mib'] > 0
    out = capsys.readouterr().out
    assert '| model | input | params |' in out and 'peak RSS' in out


def test_hrnet18_backbone_only_mode(tiny_config):
    model = build_model(tiny_config, backbone_only='hrnet18')
    # HRNetV2-W18 backbone (tests/test_models/test_hrnet18_params.py counts
    # it layer by layer) + per task a 1x1 conv 270 -> 270 and a classifier
    heads = sum(270 * 270 + 270 + 270 * c + c for c in (NUM_CLASSES, 1, 3))
    assert count_parameters(model) == 9_562_260 + heads
    flops = count_flops(model, torch.rand(1, 3, 32, 32))
    # bilinear upsampling is counted (4 per output element)
    assert flops['by_operator']['upsample_bilinear2d'] > 0
    assert flops['by_module']['heads'] > 0
