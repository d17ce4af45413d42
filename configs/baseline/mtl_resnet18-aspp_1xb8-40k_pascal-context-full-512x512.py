# HiTTs' PASCAL-Context multi-task baseline: a shared ResNet-18 encoder and
# one ASPP decoding head per task (5 tasks). HiTTs does not state the
# output stride or the optimiser for PASCAL: a dilated ResNet-18
# (mmseg's ResNetV1c, output stride 8, as DeepLabv3) with ASPP dilations
# (1, 12, 24, 36), and the Adam 1e-4 of its NYUv2 / Cityscapes settings.
# ASPP's image-pooling BatchNorm needs >= 2 images per process in training.
# ImageNet weights: model.backbone.init_cfg=dict(type='Pretrained',
# checkpoint=PATH) (nothing is downloaded; the default is a random init).
_base_ = [
    '../_base_/datasets/pascal-context-512x512.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
aspp_head = dict(type='ASPPTaskHead', in_channels=512, channels=256,
                 dilations=(1, 12, 24, 36), dropout=0.1)
ce = dict(type='CrossEntropyLoss', ignore_index=-1)
model = dict(
    type='MultiTaskModel',
    # ImageNet statistics, in the [0, 1] units of the loaded images
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', size_divisor=32,
                           mean=(0.485, 0.456, 0.406),
                           std=(0.229, 0.224, 0.225)),
    backbone=dict(type='mmseg.ResNetV1c', depth=18, dilations=(1, 1, 2, 4),
                  strides=(1, 2, 1, 1), init_cfg=None),
    heads=dict(
        sem_seg=dict(aspp_head, num_classes=21, loss=ce),
        human_parts=dict(aspp_head, num_classes=7, loss=ce),
        normal=dict(aspp_head, loss=dict(type='CosineSimilarityLoss')),
        saliency=dict(aspp_head, num_classes=2, loss=ce),
        edge=dict(aspp_head, num_classes=2, loss=ce)),
    balancer=dict(type='FixedWeights'))
