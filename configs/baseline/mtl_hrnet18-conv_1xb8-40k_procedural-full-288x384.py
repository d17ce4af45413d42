# The plain-head alternative on our procedural dataset: HRNet-18 (mmseg's
# HRNetV2-W18) whose four branches are upsampled to 1/4 and concatenated
# (the HRNetV2 representation, 270 channels), one ConvTaskHead per task
# (3x3 conv-BN-ReLU, 1x1), tasks weighted by DWA (MTAN; a window of 100
# iterations, about one epoch of the 795 training images at batch 8).
# Adam 2e-4, weight decay 1e-4 as CCR's HRNet setting.
_base_ = [
    '../_base_/datasets/procedural-288x384.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
    '../_base_/models/hrnet18.py',
]
conv_head = dict(type='ConvTaskHead', in_channels=[18, 36, 72, 144],
                 in_index=[0, 1, 2, 3], channels=128, num_convs=1)
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', size_divisor=32,
                           mean=(0.485, 0.456, 0.406),
                           std=(0.229, 0.224, 0.225)),
    backbone=dict(type='mmseg.HRNet', extra={{_base_.hrnet18_extra}}, init_cfg=None),
    heads=dict(
        sem_seg=dict(conv_head, num_classes=13,
                     loss=dict(type='CrossEntropyLoss', ignore_index=-1)),
        depth=dict(conv_head, loss=dict(type='MaskedL1Loss')),
        normal=dict(conv_head, loss=dict(type='CosineSimilarityLoss'))),
    balancer=dict(type='DynamicWeightAverage', temperature=2.0, window=100))
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-4, weight_decay=1e-4))
