# Single-task SegNet for 'depth' on Cityscapes: the reference point of
# Delta_MTL for the 2-task Cityscapes form.
_base_ = [
    '../_base_/datasets/cityscapes-128x256.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
stl_tasks = ('depth', )
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', size_divisor=32),
    backbone=dict(type='SegNet', widths=(64, 128, 256, 512, 512)),
    heads=dict(
        depth=dict(type='SegNetTaskHead', in_channels=64,
                   loss=dict(type='MaskedL1Loss'))),
    balancer=dict(type='FixedWeights'))
train_dataloader = dict(dataset=dict(tasks=stl_tasks))
val_dataloader = dict(dataset=dict(tasks=stl_tasks))
test_dataloader = dict(dataset=dict(tasks=stl_tasks))
val_evaluator = [dict(type='DepthMetric')]
test_evaluator = val_evaluator
