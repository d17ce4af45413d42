"""mmseg's HRNet with the W18 ``extra`` has the parameter count of HRNetV2-W18.

The expectation is counted here independently, layer by layer, from the
architecture of Wang et al. (TPAMI 2020): a stem of two stride-2 3x3 convs
(64 ch), stage 1 of 4 bottlenecks (64 -> 256), then stages of 1 / 4 / 3
modules with 2 / 3 / 4 branches (18, 36, 72, 144 ch), 4 basic blocks per
branch, full multi-resolution fusion after every module, and transition
convs opening each new branch. Convs have no bias; BatchNorm has 2
parameters per channel. It comes to 9,562,260 (the "9.6M" quoted for the
W18 backbone).
"""
import mtpsl  # noqa: F401
from mtpsl.registry import MODELS

CH = (18, 36, 72, 144)
EXTRA = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                num_blocks=(4, ), num_channels=(64, )),
    stage2=dict(num_modules=1, num_branches=2, block='BASIC',
                num_blocks=(4, 4), num_channels=CH[:2]),
    stage3=dict(num_modules=4, num_branches=3, block='BASIC',
                num_blocks=(4, 4, 4), num_channels=CH[:3]),
    stage4=dict(num_modules=3, num_branches=4, block='BASIC',
                num_blocks=(4, 4, 4, 4), num_channels=CH))


def conv(k, c_in, c_out):
    return k * k * c_in * c_out


def bn(c):
    return 2 * c


def bottleneck(c_in):
    n = conv(1, c_in, 64) + bn(64) + conv(3, 64, 64) + bn(64) + \
        conv(1, 64, 256) + bn(256)
    if c_in != 256:
        n += conv(1, c_in, 256) + bn(256)
    return n


def hr_module(chs):
    n = sum(4 * 2 * (conv(3, c, c) + bn(c)) for c in chs)
    for i, ci in enumerate(chs):
        for j, cj in enumerate(chs):
            if j > i:
                n += conv(1, cj, ci) + bn(ci)
            elif j < i:
                n += (i - j - 1) * (conv(3, cj, cj) + bn(cj))
                n += conv(3, cj, ci) + bn(ci)
    return n


def transition(pre, cur):
    n = 0
    for i, c in enumerate(cur):
        if i < len(pre):
            if pre[i] != c:
                n += conv(3, pre[i], c) + bn(c)
        else:
            n += conv(3, pre[-1], c) + bn(c)
    return n


def expected_hrnet18_params():
    n = conv(3, 3, 64) + bn(64) + conv(3, 64, 64) + bn(64)
    n += bottleneck(64) + 3 * bottleneck(256)
    n += transition([256], CH[:2]) + hr_module(CH[:2])
    n += transition(CH[:2], CH[:3]) + 4 * hr_module(CH[:3])
    n += transition(CH[:3], CH) + 3 * hr_module(CH)
    return n


def test_hrnet_w18_parameter_count():
    expected = expected_hrnet18_params()
    assert expected == 9_562_260
    backbone = MODELS.build(dict(type='mmseg.HRNet', extra=EXTRA))
    assert sum(p.numel() for p in backbone.parameters()) == expected
