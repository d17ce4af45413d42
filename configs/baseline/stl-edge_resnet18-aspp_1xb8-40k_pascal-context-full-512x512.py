# Single-task ResNet-18 + ASPP for 'edge' on PASCAL-Context: the reference
# of Delta_MTL for mtl_resnet18-aspp_1xb8-40k_pascal-context-full-512x512.py
# (same encoder, head, optimiser and schedule; one task).
_base_ = [
    '../_base_/datasets/pascal-context-512x512.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
stl_tasks = ('edge', )
aspp_head = dict(type='ASPPTaskHead', in_channels=512, channels=256,
                 dilations=(1, 12, 24, 36), dropout=0.1)
ce = dict(type='CrossEntropyLoss', ignore_index=-1)
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', size_divisor=32,
                           mean=(0.485, 0.456, 0.406),
                           std=(0.229, 0.224, 0.225)),
    backbone=dict(type='mmseg.ResNetV1c', depth=18, dilations=(1, 1, 2, 4),
                  strides=(1, 2, 1, 1), init_cfg=None),
    heads=dict(edge=dict(aspp_head, num_classes=2, loss=ce)),
    balancer=dict(type='FixedWeights'))
train_dataloader = dict(dataset=dict(tasks=stl_tasks))
val_dataloader = dict(dataset=dict(tasks=stl_tasks))
test_dataloader = dict(dataset=dict(tasks=stl_tasks))
val_evaluator = [
    dict(type='EdgeMetric'),
]
test_evaluator = val_evaluator
