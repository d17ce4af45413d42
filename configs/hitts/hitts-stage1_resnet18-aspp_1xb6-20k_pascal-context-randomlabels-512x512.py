# HiTTs stage 1 (Zhang et al.; re-implemented from the paper) on
# PASCAL-Context, randomlabels: ResNet-18 with one ASPP head per task and the
# MULTI-SCALE global task tokens of supplement A.2 (per-scale tokens and
# inter-task learning on the 4 ResNet stages, fused before intra-task
# learning). Labels only (L_s). The published split is used with
# label_regime=dict(type='from_file',
# path='data/mtpsl_splits/pascal_context/randomlabels.npy'); the seeded draw
# below builds on any tree, including the tests' tiny one.
_base_ = [
    '../_base_/datasets/pascal-context-512x512.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
aspp_head = dict(type='ASPPTaskHead', in_channels=512, channels=256,
                 dilations=(1, 12, 24, 36), dropout=0.1)
ce = dict(type='CrossEntropyLoss', ignore_index=-1)
# 40 uniform unit normals (supplement A.1), Eq. (13): 0.1 angle loss + CE
normal_bins = dict(type='NormalBins', num_bins=40)
task_losses = dict(sem_seg=ce, human_parts=ce, saliency=ce, edge=ce,
                   normal=dict(type='MaskedAngleLoss', loss_weight=0.1))
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', size_divisor=32,
                           mean=(0.485, 0.456, 0.406),
                           std=(0.229, 0.224, 0.225)),
    backbone=dict(type='mmseg.ResNetV1c', depth=18, dilations=(1, 1, 2, 4),
                  strides=(1, 2, 1, 1), init_cfg=None),
    heads=dict(
        sem_seg=dict(aspp_head, num_classes=21, loss=ce),
        human_parts=dict(aspp_head, num_classes=7, loss=ce),
        normal=dict(aspp_head, bins=normal_bins,
                    loss=task_losses['normal']),
        saliency=dict(aspp_head, num_classes=2, loss=ce),
        edge=dict(aspp_head, num_classes=2, loss=ce)),
    # the ASPP features are at stride 8; tokens attend at stride 16
    joint_stage=dict(
        type='HiTTsJointStage', channels=256, stride=2, attn_channels=64,
        heads=2, mlp_ratio=2.0,
        num_bins=dict(sem_seg=21, human_parts=7, normal=40, saliency=2,
                      edge=2),
        multi_scale=dict(in_channels=(64, 128, 256, 512),
                         in_index=(0, 1, 2, 3))),
    balancer=dict(type='FixedWeights', weights=dict(
        sem_seg=1 / 5, human_parts=1 / 5, normal=1 / 5, saliency=1 / 5,
        edge=1 / 5)))
find_unused_parameters = True
train_dataloader = dict(batch_size=6, dataset=dict(
    label_regime=dict(type='randomlabels', seed=0)))
# Adam 1e-4, weight decay 1e-4, 20k steps of batch 6, poly (power 0.9)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-4))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=20000,
         by_epoch=False),
]
train_cfg = dict(max_iters=20000, val_interval=2000)
pseudo_tau = dict(sem_seg=0.9, human_parts=0.85, normal=0.7, saliency=0.7,
                  edge=0.9)
