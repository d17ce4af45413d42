# The narrow CPU form of XTasC's Base MT-Net (configs/xtasc/README.md): a
# ResNet-18 encoder at a quarter width (stem and stages 16 / 16 / 32 / 64 /
# 128), U-Net decoders at 32 channels, semantic 13 + depth of the small
# procedural preset; 2400 iterations of batch 8, Adam 1e-3 (as the other CPU
# demos) halved at 1600, the release's uncertainty weights.
_base_ = [
    '../_base_/datasets/procedural-48x64.py',
    '../_base_/models/resnet34-unet_xtasc.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
xtasc_tasks = ('sem_seg', 'depth')
narrow_taps = (16, 16, 32, 64, 128)
model = dict(
    backbone=dict(depth=18, stem_channels=16, base_channels=16),
    heads=dict(sem_seg=dict(num_classes=13, in_channels=narrow_taps,
                            channels=32),
               depth=dict(in_channels=narrow_taps, channels=32)))
train_dataloader = dict(dataset=dict(tasks=xtasc_tasks))
val_dataloader = dict(dataset=dict(tasks=xtasc_tasks))
test_dataloader = dict(dataset=dict(tasks=xtasc_tasks))
val_evaluator = [
    dict(type='SemSegMetric', num_classes=13,
         class_names={{_base_.class_names}}),
    dict(type='DepthMetric'),
]
test_evaluator = val_evaluator
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.99)))
param_scheduler = [
    dict(type='StepLR', step_size=1600, gamma=0.5, by_epoch=False),
]
train_cfg = dict(max_iters=2400, val_interval=400)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=600, max_keep_ckpts=1))
randomness = dict(seed=0)
