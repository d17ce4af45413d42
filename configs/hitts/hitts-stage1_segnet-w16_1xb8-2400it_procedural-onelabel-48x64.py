# HiTTs stage 1 on the procedural benchmark (Zhang et al.; re-implemented from the
# paper): the narrow SegNet (widths 16..128) with binned heads and the
# HiTTs joint stage, trained on the labels only (L_s). Attention sized
# down with the widths. Same data, augmentation, schedule and seed as the
# MTL reference next to it; only the joint stage differs.
_base_ = [
    '../_base_/datasets/procedural-48x64.py',
    '../_base_/models/hitts_segnet.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
segnet_widths = (16, 32, 64, 128, 128)
# procedural depths lie in 0.55..6.4 m
depth_bins = dict(type='LogDepthBins', num_bins=30, min_depth=0.5,
                  max_depth=8.0)
model = dict(
    backbone=dict(widths=segnet_widths),
    heads=dict(sem_seg=dict(in_channels=segnet_widths[0]),
               depth=dict(in_channels=segnet_widths[0], bins=depth_bins),
               normal=dict(in_channels=segnet_widths[0])),
    joint_stage=dict(channels=segnet_widths[0], attn_channels=16, heads=2,
                     mlp_ratio=2.0))
train_pipeline = [
    dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=13)),
    dict(type='RandomScaleCrop', scales=(1.0, 1.2, 1.5)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs'),
]
train_dataloader = dict(dataset=dict(
    pipeline=train_pipeline, label_regime=dict(type='onelabel', seed=0)))
# the benchmark's schedule: Adam 1e-3, halved at 1600 of 2400 iterations
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='StepLR', step_size=1600, gamma=0.5, by_epoch=False),
]
train_cfg = dict(max_iters=2400, val_interval=400)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=600, max_keep_ckpts=1))
randomness = dict(seed=0)
