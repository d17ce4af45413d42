# XTC (Li, Liu, Bilen, CVPR 2022) on the procedural dataset (288x384),
# one label per image: the SegNet baseline plus the joint-space
# consistency.
_base_ = ['../baseline/mtl_segnet_1xb8-40k_procedural-full-288x384.py',
          '../_base_/methods/xtc.py']

train_pipeline = [
    dict(type='LoadMultiTaskNpy',
         num_classes=dict(sem_seg={{_base_.num_classes}})),
    dict(type='TwoViewTransform',
         view_pipeline={{_base_.xtc_view_pipeline}}),
    dict(type='PackTwoViewInputs'),
]
train_dataloader = dict(dataset=dict(
    pipeline=train_pipeline,
    label_regime=dict(type='onelabel', seed=0)))

# XTC's defaults (configs/_base_/methods/xtc.py): the method, its optimiser
# groups and their schedules.
model = dict(methods=[{{_base_.xtc_method}}])
optim_wrapper = {{_base_.xtc_optim_wrapper}}
param_scheduler = {{_base_.xtc_param_scheduler}}
