# mmseg's HRNetV2-W18 stage layout (the encoder of CCR's baseline);
# used as extra={{_base_.hrnet18_extra}} in configs, and read by
# tools/analysis/complexity.py and the tests.
hrnet18_extra = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                num_blocks=(4, ), num_channels=(64, )),
    stage2=dict(num_modules=1, num_branches=2, block='BASIC',
                num_blocks=(4, 4), num_channels=(18, 36)),
    stage3=dict(num_modules=4, num_branches=3, block='BASIC',
                num_blocks=(4, 4, 4), num_channels=(18, 36, 72)),
    stage4=dict(num_modules=3, num_branches=4, block='BASIC',
                num_blocks=(4, 4, 4, 4), num_channels=(18, 36, 72, 144)))
