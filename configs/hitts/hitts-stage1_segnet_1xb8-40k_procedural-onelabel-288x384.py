# HiTTs stage 1 (Zhang et al.; re-implemented from the paper) on the
# procedural dataset at NYUv2 size, one label per image: labels only (L_s).
_base_ = [
    '../_base_/datasets/procedural-288x384.py',
    '../_base_/models/hitts_segnet.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
# procedural depths lie in 0.55..6.4 m
depth_bins = dict(type='LogDepthBins', num_bins=30, min_depth=0.5,
                  max_depth=8.0)
model = dict(heads=dict(depth=dict(bins=depth_bins)))
train_dataloader = dict(dataset=dict(
    label_regime=dict(type='onelabel', seed=0)))
param_scheduler = [
    dict(type='StepLR', step_size=10000, gamma=0.5, by_epoch=False),
]
