# HiTTs stage 1 (Zhang et al.; re-implemented from the paper,
# configs/hitts/README.md): the HiTTs model trained on the labels only (L_s,
# Eq. 5). NYUv2, onelabel. The published split is used with
# label_regime=dict(type='from_file',
# path='data/mtpsl_splits/nyuv2/onelabel.pth'); the seeded draw below builds
# on any tree, including the tests' tiny one.
_base_ = [
    '../_base_/datasets/nyuv2-288x384.py',
    '../_base_/models/hitts_segnet.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(dataset=dict(
    label_regime=dict(type='onelabel', seed=0)))
# 400 epochs of 795 images at batch 8 (40k iterations), lr x0.5 every 100
param_scheduler = [
    dict(type='StepLR', step_size=10000, gamma=0.5, by_epoch=False),
]
# tau_i of the label discovery (supplement B).
pseudo_tau = dict(sem_seg=0.9, depth=0.45, normal=0.6)
