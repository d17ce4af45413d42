# Reference for the XTC comparison: the narrow demo baseline trained in the
# onelabel regime (same data, view 1, schedule and seed as the XTC config
# next to it). Its supervision is aggregated as XTC's release aggregates it
# (per image the sum of its labelled tasks' losses, over the batch size), so
# that the pair differs only in what XTC adds.
_base_ = ['../baseline/mtl_segnet-w16_1xb8-600it_procedural-full-96x128.py']
image_sum = dict(loss=dict(reduction='image_sum'))
model = dict(heads=dict(sem_seg=image_sum, depth=image_sum,
                        normal=image_sum))
train_dataloader = dict(dataset=dict(
    label_regime=dict(type='onelabel', seed=0)))
randomness = dict(seed=0)
