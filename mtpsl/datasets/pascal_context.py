"""PASCAL-Context multi-task (PASCAL_MT) in the layout of its releases.

::

    ROOT/JPEGImages/{id}.jpg                  image (VOC id, e.g. 2008_000002)
    ROOT/ImageSets/Context/{train,val}.txt    image ids of each split
    ROOT/semseg/pascal-context/{id}.png       sem_seg (21 classes, 255 ignore)
    ROOT/human_parts/{id}.mat                 human_parts (only with people)
    ROOT/normals_distill/{id}.png             normal (distilled)
    ROOT/sal_distill/{id}.png                 saliency (distilled)
    ROOT/pascal-context/trainval/{id}.mat     edge (from ``LabelMap``)

How each file is decoded: :mod:`mtpsl.datasets.transforms.loading_pascal`.
"""
from __future__ import annotations

import os.path as osp
from typing import Dict, List, Optional, Tuple

from mtpsl.registry import DATASETS

from .base_multitask import MultiTaskDataset
from .transforms.loading_pascal import HUMAN_PART_CLASSES, has_human_parts

PASCAL21_CLASSES = ('background', 'aeroplane', 'bicycle', 'bird', 'boat',
                    'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
                    'diningtable', 'dog', 'horse', 'motorbike', 'person',
                    'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor')
# Where each task's file lives: (folder under ROOT, extension).
PASCAL_TASK_FILES: Dict[str, Tuple[str, str]] = dict(
    sem_seg=('semseg/pascal-context', '.png'),
    human_parts=('human_parts', '.mat'),
    normal=('normals_distill', '.png'),
    saliency=('sal_distill', '.png'),
    edge=('pascal-context/trainval', '.mat'),
)


def read_id_file(path: str) -> List[str]:
    """Image ids, one per line (blank lines ignored, no duplicates)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'id file not found: {path}')
    with open(path) as f:
        ids = [line.strip() for line in f if line.strip()]
    seen = set()
    for image_id in ids:
        if image_id in seen:
            raise ValueError(f'{path}: image id {image_id!r} listed twice')
        seen.add(image_id)
    return ids


@DATASETS.register_module()
class PascalContextDataset(MultiTaskDataset):
    """Multi-task PASCAL-Context with partial labels; ids are VOC ids.

    Human parts exist only for images with people: an image whose
    ``human_parts/{id}.mat`` is missing or labels no part pixel is
    UNLABELLED for ``human_parts`` (flag False, no GT path), whatever the
    label regime says, in training and in test mode. Deciding this reads
    each existing parts file once while the dataset is listed.

    Args:
        data_root: dataset root (the folder holding ``JPEGImages``).
        split: ``'train'`` or ``'val'`` (``ImageSets/Context/{split}.txt``).
        index_file: optional file (relative to ``data_root``) of VOC ids,
            a subset of the split, to carve a validation set.
        tasks: any of sem_seg, human_parts, normal, saliency, edge.
        **kwargs: label_regime, extra_maps (``{key: folder}`` of
            ``ROOT/{folder}/{id}.npy`` maps), on_listing_error, pipeline,
            test_mode, ... as :class:`MultiTaskDataset`.
    """

    METAINFO = dict(classes=PASCAL21_CLASSES,
                    human_part_classes=HUMAN_PART_CLASSES)
    SUPPORTED_TASKS = tuple(PASCAL_TASK_FILES)

    def __init__(self, data_root: str, split: str = 'train',
                 index_file: Optional[str] = None,
                 tasks=('sem_seg', 'human_parts', 'normal', 'saliency',
                        'edge'),
                 **kwargs) -> None:
        super().__init__(data_root=data_root, split=split,
                         index_file=index_file, tasks=tasks, **kwargs)

    def list_images(self) -> List[Tuple[str, str]]:
        """``(id, ROOT/JPEGImages/id.jpg)`` for the ids of the split."""
        ids = read_id_file(osp.join(self.data_root, 'ImageSets', 'Context',
                                    f'{self.split}.txt'))
        if self.index_file is not None:
            path = osp.join(self.data_root, self.index_file)
            subset = read_id_file(path)
            known = set(ids)
            outside = [i for i in subset if i not in known]
            if outside:
                raise ValueError(f'{path}: image id {outside[0]!r} is not in '
                                 f'split {self.split!r} ({len(outside)} ids '
                                 'outside it)')
            ids = subset
        return [(i, osp.join(self.data_root, 'JPEGImages', f'{i}.jpg'))
                for i in ids]

    def gt_path(self, img_id: str, task: str) -> str:
        """``ROOT/<task folder>/<id>.<ext>``."""
        folder, ext = PASCAL_TASK_FILES[task]
        return osp.join(self.data_root, folder, f'{img_id}{ext}')

    def extra_path(self, img_id: str, folder: str) -> str:
        """``ROOT/<folder>/<id>.npy``."""
        return osp.join(self.data_root, folder, f'{img_id}.npy')

    def has_gt(self, img_id: str, task: str) -> bool:
        """Human parts only where the parts file labels a part pixel."""
        if task != 'human_parts':
            return True
        try:
            return has_human_parts(self.gt_path(img_id, task))
        except ValueError:
            if self.on_listing_error == 'defer':
                return True  # loading it will report the file
            raise
