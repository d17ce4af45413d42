# CCR on NYUv2, random labels (1..K-1 tasks per image; our extension: the
# paper is fully supervised). See configs/ccr/README.md.
# The published split (data/mtpsl_splits/nyuv2/randomlabels.pth) is used
# with label_regime=dict(type='from_file', path=...).
_base_ = ['../baseline/mtl_hrnet18-fpn_2xb2-40k_nyuv2-full-288x384.py']
train_dataloader = dict(dataset=dict(
    label_regime=dict(type='randomlabels', seed=0)))
model = dict(methods=[dict(type='CCR', feat_channels=128)])
custom_hooks = [dict(type='LossRampUpHook', target='methods.ccr.loss_weight',
                     schedule='linear', begin=0, end=1000)]
