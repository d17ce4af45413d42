# Reference for the XTC comparison: the narrow demo baseline trained in the
# onelabel regime (same data, pipeline, schedule and seed as the XTC config
# next to it; only ``model.methods`` differs).
_base_ = ['../baseline/mtl_segnet-w16_1xb8-600it_procedural-full-96x128.py']
# _delete_: the base's label_regime is None, which MMEngine will not merge
# a dict into.
train_dataloader = dict(dataset=dict(
    label_regime=dict(_delete_=True, type='onelabel', seed=0)))
randomness = dict(seed=0)
