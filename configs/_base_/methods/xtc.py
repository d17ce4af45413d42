# XTC's defaults (Li, Liu, Bilen, CVPR 2022; the release's weights and
# schedule). A config adds them on top of ONE baseline config:
#     _base_ = ['../baseline/<baseline>.py', '../_base_/methods/xtc.py']
#     model = dict(methods=[{{_base_.xtc_method}}])
#     optim_wrapper = {{_base_.xtc_optim_wrapper}}
#     param_scheduler = {{_base_.xtc_param_scheduler}}
# (names prefixed ``xtc_``: a base file may not repeat a key of another
# base). ``num_classes`` comes from the model's heads.
xtc_method = dict(type='XTC', feat_channels=512,
                  mapper_widths=(64, 128, 256, 512, 512), loss_weight=2.0,
                  reg_weight=0.5, use_view2=True)
# Network Adam 1e-4 halved every 100 "epochs" (20k iterations); the mapper
# (parameters under ``methods.xtc``) at 1e-3 halved every 30 (6k), as the
# release: one Adam, a parameter group per parameter, and one schedule per
# set of groups (mtpsl/engine/optim.py).
xtc_optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=1e-4),
    constructor='NamedParamGroupsConstructor',
    paramwise_cfg=dict(custom_keys={'methods.xtc': dict(lr_mult=10.0)}))
xtc_param_scheduler = [
    dict(type='GroupStepLR', step_size=20000, gamma=0.5, by_epoch=False,
         prefixes=['methods.'], exclude=True),
    dict(type='GroupStepLR', step_size=6000, gamma=0.5, by_epoch=False,
         prefixes=['methods.']),
]
# The two augmented views of XTC's pipelines (zoom + flip each); view 1 is
# supervised as in the baseline, view 2 only feeds the XTC term.
xtc_view_pipeline = [
    dict(type='RandomScaleCrop', scales=(1.0, 1.2, 1.5)),
    dict(type='RandomFlip', prob=0.5),
]
