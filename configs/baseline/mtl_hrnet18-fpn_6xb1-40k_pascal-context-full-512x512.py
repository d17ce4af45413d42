# CCR's multi-task baseline on PASCAL-Context: HRNet-18 (mmseg's
# HRNetV2-W18) with a shared FPN, one Semantic-FPN decoder per task (5
# tasks). Adam 2e-4, weight decay 1e-4, batch 6 on 6 GPUs, as the paper;
# 40k iterations with a 1-epoch warm-up here.
# ImageNet weights: model.backbone.init_cfg=dict(type='Pretrained',
# checkpoint=PATH) (nothing is downloaded; the default is a random init).
# Edges and saliency are 2-class maps trained with cross-entropy.
_base_ = [
    '../_base_/datasets/pascal-context-512x512.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
    '../_base_/models/hrnet18.py',
]
fpn_head = dict(type='SemanticFPNTaskHead', in_channels=256, channels=128,
                feature_strides=(4, 8, 16, 32), in_index=(0, 1, 2, 3))
ce = dict(type='CrossEntropyLoss', ignore_index=-1)
model = dict(
    type='MultiTaskModel',
    # ImageNet statistics, in the [0, 1] units of the loaded images
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', size_divisor=32,
                           mean=(0.485, 0.456, 0.406),
                           std=(0.229, 0.224, 0.225)),
    backbone=dict(type='mmseg.HRNet', extra={{_base_.hrnet18_extra}}, init_cfg=None),
    neck=dict(type='mmseg.FPN', in_channels=[18, 36, 72, 144],
              out_channels=256, num_outs=4),
    heads=dict(
        sem_seg=dict(fpn_head, num_classes=21, loss=ce),
        human_parts=dict(fpn_head, num_classes=7, loss=ce),
        normal=dict(fpn_head, loss=dict(type='CosineSimilarityLoss')),
        saliency=dict(fpn_head, num_classes=2, loss=ce),
        edge=dict(fpn_head, num_classes=2, loss=ce)),
    balancer=dict(type='FixedWeights'))
train_dataloader = dict(batch_size=1)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-4, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=833),  # 1 epoch: 4998 images / 6
    dict(type='StepLR', step_size=20000, gamma=0.5, by_epoch=False),
]
