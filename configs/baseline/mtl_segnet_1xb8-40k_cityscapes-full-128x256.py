# SegNet multi-task baseline on Cityscapes, the 2-task form of the MTPSL
# line: semantic (7 classes) + depth, one SegNetTaskHead per task.
_base_ = [
    '../_base_/datasets/cityscapes-128x256.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', size_divisor=32),
    backbone=dict(type='SegNet', widths=(64, 128, 256, 512, 512)),
    heads=dict(
        sem_seg=dict(type='SegNetTaskHead', in_channels=64, num_classes=7,
                     loss=dict(type='CrossEntropyLoss', ignore_index=-1)),
        depth=dict(type='SegNetTaskHead', in_channels=64,
                   loss=dict(type='MaskedL1Loss'))),
    balancer=dict(type='FixedWeights'))
