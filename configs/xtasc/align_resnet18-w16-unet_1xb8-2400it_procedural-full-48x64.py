# Align-Net (Eq. (8)) on the procedural benchmark, full labels: the Base MT-Net next
# to it plus two TTNets at a quarter width (16 / 32 / 64 down, 32 / 16 / 16
# up), lambda = 0.01 (the paper's Cityscapes value).
_base_ = ['./mtl_resnet18-w16-unet_1xb8-2400it_procedural-full-48x64.py']
xtasc_lambda = 0.01
model = dict(
    heads=dict(sem_seg=dict(loss=dict(loss_weight=1 - xtasc_lambda)),
               depth=dict(loss=dict(loss_weight=1 - xtasc_lambda))),
    methods=[dict(type='XTasC', num_classes=13, loss_weight=xtasc_lambda,
                  mode='align', down_channels=(16, 32, 64),
                  up_channels=(32, 16, 16))])
