# HiTTs stage 2 on PASCAL-Context, onelabel (Zhang et al.; re-implemented
# from the paper): a NEW multi-scale HiTTs model trained from scratch with
# GT + pseudo labels (L_p) + feature loss (L_f), Eq. (8); the pseudo
# supervision is made by HiTTsPseudoLabelHook when missing.
_base_ = ['./hitts-stage1_resnet18-aspp_1xb6-20k_pascal-context-onelabel-512x512.py']
stage1_config = 'configs/hitts/hitts-stage1_resnet18-aspp_1xb6-20k_pascal-context-onelabel-512x512.py'
stage1_checkpoint = 'work_dirs/hitts-stage1_resnet18-aspp_1xb6-20k_pascal-context-onelabel-512x512/iter_20000.pth'
pseudo_dir = 'work_dirs/hitts-stage1_resnet18-aspp_1xb6-20k_pascal-context-onelabel-512x512/pseudo'
train_pipeline = [
    dict(type='LoadPascalContext',
         num_classes=dict(sem_seg=21, human_parts=7)),
    dict(type='LoadPseudoSupervision', pseudo_dir=pseudo_dir,
         tasks=('sem_seg', 'human_parts', 'normal', 'saliency', 'edge'),
         feat_channels=256, stride=16),
    dict(type='RandomScaleCrop', scales=(1.0, 1.2, 1.5)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(methods=[
    dict(type='HiTTsPseudoSupervision', losses={{_base_.task_losses}},
         bins=dict(normal={{_base_.normal_bins}})),
])
custom_hooks = [
    dict(type='HiTTsPseudoLabelHook', stage1_config=stage1_config,
         checkpoint=stage1_checkpoint, pseudo_dir=pseudo_dir,
         # your own training checkpoint (pickled objects besides tensors)
         trust_checkpoint=True,
         tau={{_base_.pseudo_tau}}),
]
