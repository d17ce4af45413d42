# CCR's multi-task baseline ("MT Baseline", AAAI 2023) on NYUv2: HRNet-18
# (mmseg's HRNetV2-W18) with a shared FPN, one Semantic-FPN decoder per
# task. Adam 2e-4, weight decay 1e-4, batch 4 on 2 GPUs, as the paper; it
# trains in epochs with a 1-epoch warm-up: 40k iterations here.
# The paper starts from ImageNet weights: give them with
#     model.backbone.init_cfg=dict(type='Pretrained', checkpoint=PATH)
# (nothing is downloaded; the default is a random init).
_base_ = [
    '../_base_/datasets/nyuv2-288x384.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
    '../_base_/models/hrnet18.py',
]
fpn_head = dict(type='SemanticFPNTaskHead', in_channels=256, channels=128,
                feature_strides=(4, 8, 16, 32), in_index=(0, 1, 2, 3))
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
        sem_seg=dict(fpn_head, num_classes=13,
                     loss=dict(type='CrossEntropyLoss', ignore_index=-1)),
        depth=dict(fpn_head, loss=dict(type='MaskedL1Loss')),
        normal=dict(fpn_head, loss=dict(type='CosineSimilarityLoss'))),
    balancer=dict(type='FixedWeights'))
train_dataloader = dict(batch_size=2)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-4, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=200),  # 1 epoch: 795 images / 4
    dict(type='StepLR', step_size=20000, gamma=0.5, by_epoch=False),
]
