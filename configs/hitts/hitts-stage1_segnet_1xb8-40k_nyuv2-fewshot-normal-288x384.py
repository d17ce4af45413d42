# HiTTs stage 1 (Zhang et al.; re-implemented from the paper) on NYUv2,
# few-shot normal (Table 7): normal labelled on 10 images, the other tasks on
# all. Labels only (L_s).
_base_ = [
    '../_base_/datasets/nyuv2-288x384.py',
    '../_base_/models/hitts_segnet.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(dataset=dict(label_regime=dict(
    type='fewshot', task='normal', num_labelled=10, seed=0)))
param_scheduler = [
    dict(type='StepLR', step_size=10000, gamma=0.5, by_epoch=False),
]
# The paper gives no tau for few-shot: ours, those of NYUv2 random labels.
pseudo_tau = dict(sem_seg=0.9, depth=0.7, normal=0.7)
