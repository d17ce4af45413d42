# XTasC's "Base ST-Net" for sem_seg on the procedural benchmark (procedural 48x64):
# the encoder and one U-Net decoder of the Base MT-Net next to it (same data,
# schedule and seed), fixed weight; the reference of Delta_m. Written out whole
# rather than derived from the MT config (no _delete_).
_base_ = [
    '../_base_/datasets/procedural-48x64.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
stl_tasks = ('sem_seg', )
xtasc_unet_head = dict(
    type='UNetDecoderHead', in_channels=(16, 16, 32, 64, 128), channels=32,
    num_blocks=5, convs_per_block=3, conv_bias=True, cls_bias=False,
    xavier_init=True)
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', size_divisor=32,
                           mean=(0.485, 0.456, 0.406),
                           std=(0.229, 0.224, 0.225)),
    backbone=dict(type='ResNetWithStem', depth=18, stem_channels=16,
                  base_channels=16, init_cfg=None),
    heads=dict(sem_seg=dict(xtasc_unet_head, num_classes=13,
                            loss=dict(type='CrossEntropyLoss',
                                      ignore_index=-1))),
    balancer=dict(type='FixedWeights'))
train_dataloader = dict(dataset=dict(tasks=stl_tasks))
val_dataloader = dict(dataset=dict(tasks=stl_tasks))
test_dataloader = dict(dataset=dict(tasks=stl_tasks))
val_evaluator = [
    dict(type='SemSegMetric', num_classes=13,
         class_names={{_base_.class_names}}),
]
test_evaluator = val_evaluator
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.99)))
param_scheduler = [
    dict(type='StepLR', step_size=1600, gamma=0.5, by_epoch=False),
]
train_cfg = dict(max_iters=2400, val_interval=400)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=600, max_keep_ckpts=1))
randomness = dict(seed=0)
