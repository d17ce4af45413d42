# Single-task SegNet for 'normal' on NYUv2: the reference point of Delta_MTL.
_base_ = [
    '../_base_/datasets/nyuv2-288x384.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
stl_tasks = ('normal', )
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', size_divisor=32),
    backbone=dict(type='SegNet', widths=(64, 128, 256, 512, 512)),
    heads=dict(
        normal=dict(type='SegNetTaskHead', in_channels=64,
                    loss=dict(type='CosineSimilarityLoss'))),
    balancer=dict(type='FixedWeights'))
train_dataloader = dict(dataset=dict(tasks=stl_tasks))
val_dataloader = dict(dataset=dict(tasks=stl_tasks))
test_dataloader = dict(dataset=dict(tasks=stl_tasks))
val_evaluator = [dict(type='NormalMetric')]
test_evaluator = val_evaluator
