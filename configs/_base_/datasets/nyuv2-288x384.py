# NYUv2 in the preprocessed layout (ROOT/{train,val}/{image,label,depth,normal}
# /{i}.npy, val = the 654 test images). A validation split is carved from the
# 795 training images with index files; make them with
#     python tools/make_val_split.py data/nyuv2 --val-fraction 0.1
dataset_type = 'NYUv2Dataset'
data_root = 'data/nyuv2'
tasks = ('sem_seg', 'depth', 'normal')
num_classes = 13
class_names = ('bed', 'books', 'ceiling', 'chair', 'floor', 'furniture',
               'objects', 'painting', 'sofa', 'table', 'tv', 'wall', 'window')

# Augmentation of the MTPSL line: zoom by s in {1, 1.2, 1.5} (depth / s),
# then a horizontal flip (normal x negated). See docs/transforms.md.
train_pipeline = [
    dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=num_classes)),
    dict(type='RandomScaleCrop', scales=(1.0, 1.2, 1.5)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs'),
]
test_pipeline = [
    dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=num_classes)),
    dict(type='PackMultiTaskInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 index_file='splits/train.txt', tasks=tasks,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 index_file='splits/val.txt', tasks=tasks, test_mode=True,
                 pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=8,
    num_workers=2,
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
