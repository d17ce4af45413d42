# CCR on the procedural benchmark in the onelabel regime (our extension). Its
# baseline is configs/baseline/mtl_segnet-w16_1xb8-2400it_procedural-onelabel-
# 48x64.py: the same base, label regime and seed; only ``model.methods``
# and the ramp-up hook differ (configs/ccr/README.md).
_base_ = ['../baseline/mtl_segnet-w16_1xb8-2400it_procedural-full-48x64.py']
train_dataloader = dict(dataset=dict(
    label_regime=dict(type='onelabel', seed=0)))
randomness = dict(seed=0)
model = dict(methods=[dict(type='CCR', feat_channels=16, feature_stride=4)])
custom_hooks = [dict(type='LossRampUpHook', target='methods.ccr.loss_weight',
                     schedule='linear', begin=0, end=225)]
