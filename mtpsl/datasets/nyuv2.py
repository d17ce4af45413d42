"""NYUv2 in the preprocessed layout of the MTPSL line (and our procedural set).

``ROOT/{train,val}/{image,label,depth,normal}/{i}.npy``: ``val/`` is the test
split as in the public release. A validation split is carved from ``train/``
by an index file (one integer per line), e.g. ``splits/val.txt``.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence

from mmengine.dataset import BaseDataset

from mtpsl.registry import DATASETS, LABEL_REGIMES, TRANSFORMS
from mtpsl.structures import check_tasks

NYU13_CLASSES = ('bed', 'books', 'ceiling', 'chair', 'floor', 'furniture',
                 'objects', 'painting', 'sofa', 'table', 'tv', 'wall',
                 'window')

# Folder of each task's maps in the layout.
TASK_FOLDERS: Dict[str, str] = dict(sem_seg='label', depth='depth',
                                    normal='normal', edge='edge',
                                    saliency='saliency')


def read_index_file(path: str) -> List[int]:
    """Integer image indices, one per line (blank lines ignored)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'index file not found: {path}')
    out = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                out.append(int(line))
            except ValueError:
                raise ValueError(f'{path}:{lineno}: expected an integer image '
                                 f'index, got {line!r}') from None
    if len(set(out)) != len(out):
        raise ValueError(f'{path}: duplicate indices')
    return out


@DATASETS.register_module()
class NYUv2Dataset(BaseDataset):
    """Multi-task NYUv2-layout dataset with partial labels.

    Args:
        data_root: dataset root holding ``train/`` and ``val/``.
        split: folder under the root (``'train'`` or ``'val'``).
        index_file: optional file (relative to ``data_root``) listing the
            indices of ``split`` to use, to carve a validation set.
        tasks: tasks to load, in the model's order.
        label_regime: config of a label regime (``mtpsl.datasets.regimes``)
            deciding which tasks each training image is labelled for; None
            means fully labelled. Not allowed with ``test_mode``: validation
            and test data are always fully labelled.
        extra_maps: ``{results key: folder}`` of extra per-pixel maps to
            load (e.g. ``dict(region_ids='instance')``).
    """

    METAINFO = dict(classes=NYU13_CLASSES)

    def __init__(self, data_root: str, split: str = 'train',
                 index_file: Optional[str] = None,
                 tasks: Sequence[str] = ('sem_seg', 'depth', 'normal'),
                 label_regime: Optional[dict] = None,
                 extra_maps: Optional[Mapping[str, str]] = None,
                 **kwargs) -> None:
        self.split = split
        self.index_file = index_file
        self.tasks = check_tasks(tasks, f'{type(self).__name__}.tasks')
        for t in self.tasks:
            if t not in TASK_FOLDERS:
                raise ValueError(f'{type(self).__name__}: task {t!r} has no '
                                 f'folder in this layout ({TASK_FOLDERS})')
        self.label_regime_cfg = label_regime
        self.extra_maps = dict(extra_maps or {})
        self.label_regime = None
        if kwargs.get('test_mode') and label_regime is not None:
            raise ValueError(
                f'{type(self).__name__}({split!r}): label_regime is for '
                'training data; validation and test splits are fully '
                'labelled')
        # BaseDataset's Compose builds dicts in MMEngine's root registry,
        # which finds our transforms only under a Runner's default scope.
        if kwargs.get('pipeline'):
            kwargs['pipeline'] = [TRANSFORMS.build(t) if isinstance(t, dict)
                                  else t for t in kwargs['pipeline']]
        super().__init__(data_root=data_root, **kwargs)

    def _split_dir(self) -> str:
        if not osp.isdir(self.data_root):
            raise FileNotFoundError(
                f'{type(self).__name__}: dataset root does not exist: '
                f'{self.data_root}')
        split_dir = osp.join(self.data_root, self.split)
        image_dir = osp.join(split_dir, 'image')
        if not osp.isdir(image_dir):
            raise FileNotFoundError(
                f'{type(self).__name__}: split {self.split!r} not found: '
                f'expected folder {image_dir}')
        return split_dir

    def _image_indices(self, split_dir: str) -> List[int]:
        if self.index_file is not None:
            return read_index_file(osp.join(self.data_root, self.index_file))
        names = [n for n in os.listdir(osp.join(split_dir, 'image'))
                 if n.endswith('.npy')]
        try:
            return sorted(int(n[:-4]) for n in names)
        except ValueError as e:
            raise ValueError(f'{split_dir}/image: files must be named '
                             f'<index>.npy ({e})') from None

    def load_data_list(self) -> List[dict]:
        """One entry per image: paths of labelled tasks only, label flags."""
        split_dir = self._split_dir()
        indices = self._image_indices(split_dir)
        if not indices:
            raise ValueError(f'{type(self).__name__}: no images in {split_dir}')
        ids = [str(i) for i in indices]
        regime = None
        if self.label_regime_cfg is not None:
            regime = LABEL_REGIMES.build(
                self.label_regime_cfg,
                default_args=dict(image_ids=ids, tasks=self.tasks))
        self.label_regime = regime
        data_list = []
        for idx, img_id in zip(indices, ids):
            flags = (regime.flags_for(img_id) if regime is not None else
                     {t: True for t in self.tasks})
            img_path = osp.join(split_dir, 'image', f'{idx}.npy')
            if not osp.isfile(img_path):
                raise FileNotFoundError(f'image not found: {img_path}')
            gt_paths = {t: osp.join(split_dir, TASK_FOLDERS[t], f'{idx}.npy')
                        for t in self.tasks if flags[t]}
            extra_paths = {k: osp.join(split_dir, folder, f'{idx}.npy')
                           for k, folder in self.extra_maps.items()}
            data_list.append(dict(img_path=img_path, img_id=img_id,
                                  tasks=self.tasks, label_flags=flags,
                                  gt_paths=gt_paths, extra_paths=extra_paths))
        return data_list
