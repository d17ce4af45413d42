# Region contrast (Li et al., ECCV 2024) on Cityscapes (7 classes + depth),
# one label per image, with HRNet-18 (the paper's Table 2 backbone) and the
# shared-FPN heads of configs/baseline's HRNet NYUv2 model. Regions: SAM maps
# made offline by tools/generate_region_maps.py (ROOT/train/sam/<i>.npy).
# The published split is used with label_regime=dict(type='from_file',
# path='data/mtpsl_splits/cityscapes/onelabel.pth'); the seeded draw below
# builds on any tree. No Cityscapes HRNet baseline config exists to inherit
# from, so this one starts from _base_.
_base_ = [
    '../_base_/datasets/cityscapes-128x256.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
    '../_base_/models/hrnet18.py',
]
fpn_head = dict(type='SemanticFPNTaskHead', in_channels=256, channels=128,
                feature_strides=(4, 8, 16, 32), in_index=(0, 1, 2, 3))
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', size_divisor=32,
                           mean=(0.485, 0.456, 0.406),
                           std=(0.229, 0.224, 0.225)),
    backbone=dict(type='mmseg.HRNet', extra={{_base_.hrnet18_extra}},
                  init_cfg=None),
    neck=dict(type='mmseg.FPN', in_channels=[18, 36, 72, 144],
              out_channels=256, num_outs=4),
    heads=dict(
        sem_seg=dict(fpn_head, num_classes=7,
                     loss=dict(type='CrossEntropyLoss', ignore_index=-1)),
        depth=dict(fpn_head, loss=dict(type='MaskedL1Loss'))),
    balancer=dict(type='FixedWeights'),
    methods=[dict(type='RegionContrast', num_classes=dict(sem_seg=7),
                  loss_weight=0.075)])
train_pipeline = [
    dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=7)),
    dict(type='LoadRegionMap', source=dict(type='sam')),
    dict(type='RandomScaleCrop', scales=(1.0, 1.2, 1.5)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs'),
]
train_dataloader = dict(batch_size=2, dataset=dict(
    pipeline=train_pipeline, label_regime=dict(type='onelabel', seed=0)))
# the weight ramps up linearly over 20 epochs (2975 / 4 images per step)
custom_hooks = [dict(type='LossRampUpHook', target='methods.rc.loss_weight',
                     schedule='linear', begin=0, end=15000)]
# network Adam 2e-4 as the HRNet baseline; a_theta at 1e-3
optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=2e-4, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'methods.rc': dict(lr_mult=5.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=750),  # 1 epoch
    dict(type='StepLR', step_size=20000, gamma=0.5, by_epoch=False),
]
