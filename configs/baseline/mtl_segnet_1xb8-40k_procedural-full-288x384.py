_base_ = [
    '../_base_/datasets/procedural-288x384.py',
    '../_base_/models/segnet_mtl.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
