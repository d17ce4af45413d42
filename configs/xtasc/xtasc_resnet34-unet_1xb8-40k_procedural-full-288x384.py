# XTasC-Net on the procedural 2-task data (semantic 13 + depth), lambda = 0.01
# (the paper's Cityscapes value; NYUv2's 1e-4 is left to the NYUv2 configs):
# the Base MT-Net next to it plus the two TTNets.
_base_ = ['./mtl_resnet34-unet_1xb8-40k_procedural-full-288x384.py']
xtasc_lambda = 0.01
model = dict(
    heads=dict(sem_seg=dict(loss=dict(loss_weight=1 - xtasc_lambda)),
               depth=dict(loss=dict(loss_weight=1 - xtasc_lambda))),
    methods=[dict(type='XTasC', num_classes=13, loss_weight=xtasc_lambda)])
