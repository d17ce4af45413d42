# XTC (Li, Liu, Bilen, CVPR 2022) as its public release computes it, on
# the procedural dataset (288x384), random labels.
# configs/xtc/README.md: the balance equation, the fidelity table.
_base_ = ['../baseline/mtl_segnet_1xb8-40k_procedural-full-288x384.py',
          '../_base_/methods/xtc.py']

train_pipeline = [
    dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=13)),
    dict(type='TwoViewTransform', view_pipeline={{_base_.xtc_view_pipeline}},
         nested=True),
    dict(type='PackTwoViewInputs'),
]
train_dataloader = dict(dataset=dict(
    pipeline=train_pipeline, label_regime=dict(type='randomlabels', seed=0)))

model = dict(heads={{_base_.xtc_image_sum_heads}},
             methods=[{{_base_.xtc_method}}])
optim_wrapper = {{_base_.xtc_optim_wrapper}}
param_scheduler = {{_base_.xtc_param_scheduler}}
