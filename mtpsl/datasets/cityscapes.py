"""Cityscapes in the preprocessed multi-task layout of the MTPSL line.

``ROOT/{train,val}/{image,label_7,label_19,depth}/{i}.npy`` (128 x 256):
``val/`` is the test split. Image float H x W x 3 in [0, 1]; labels float
H x W with -1 = ignore (``label_7`` or ``label_19``); depth H x W x 1
(derived from disparity), 0 = invalid. Same machinery as NYUv2: a validation
split is carved from ``train/`` by an index file.
"""
from __future__ import annotations

from typing import Dict, Sequence

from mtpsl.registry import DATASETS, TRANSFORMS

from .nyuv2 import NYUv2Dataset
from .transforms.depth_target import InverseDepth
from .transforms.formatting import PackMultiTaskInputs

CITYSCAPES7_CLASSES = ('flat', 'construction', 'object', 'nature', 'sky',
                       'human', 'vehicle')
CITYSCAPES19_CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence',
                        'pole', 'traffic light', 'traffic sign',
                        'vegetation', 'terrain', 'sky', 'person', 'rider',
                        'car', 'truck', 'bus', 'train', 'motorcycle',
                        'bicycle')
DEPTH_TARGETS = ('depth', 'inverse_depth')


@DATASETS.register_module()
class CityscapesDataset(NYUv2Dataset):
    """Multi-task Cityscapes (semantic + depth) with partial labels.

    Args:
        data_root: dataset root holding ``train/`` and ``val/``.
        num_classes: 7 or 19; reads the labels of ``label_7`` or
            ``label_19``.
        depth_target: ``'depth'`` (the stored maps) or ``'inverse_depth'``
            (the XTasC target): the dataset then inserts an
            :class:`InverseDepth` transform just before
            ``PackMultiTaskInputs`` (at the end if the pipeline has no
            packer), i.e. after every geometric transform, so the target is
            1 / d on pixels with d > 0 and 0 where d == 0. Every entry
            carries ``depth_target``.
        tasks: a subset of ``('sem_seg', 'depth')``.
        **kwargs: as :class:`NYUv2Dataset` (split, index_file, label_regime,
            extra_maps, pipeline, test_mode, ...).
    """

    SUPPORTED_TASKS = ('sem_seg', 'depth')

    def __init__(self, data_root: str, num_classes: int = 7,
                 depth_target: str = 'depth',
                 tasks: Sequence[str] = ('sem_seg', 'depth'),
                 **kwargs) -> None:
        if num_classes not in (7, 19):
            raise ValueError(f'CityscapesDataset: num_classes={num_classes!r}'
                             ' must be 7 or 19 (folders label_7 / label_19)')
        if depth_target not in DEPTH_TARGETS:
            raise ValueError(f'CityscapesDataset: depth_target='
                             f'{depth_target!r} must be one of '
                             f'{DEPTH_TARGETS}')
        self.num_classes = num_classes
        self.depth_target = depth_target
        self.TASK_FOLDERS: Dict[str, str] = dict(
            sem_seg=f'label_{num_classes}', depth='depth')
        classes = CITYSCAPES7_CLASSES if num_classes == 7 else \
            CITYSCAPES19_CLASSES
        kwargs.setdefault('metainfo', dict(classes=classes))
        pipeline = [TRANSFORMS.build(t) if isinstance(t, dict) else t
                    for t in kwargs.pop('pipeline', None) or []]
        if depth_target == 'inverse_depth':
            pipeline = self._with_inverse_depth(pipeline)
        super().__init__(data_root=data_root, tasks=tasks, pipeline=pipeline,
                         **kwargs)

    @staticmethod
    def _with_inverse_depth(pipeline: list) -> list:
        """The pipeline with InverseDepth inserted before the packer."""
        if any(isinstance(t, InverseDepth) for t in pipeline):
            raise ValueError("CityscapesDataset: depth_target='inverse_depth'"
                             ' already adds InverseDepth; remove it from the '
                             'pipeline (it would invert the depth twice)')
        pos = next((i for i, t in enumerate(pipeline)
                    if isinstance(t, PackMultiTaskInputs)), len(pipeline))
        return pipeline[:pos] + [InverseDepth()] + pipeline[pos:]

    def entry_extras(self) -> dict:
        """Every entry says which depth target its pipeline produces."""
        return dict(depth_target=self.depth_target)
