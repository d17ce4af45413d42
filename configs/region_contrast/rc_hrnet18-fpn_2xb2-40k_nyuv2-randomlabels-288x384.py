# Region contrast (Li et al., ECCV 2024) on NYUv2, randomlabels, with HRNet-18
# (the backbone of the paper's HRNet rows; here the shared FPN baseline of
# configs/baseline). Regions: SAM maps made offline by
# tools/generate_region_maps.py (ROOT/train/sam/<i>.npy or .png).
# For the published split set label_regime=dict(type='from_file',
# path='data/mtpsl_splits/nyuv2/randomlabels.pth').
_base_ = ['../baseline/mtl_hrnet18-fpn_2xb2-40k_nyuv2-full-288x384.py']
train_pipeline = [
    dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=13)),
    dict(type='LoadRegionMap', source=dict(type='sam')),
    dict(type='RandomScaleCrop', scales=(1.0, 1.2, 1.5)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs'),
]
train_dataloader = dict(dataset=dict(
    pipeline=train_pipeline, label_regime=dict(type='randomlabels', seed=0)))
model = dict(methods=[
    dict(type='RegionContrast', num_classes=dict(sem_seg=13),
         loss_weight=0.075),
])
# the weight ramps up linearly over 20 epochs (795 / 4 images per step)
custom_hooks = [dict(type='LossRampUpHook', target='methods.rc.loss_weight',
                     schedule='linear', begin=0, end=4000)]
# a_theta at 1e-3 (the release's FiLM lr), the network at the baseline's 2e-4
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'methods.rc': dict(lr_mult=5.0)}))
