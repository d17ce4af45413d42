# The embedded procedural indoor dataset, small preset (CPU demos).
# Generate it with: python tools/generate_procedural_dataset.py \
#     data/procedural-96x128 --preset small
dataset_type = 'NYUv2Dataset'
data_root = 'data/procedural-96x128'
tasks = ('sem_seg', 'depth', 'normal')
num_classes = 13
class_names = ('bed', 'books', 'ceiling', 'chair', 'floor', 'furniture',
               'objects', 'painting', 'sofa', 'table', 'tv', 'wall', 'window')

train_pipeline = [
    dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=num_classes)),
    dict(type='PackMultiTaskInputs'),
]
test_pipeline = train_pipeline

train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 index_file='splits/train.txt', tasks=tasks,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 index_file='splits/val.txt', tasks=tasks, test_mode=True,
                 pipeline=test_pipeline))
# As in NYUv2, the folder ``val/`` holds the test split.
test_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 tasks=tasks, test_mode=True, pipeline=test_pipeline))
val_evaluator = [
    dict(type='SemSegMetric', num_classes=num_classes,
         class_names=class_names),
    dict(type='DepthMetric'),
    dict(type='NormalMetric'),
]
test_evaluator = val_evaluator
