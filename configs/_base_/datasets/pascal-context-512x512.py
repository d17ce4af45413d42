# PASCAL-Context multi-task (PASCAL_MT layout, see docs/datasets.md):
# semseg (21), human parts (7, only images with people), normals,
# saliency and edges. Images are at most 500x500; the data preprocessor
# pads each batch to a multiple of 32 (so at most 512x512).
# ``val`` (5105 images) is the test split. A validation split is carved
# from the 4998 training images: ROOT/splits/{train,val}.txt list VOC ids
# (a subset of ImageSets/Context/train.txt each).
dataset_type = 'PascalContextDataset'
data_root = 'data/pascal_context'
tasks = ('sem_seg', 'human_parts', 'normal', 'saliency', 'edge')
num_classes = 21
num_parts = 7
class_names = ('background', 'aeroplane', 'bicycle', 'bird', 'boat',
               'bottle', 'bus', 'car', 'cat', 'chair', 'cow', 'diningtable',
               'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep',
               'sofa', 'train', 'tvmonitor')
part_names = ('background', 'head', 'torso', 'upper_arm', 'lower_arm',
              'upper_leg', 'lower_leg')

train_pipeline = [
    dict(type='LoadPascalContext',
         num_classes=dict(sem_seg=num_classes, human_parts=num_parts)),
    dict(type='RandomScaleCrop', scales=(1.0, 1.2, 1.5)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs'),
]
test_pipeline = [
    dict(type='LoadPascalContext',
         num_classes=dict(sem_seg=num_classes, human_parts=num_parts)),
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
    dict(type='SemSegMetric', task='human_parts', num_classes=num_parts,
         class_names=part_names),
    dict(type='NormalMetric'),
    dict(type='SaliencyMetric'),
    dict(type='EdgeMetric'),
]
test_evaluator = val_evaluator
