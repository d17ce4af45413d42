# CCR (Yang, Ye, Xu, AAAI 2023) on NYUv2, fully labelled, as the paper:
# HRNet-18 + shared FPN, one Semantic-FPN decoder per task (the 'MT
# Baseline' next door), plus the cross-task contrastive regularisation on
# the decoder features (128 channels at 1/4: 72x96 at 288x384).
# Defaults of the paper: m 0.2, gamma 0.01, k 128, 16 negatives, lambda 1.0,
# Ts-shared projectors, semi-hard sampling, CTS (configs/ccr/README.md).
_base_ = ['../baseline/mtl_hrnet18-fpn_2xb2-40k_nyuv2-full-288x384.py']
model = dict(methods=[dict(type='CCR', feat_channels=128)])
# lambda_ctr ramped up linearly over the first 5 epochs (795 images / 4)
custom_hooks = [dict(type='LossRampUpHook', target='methods.ccr.loss_weight',
                     schedule='linear', begin=0, end=1000)]
