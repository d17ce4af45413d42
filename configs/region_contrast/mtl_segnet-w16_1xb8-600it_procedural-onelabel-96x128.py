# Reference for the region contrast comparison: the narrow demo baseline in
# the onelabel regime (same data, pipeline, schedule and seed as the region
# contrast configs next to it; only ``model.methods`` and the region map
# differ). The same model as configs/xtc/'s reference.
_base_ = ['../baseline/mtl_segnet-w16_1xb8-600it_procedural-full-96x128.py']
train_dataloader = dict(dataset=dict(
    label_regime=dict(type='onelabel', seed=0)))
randomness = dict(seed=0)
