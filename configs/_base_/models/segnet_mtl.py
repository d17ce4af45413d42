# SegNet multi-task baseline of the MTPSL line: shared SegNet, one head per
# task. Full widths give 25,055,188 parameters with the uncertainty balancer
# (the release carries its 3 log-variances in the model).
segnet_widths = (64, 128, 256, 512, 512)
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', size_divisor=32),
    backbone=dict(type='SegNet', widths=segnet_widths),
    heads=dict(
        sem_seg=dict(type='SegNetTaskHead', in_channels=segnet_widths[0],
                     num_classes=13,
                     loss=dict(type='CrossEntropyLoss', ignore_index=-1)),
        depth=dict(type='SegNetTaskHead', in_channels=segnet_widths[0],
                   loss=dict(type='MaskedL1Loss')),
        normal=dict(type='SegNetTaskHead', in_channels=segnet_widths[0],
                    loss=dict(type='CosineSimilarityLoss')),
    ),
    balancer=dict(type='FixedWeights'))
