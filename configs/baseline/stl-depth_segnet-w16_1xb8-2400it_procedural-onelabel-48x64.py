# Single-task reference for 'depth' in the onelabel regime: the narrow demo
# SegNet with one head, trained on the labels 'depth' has when the onelabel
# regime is drawn over (sem_seg, depth, normal) with the same seed as the
# multi-task runs (the other images give an exact zero loss, so it sees as
# many 'depth' labels per iteration as the multi-task model). The benchmark
# (tools/benchmark/suites/) replaces the regime and the seed per run.
_base_ = ['./mtl_segnet-w16_1xb8-2400it_procedural-full-48x64.py']
stl_tasks = ('depth', )
model = dict(heads=dict(
    _delete_=True,
    depth=dict(type='SegNetTaskHead', in_channels=16,
               loss=dict(type='MaskedL1Loss'))))
train_dataloader = dict(dataset=dict(
    tasks=stl_tasks,
    label_regime=dict(type='task_subset', over=('sem_seg', 'depth', 'normal'),
                      regime=dict(type='onelabel', seed=0))))
val_dataloader = dict(dataset=dict(tasks=stl_tasks))
test_dataloader = dict(dataset=dict(tasks=stl_tasks))
val_evaluator = [dict(type='DepthMetric')]
test_evaluator = val_evaluator
randomness = dict(seed=0)
