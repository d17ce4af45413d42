# CCR on the narrow CPU demo (SegNet widths 16..128, 600 iterations, batch
# 8, 96x128), fully labelled. Everything but ``model.methods`` and the
# ramp-up hook is configs/baseline/mtl_segnet-w16_1xb8-600it_procedural-
# full-96x128.py, the baseline it is compared with (configs/ccr/README.md).
# The 16-channel task features are average-pooled by 4 (24x32) before the
# projector, as the full-size SegNet configs.
_base_ = ['../baseline/mtl_segnet-w16_1xb8-600it_procedural-full-96x128.py']
model = dict(methods=[dict(type='CCR', feat_channels=16, feature_stride=4)])
# lambda_ctr ramped up linearly over the first 5 epochs (360 images / 8)
custom_hooks = [dict(type='LossRampUpHook', target='methods.ccr.loss_weight',
                     schedule='linear', begin=0, end=225)]
