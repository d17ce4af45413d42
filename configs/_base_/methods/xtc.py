# XTC's defaults as its public release computes them on NYUv2 (Li, Liu,
# Bilen, CVPR 2022; configs/xtc/README.md has the balance equation and the
# fidelity table). A config adds them on top of ONE baseline config:
#     _base_ = ['../baseline/<baseline>.py', '../_base_/methods/xtc.py']
#     model = dict(heads={{_base_.xtc_image_sum_heads}},
#                  methods=[{{_base_.xtc_method}}])
#     optim_wrapper = {{_base_.xtc_optim_wrapper}}
#     param_scheduler = {{_base_.xtc_param_scheduler}}
# (names prefixed ``xtc_``: a base file may not repeat a key of another
# base). ``num_classes`` comes from the model's heads.
xtc_method = dict(
    type='XTC', feat_channels=512, loss_weight=2.0, reg_weight=0.5,
    views=(2,), reduction='image_sum', full_label_pairs=True,
    map_each_image=True, normal_invalid=0.5, joint_view_forward=True,
    mapper=dict(widths=(64, 128, 256, 512, 512),
                convs_per_stage=(2, 2, 3, 3, 3), pool=True, stem='conv',
                output='pooled', bn_affine=True, shared_bn=False))
# Supervision as the release: per image, the sum of its labelled tasks'
# losses (pixel means over that image), divided by the batch size.
xtc_image_sum = dict(loss=dict(reduction='image_sum'))
xtc_image_sum_heads = dict(sem_seg=xtc_image_sum, depth=xtc_image_sum,
                           normal=xtc_image_sum)
# One Adam (per parameter moments: the same as the release's optimisers):
# the SegNet and the mapper's convs / BN at 1e-4, halved every 100 "epochs"
# (20k of our 40k iterations = 100 of the release's 200 epochs); only the
# FiLM gamma / beta at 1e-3, halved every 30 (6k).
xtc_film = 'methods.xtc.mapper.film'
xtc_optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=1e-4),
    constructor='NamedParamGroupsConstructor',
    paramwise_cfg=dict(custom_keys={xtc_film: dict(lr_mult=10.0)}))
xtc_param_scheduler = [
    dict(type='GroupStepLR', step_size=20000, gamma=0.5, by_epoch=False,
         prefixes=[xtc_film], exclude=True),
    dict(type='GroupStepLR', step_size=6000, gamma=0.5, by_epoch=False,
         prefixes=[xtc_film]),
]
# Views (release): view 1 a zoom-crop, supervised; view 2 a zoom-crop OF
# view 1 (total zoom up to 2.25, depth / (s1 s2)), the XTC term only; both
# in one forward (one BN batch). No horizontal flip on NYUv2.
xtc_view_pipeline = [dict(type='RandomScaleCrop', scales=(1.0, 1.2, 1.5))]
