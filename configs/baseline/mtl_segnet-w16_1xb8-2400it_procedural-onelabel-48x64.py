# Reference for the XTC comparison: the narrow demo baseline trained in the
# onelabel regime (same data, pipeline, schedule and seed as
# configs/xtc/xtc_segnet-w16_1xb8-2400it_procedural-onelabel-48x64.py; only
# ``model.methods`` and the mapper's optimiser group differ).
_base_ = ['./mtl_segnet-w16_1xb8-2400it_procedural-full-48x64.py']
train_dataloader = dict(dataset=dict(
    label_regime=dict(type='onelabel', seed=0)))
randomness = dict(seed=0)
