# XTasC-Net on NYUv2 (semantic 13 + depth), lambda = 1e-4 (the paper), full
# labels: Base MT-Net plus the two Task-Transfer Networks, each group (1 -
# lambda) l_t + lambda l_transfer weighted by uncertainty as a whole.
_base_ = ['./mtl_resnet34-unet_1xb6-13k_nyuv2-full-288x384.py']
xtasc_lambda = 0.0001
model = dict(
    heads=dict(sem_seg=dict(loss=dict(loss_weight=1 - xtasc_lambda)),
               depth=dict(loss=dict(loss_weight=1 - xtasc_lambda))),
    methods=[dict(type='XTasC', num_classes=13, loss_weight=xtasc_lambda,
                  mode='consistency', seg_target='hard', label_smoothing=0.0)])
