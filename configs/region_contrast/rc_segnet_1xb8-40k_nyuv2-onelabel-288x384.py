# Region contrast (Li et al., ECCV 2024) on NYUv2, onelabel: the SegNet
# baseline plus L_RC between the GT map of each labelled task and the
# prediction map of each unlabelled one, region by region
# (configs/region_contrast/README.md). Regions: SAM maps made offline by
# tools/generate_region_maps.py (ROOT/train/sam/<i>.npy, or the release's
# <i>.png). For the published split set label_regime=dict(type='from_file',
# path='data/mtpsl_splits/nyuv2/onelabel.pth').
_base_ = ['../baseline/mtl_segnet_1xb8-40k_nyuv2-full-288x384.py']
train_pipeline = [
    dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=13)),
    dict(type='LoadRegionMap', source=dict(type='sam')),
    dict(type='RandomScaleCrop', scales=(1.0, 1.2, 1.5)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs'),
]
train_dataloader = dict(dataset=dict(
    pipeline=train_pipeline,
    label_regime=dict(type='onelabel', seed=0)))
model = dict(methods=[
    dict(type='RegionContrast', num_classes=dict(sem_seg=13),
         loss_weight=0.075),
])
# the weight ramps up linearly over 20 epochs (795 / 8 images per step)
custom_hooks = [dict(type='LossRampUpHook', target='methods.rc.loss_weight',
                     schedule='linear', begin=0, end=2000)]
# a_theta at 1e-3 (the release's FiLM lr), the network at the baseline's 1e-4
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'methods.rc': dict(lr_mult=10.0)}))
