# XTasC-Net's "Base MT-Net" on NYUv2 in its 2-task form (semantic 13 +
# depth): a shared ResNet-34 encoder and one U-Net decoder per task (5
# blocks of three 3x3 conv-BN-ReLU, 128 channels, skips from the stem and
# the 4 stages), uncertainty weighting, Adam 1e-4, batch 6. The paper trains
# 100 epochs (~13k iterations); 40k here, as the other NYUv2 baselines.
# ImageNet weights: model.backbone.init_cfg=dict(type='Pretrained',
# checkpoint=PATH) (nothing is downloaded; the default is a random init).
_base_ = [
    '../_base_/datasets/nyuv2-288x384.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
xtasc_tasks = ('sem_seg', 'depth')
unet_head = dict(type='UNetDecoderHead', in_channels=(64, 64, 128, 256, 512),
                 channels=128, num_blocks=5, convs_per_block=3)
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', size_divisor=32,
                           mean=(0.485, 0.456, 0.406),
                           std=(0.229, 0.224, 0.225)),
    backbone=dict(type='ResNetWithStem', depth=34, init_cfg=None),
    heads=dict(
        sem_seg=dict(unet_head, num_classes=13,
                     loss=dict(type='CrossEntropyLoss', ignore_index=-1)),
        depth=dict(unet_head, loss=dict(type='MaskedL1Loss'))),
    balancer=dict(type='UncertaintyWeighting'))
train_dataloader = dict(batch_size=6, dataset=dict(tasks=xtasc_tasks))
val_dataloader = dict(dataset=dict(tasks=xtasc_tasks))
test_dataloader = dict(dataset=dict(tasks=xtasc_tasks))
val_evaluator = [
    dict(type='SemSegMetric', num_classes=13,
         class_names={{_base_.class_names}}),
    dict(type='DepthMetric'),
]
test_evaluator = val_evaluator
