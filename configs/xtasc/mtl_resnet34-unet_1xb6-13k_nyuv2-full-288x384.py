# XTasC's "Base MT-Net" on NYUv2 in its 2-task form (semantic 13 + depth in
# metres, under the GT validity mask, which the release leaves out): lambda =
# 0. Schedule of the paper: 100 epochs of batch 6 (795 images: 13.3k
# iterations), Adam 1e-4 halved every 60 epochs (7,980 iterations).
_base_ = [
    '../_base_/datasets/nyuv2-288x384.py',
    '../_base_/models/resnet34-unet_xtasc.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
xtasc_tasks = ('sem_seg', 'depth')
model = dict(heads=dict(sem_seg=dict(num_classes=13)))
train_dataloader = dict(batch_size=6, dataset=dict(tasks=xtasc_tasks))
val_dataloader = dict(dataset=dict(tasks=xtasc_tasks))
test_dataloader = dict(dataset=dict(tasks=xtasc_tasks))
val_evaluator = [
    dict(type='SemSegMetric', num_classes=13,
         class_names={{_base_.class_names}}),
    dict(type='DepthMetric'),
]
test_evaluator = val_evaluator
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.99)))
param_scheduler = [
    dict(type='StepLR', step_size=7980, gamma=0.5, by_epoch=False),
]
train_cfg = dict(max_iters=13300, val_interval=1330)
default_hooks = dict(checkpoint=dict(interval=1330))
