# HiTTs stage 1 (Zhang et al.; re-implemented from the paper) on
# PASCAL-Context, randomlabels: the onelabel config next to it (ResNet-18,
# one ASPP head per task, the multi-scale task tokens of supplement A.2,
# labels only) with the randomlabels regime. The published split is used
# with label_regime=dict(type='from_file',
# path='data/mtpsl_splits/pascal_context/randomlabels.npy'); the seeded draw
# below builds on any tree, including the tests' tiny one.
_base_ = ['./hitts-stage1_resnet18-aspp_1xb6-20k_pascal-context-onelabel-512x512.py']
train_dataloader = dict(dataset=dict(
    label_regime=dict(type='randomlabels', seed=0)))
