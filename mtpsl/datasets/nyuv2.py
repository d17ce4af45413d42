"""NYUv2 in the preprocessed layout of the MTPSL line (and our procedural set).

``ROOT/{train,val}/{image,label,depth,normal}/{i}.npy``: ``val/`` is the test
split as in the public release. A validation split is carved from ``train/``
by an index file (one integer per line), e.g. ``splits/val.txt``.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Dict, List, Tuple

from mtpsl.registry import DATASETS

from .base_multitask import MultiTaskDataset

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
class NYUv2Dataset(MultiTaskDataset):
    """Multi-task NYUv2-layout dataset with partial labels.

    Arguments as :class:`MultiTaskDataset`; here ``data_root`` holds
    ``train/`` and ``val/`` (the test split), ``split`` names one of them,
    and ``index_file`` lists image indices (one integer per line).
    """

    METAINFO = dict(classes=NYU13_CLASSES)
    # Folder of each task's maps under ``ROOT/{split}/``.
    TASK_FOLDERS: Dict[str, str] = TASK_FOLDERS
    SUPPORTED_TASKS = tuple(TASK_FOLDERS)

    def _split_dir(self) -> str:
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

    def list_images(self) -> List[Tuple[str, str]]:
        """``(str(i), ROOT/split/image/i.npy)`` for the split's indices."""
        split_dir = self._split_dir()
        return [(str(i), osp.join(split_dir, 'image', f'{i}.npy'))
                for i in self._image_indices(split_dir)]

    def gt_path(self, img_id: str, task: str) -> str:
        """``ROOT/split/<task folder>/<id>.npy``."""
        return osp.join(self.data_root, self.split, self.TASK_FOLDERS[task],
                        f'{img_id}.npy')

    def extra_path(self, img_id: str, folder: str) -> str:
        """``ROOT/split/<folder>/<id>.npy``."""
        return osp.join(self.data_root, self.split, folder, f'{img_id}.npy')
