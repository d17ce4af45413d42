# XTasC-Net's "Base MT-Net" on Cityscapes (semantic 7 + depth): a shared
# ResNet-34 encoder and one U-Net decoder per task (5 blocks of three 3x3
# conv-BN-ReLU, 128 channels, skips from the stem and the 4 stages), tasks
# balanced by uncertainty weighting, Adam 1e-4, batch 8, inverse depth as
# the depth target. The paper trains 250 epochs (~93k iterations); 40k here.
# Its main results use no pretrained weights; to start from ImageNet:
#     model.backbone.init_cfg=dict(type='Pretrained', checkpoint=PATH)
_base_ = [
    '../_base_/datasets/cityscapes-128x256.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
unet_head = dict(type='UNetDecoderHead', in_channels=(64, 64, 128, 256, 512),
                 channels=128, num_blocks=5, convs_per_block=3)
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', size_divisor=32,
                           mean=(0.485, 0.456, 0.406),
                           std=(0.229, 0.224, 0.225)),
    # mmseg's ResNet (7x7 stem, as torchvision's) that also returns its
    # stride-2 stem map for the first skip connection
    backbone=dict(type='ResNetWithStem', depth=34, init_cfg=None),
    heads=dict(
        sem_seg=dict(unet_head, num_classes=7,
                     loss=dict(type='CrossEntropyLoss', ignore_index=-1)),
        depth=dict(unet_head, loss=dict(type='MaskedL1Loss'))),
    balancer=dict(type='UncertaintyWeighting'))
train_dataloader = dict(dataset=dict(depth_target='inverse_depth'))
val_dataloader = dict(dataset=dict(depth_target='inverse_depth'))
test_dataloader = dict(dataset=dict(depth_target='inverse_depth'))
