# XTasC's Base MT-Net on the procedural indoor dataset in a 2-task form
# (semantic 13 + depth), NYUv2 size and counts, 40k iterations of batch 8.
_base_ = [
    '../_base_/datasets/procedural-288x384.py',
    '../_base_/models/resnet34-unet_xtasc.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
xtasc_tasks = ('sem_seg', 'depth')
model = dict(heads=dict(sem_seg=dict(num_classes=13)))
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
                     optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.99)))
