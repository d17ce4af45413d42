# XTasC-Net's encoder ablation (its Appendix B) on Cityscapes: the
# ResNet-34 U-Net baseline with a ResNet-50 encoder (stem 64 channels,
# stages 256 / 512 / 1024 / 2048). Otherwise as
# mtl_resnet34-unet_1xb8-40k_cityscapes-full-128x256.py.
_base_ = [
    '../_base_/datasets/cityscapes-128x256.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
unet_head = dict(type='UNetDecoderHead',
                 in_channels=(64, 256, 512, 1024, 2048), channels=128,
                 num_blocks=5, convs_per_block=3)
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', size_divisor=32,
                           mean=(0.485, 0.456, 0.406),
                           std=(0.229, 0.224, 0.225)),
    backbone=dict(type='ResNetWithStem', depth=50, init_cfg=None),
    heads=dict(
        sem_seg=dict(unet_head, num_classes=7,
                     loss=dict(type='CrossEntropyLoss', ignore_index=-1)),
        depth=dict(unet_head, loss=dict(type='MaskedL1Loss'))),
    balancer=dict(type='UncertaintyWeighting'))
train_dataloader = dict(dataset=dict(depth_target='inverse_depth'))
val_dataloader = dict(dataset=dict(depth_target='inverse_depth'))
test_dataloader = dict(dataset=dict(depth_target='inverse_depth'))
