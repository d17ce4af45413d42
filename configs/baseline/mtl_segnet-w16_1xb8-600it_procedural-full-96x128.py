# The main job of the README: a narrow SegNet multi-task baseline (semantic +
# depth + normal) on the embedded procedural dataset, sized to train on two
# CPU cores in a few minutes (600 iterations of batch 8, about 13 epochs over
# the 360 training images). Widths are a quarter of the published SegNet;
# Adam's learning rate is raised from 1e-4 to 1e-3 for the short schedule.
_base_ = [
    '../_base_/datasets/procedural-96x128.py',
    '../_base_/models/segnet_mtl.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
segnet_widths = (16, 32, 64, 128, 128)
model = dict(
    backbone=dict(widths=segnet_widths),
    heads=dict(sem_seg=dict(in_channels=segnet_widths[0]),
               depth=dict(in_channels=segnet_widths[0]),
               normal=dict(in_channels=segnet_widths[0])))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='StepLR', step_size=400, gamma=0.5, by_epoch=False),
]
train_cfg = dict(max_iters=600, val_interval=300)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=300, max_keep_ckpts=1))
