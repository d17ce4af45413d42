# Table 5's "MTL w. L_p*" on the procedural benchmark: the binned MTL reference (no
# tokens) retrained from scratch with the naive pseudo labels of its own
# stage-1 checkpoint (argmax softmax > tau, no tokens, no features: L_p only),
# same budget as the HiTTs stage 2.
_base_ = ['./mtl-binned_segnet-w16_1xb8-2400it_procedural-onelabel-48x64.py']
stage1_config = 'configs/hitts/mtl-binned_segnet-w16_1xb8-2400it_procedural-onelabel-48x64.py'
stage1_checkpoint = 'work_dirs/mtl-binned_segnet-w16_1xb8-2400it_procedural-onelabel-48x64/iter_2400.pth'
pseudo_dir = 'work_dirs/mtl-binned_segnet-w16_1xb8-2400it_procedural-onelabel-48x64/pseudo'
# loaded before the augmentation: zoomed, cropped and flipped as the GT
train_pipeline = [
    dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=13)),
    dict(type='LoadPseudoSupervision', pseudo_dir=pseudo_dir,
         tasks=('sem_seg', 'depth', 'normal'), features=False),
    dict(type='RandomScaleCrop', scales=(1.0, 1.2, 1.5)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(methods=[
    dict(type='HiTTsPseudoSupervision', losses={{_base_.task_losses}},
         bins=dict(depth={{_base_.depth_bins}},
                   normal={{_base_.normal_bins}}), features=False),
])
custom_hooks = [
    dict(type='HiTTsPseudoLabelHook', stage1_config=stage1_config,
         checkpoint=stage1_checkpoint, pseudo_dir=pseudo_dir,
         # your own training checkpoint (pickled objects besides tensors)
         trust_checkpoint=True,
         tau={{_base_.pseudo_tau}}, features=False),
]
