# XTasC-Net on Cityscapes, lambda = 0.01 (the paper): Base MT-Net plus the two
# Task-Transfer Networks; each group is (1 - lambda) l_t + lambda l_transfer
# (the heads' loss_weight carries 1 - lambda), weighted by the release's
# uncertainty weights as a whole.
_base_ = ['./mtl_resnet34-unet_1xb8-93k_cityscapes-full-128x256.py']
xtasc_lambda = 0.01
model = dict(
    heads=dict(sem_seg=dict(loss=dict(loss_weight=1 - xtasc_lambda)),
               depth=dict(loss=dict(loss_weight=1 - xtasc_lambda))),
    methods=[dict(type='XTasC', num_classes=7, loss_weight=xtasc_lambda,
                  mode='consistency', seg_target='hard', label_smoothing=0.0)])
