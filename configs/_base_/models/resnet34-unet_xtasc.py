# XTasC-Net's network as its official release builds it (configs/xtasc/
# README.md): a ResNet-34 encoder with five taps (stem, layer1..4; not
# pretrained), one U-Net decoder per task (5 blocks of three 3x3 conv-BN-ReLU
# at 128 channels, the convs with a bias; skips from taps 3, 2, 1, 0; x2
# bilinear up), a 1x1 head without bias, Xavier-normal init of the decoders.
# The balancer is the release's uncertainty form 0.5 exp(-s) L + s, s = 0.
# Datasets set sem_seg's num_classes; XTasC's TTNets are added by
# model.methods in the configs that use them.
xtasc_unet_head = dict(
    type='UNetDecoderHead', in_channels=(64, 64, 128, 256, 512),
    channels=128, num_blocks=5, convs_per_block=3, conv_bias=True,
    cls_bias=False, xavier_init=True)
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', size_divisor=32,
                           mean=(0.485, 0.456, 0.406),
                           std=(0.229, 0.224, 0.225)),
    backbone=dict(type='ResNetWithStem', depth=34, init_cfg=None),
    heads=dict(
        sem_seg=dict(xtasc_unet_head,
                     loss=dict(type='CrossEntropyLoss', ignore_index=-1)),
        depth=dict(xtasc_unet_head, loss=dict(type='MaskedL1Loss'))),
    balancer=dict(type='UncertaintyWeighting', init_log_var=0.0,
                  reg_weight=1.0))
