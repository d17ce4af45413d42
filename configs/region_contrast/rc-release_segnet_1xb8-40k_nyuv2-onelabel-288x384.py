# Region contrast with the views and the aggregation of the official
# release (configs/region_contrast/README.md), on NYUv2, onelabel: view 1 a
# zoom-crop, supervised; view 2 a zoom-crop OF view 1 (nested), the region
# contrast only; both views in one forward (one BN batch); no flip. L_RC per
# (image, pair) summed, x 2.0, / batch size. Regions: SAM maps (as
# rc_segnet_1xb8-40k_nyuv2-onelabel-288x384.py), carried by both views.
_base_ = ['../baseline/mtl_segnet_1xb8-40k_nyuv2-full-288x384.py']
view_pipeline = [dict(type='RandomScaleCrop', scales=(1.0, 1.2, 1.5))]
train_pipeline = [
    dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=13)),
    dict(type='LoadRegionMap', source=dict(type='sam')),
    dict(type='TwoViewTransform', view_pipeline=view_pipeline, nested=True,
         view2_pipeline=view_pipeline),
    dict(type='PackTwoViewInputs'),
]
train_dataloader = dict(dataset=dict(
    pipeline=train_pipeline, label_regime=dict(type='onelabel', seed=0)))
model = dict(methods=[
    dict(type='RegionContrast', num_classes=dict(sem_seg=13),
         view='view2', joint_view_forward=True, aggregation='release',
         release_scale=2.0, loss_weight=0.075),
])
# the weight ramps up linearly over 20 epochs (795 / 8 images per step)
custom_hooks = [dict(type='LossRampUpHook', target='methods.rc.loss_weight',
                     schedule='linear', begin=0, end=2000)]
# a_theta at 1e-3 (the release's FiLM lr), the network at the baseline's 1e-4
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'methods.rc': dict(lr_mult=10.0)}))
