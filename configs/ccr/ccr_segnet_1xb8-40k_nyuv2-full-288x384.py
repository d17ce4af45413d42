# CCR on the SegNet NYUv2 baseline, full (the setting of HiTTs' Table 2,
# which lists CCR at 43.09 mIoU / 0.4894 / 27.87 with full labels). The
# SegNet task feature (64 channels) is at full resolution: it is
# average-pooled by 4 before the projector (ours), so anchors and mining
# run at 72x96 as with the paper's stride-4 FPN decoders.
_base_ = ['../baseline/mtl_segnet_1xb8-40k_nyuv2-full-288x384.py']
model = dict(methods=[dict(type='CCR', feat_channels=64, feature_stride=4)])
# lambda_ctr ramped up linearly over the first 5 epochs (795 images / 8)
custom_hooks = [dict(type='LossRampUpHook', target='methods.ccr.loss_weight',
                     schedule='linear', begin=0, end=500)]
