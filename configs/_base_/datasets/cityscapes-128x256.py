# Cityscapes in the preprocessed multi-task layout of the MTPSL line
# (ROOT/{train,val}/{image,label_7,label_19,depth}/{i}.npy, val = the 500
# test images), 7 classes + depth. A validation split is carved from the
# 2975 training images with index files; make them with
#     python tools/make_val_split.py data/cityscapes --val-fraction 0.1
dataset_type = 'CityscapesDataset'
data_root = 'data/cityscapes'
tasks = ('sem_seg', 'depth')
num_classes = 7
class_names = ('flat', 'construction', 'object', 'nature', 'sky', 'human',
               'vehicle')

# The NYUv2 augmentation of the MTPSL line (zoom by s, depth / s, flip).
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
                 index_file='splits/train.txt', num_classes=num_classes,
                 tasks=tasks, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 index_file='splits/val.txt', num_classes=num_classes,
                 tasks=tasks, test_mode=True, pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 num_classes=num_classes, tasks=tasks, test_mode=True,
                 pipeline=test_pipeline))
val_evaluator = [
    dict(type='SemSegMetric', num_classes=num_classes,
         class_names=class_names),
    dict(type='DepthMetric'),
]
test_evaluator = val_evaluator
