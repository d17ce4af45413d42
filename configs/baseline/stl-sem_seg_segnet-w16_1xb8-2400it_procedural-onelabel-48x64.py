# Single-task reference for 'sem_seg' in the onelabel regime: the narrow demo
# SegNet with one head, trained on the labels 'sem_seg' has when the onelabel
# regime is drawn over (sem_seg, depth, normal) with the same seed as the
# multi-task runs (the other images give an exact zero loss, so it sees as
# many 'sem_seg' labels per iteration as the multi-task model). The benchmark
# (tools/benchmark/suites/) replaces the regime and the seed per run.
_base_ = ['./mtl_segnet-w16_1xb8-2400it_procedural-full-48x64.py']
stl_tasks = ('sem_seg', )
model = dict(heads=dict(
    _delete_=True,
    sem_seg=dict(type='SegNetTaskHead', in_channels=16, num_classes=13,
                 loss=dict(type='CrossEntropyLoss', ignore_index=-1))))
train_dataloader = dict(dataset=dict(
    tasks=stl_tasks,
    label_regime=dict(type='task_subset', over=('sem_seg', 'depth', 'normal'),
                      regime=dict(type='onelabel', seed=0))))
val_dataloader = dict(dataset=dict(tasks=stl_tasks))
test_dataloader = dict(dataset=dict(tasks=stl_tasks))
val_evaluator = [dict(type='SemSegMetric', num_classes=13,
                       class_names=_base_.class_names)]
test_evaluator = val_evaluator
randomness = dict(seed=0)
