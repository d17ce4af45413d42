# CCR on the SegNet baseline of the procedural dataset (288x384), full.
# The task feature (64 channels, full resolution) is average-pooled by 4
# before the projector (ours; configs/ccr/README.md).
_base_ = ['../baseline/mtl_segnet_1xb8-40k_procedural-full-288x384.py']
model = dict(methods=[dict(type='CCR', feat_channels=64, feature_stride=4)])
custom_hooks = [dict(type='LossRampUpHook', target='methods.ccr.loss_weight',
                     schedule='linear', begin=0, end=500)]
