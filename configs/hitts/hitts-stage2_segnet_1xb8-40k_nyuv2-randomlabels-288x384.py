# HiTTs stage 2 (Zhang et al.; re-implemented from the paper): a NEW HiTTs
# model trained from scratch on augmented images with GT + the stage-1
# pseudo labels (L_p, Eq. 7) + the feature loss (L_f, Eq. 6): Eq. (8).
# Before training, HiTTsPseudoLabelHook makes the pseudo supervision with
# the frozen stage-1 model in pseudo_dir (every rank its shard), or reuses
# it when its manifest matches (configs/hitts/README.md).
_base_ = ['./hitts-stage1_segnet_1xb8-40k_nyuv2-randomlabels-288x384.py']
stage1_config = 'configs/hitts/hitts-stage1_segnet_1xb8-40k_nyuv2-randomlabels-288x384.py'
stage1_checkpoint = 'work_dirs/hitts-stage1_segnet_1xb8-40k_nyuv2-randomlabels-288x384/iter_40000.pth'
pseudo_dir = 'work_dirs/hitts-stage1_segnet_1xb8-40k_nyuv2-randomlabels-288x384/pseudo'
# The pseudo labels and saved features are loaded before the augmentation,
# so they are zoomed (depth / s), cropped and flipped (normal x negated)
# exactly as the GT.
train_pipeline = [
    dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=13)),
    dict(type='LoadPseudoSupervision', pseudo_dir=pseudo_dir,
         tasks=('sem_seg', 'depth', 'normal')),
    dict(type='RandomScaleCrop', scales=(1.0, 1.2, 1.5)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(methods=[
    dict(type='HiTTsPseudoSupervision', losses={{_base_.task_losses}},
         bins=dict(depth={{_base_.depth_bins}},
                   normal={{_base_.normal_bins}})),
])
custom_hooks = [
    dict(type='HiTTsPseudoLabelHook', stage1_config=stage1_config,
         checkpoint=stage1_checkpoint, pseudo_dir=pseudo_dir,
         # your own training checkpoint (pickled objects besides tensors)
         trust_checkpoint=True,
         tau={{_base_.pseudo_tau}}),
]
