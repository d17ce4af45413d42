"""What every multi-task, partially labelled dataset of mtpsl shares.

A subclass says where the images and the per-task ground truth of its layout
live; this base turns that into one entry per image, with the label regime
applied: the GT path of a task is present only when the task is labelled for
that image, so the GT of an unlabelled task is never read.
"""
from __future__ import annotations

import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from mmengine.dataset import BaseDataset

from mtpsl.registry import LABEL_REGIMES, TRANSFORMS
from mtpsl.structures import check_tasks

from .value_checks import insert_value_check


class MultiTaskDataset(BaseDataset):
    """Base of the multi-task datasets (not registered: it has no layout).

    Args:
        data_root: dataset root.
        split: which split of the layout to read.
        index_file: optional file (relative to ``data_root``) listing the
            images of ``split`` to use, to carve a validation set.
        tasks: tasks to load, in the model's order; each must be in
            ``SUPPORTED_TASKS``.
        label_regime: config of a label regime (``mtpsl.datasets.regimes``)
            deciding which tasks each training image is labelled for; None
            means fully labelled. Not allowed with ``test_mode``: validation
            and test data are always fully labelled.
        extra_maps: ``{results key: folder}`` of extra per-pixel maps to
            load (e.g. ``dict(region_ids='instance')``).
        on_listing_error: ``'error'`` (default) raises when listing finds a
            bad file (a missing image; for PASCAL-Context an unreadable
            human-parts file); ``'defer'`` keeps the entry (and, for the
            parts file, counts the task as labelled) so that LOADING fails
            naming the file: ``check_dataset`` uses it to report every
            problem instead of stopping at the first.
        bad_values: what a loaded sample with bad values does:
            ``'error'`` (default), ``'warn'`` or ``'mask'``; see
            :mod:`mtpsl.datasets.value_checks` and ``docs/datasets.md``.
    """

    # Subclasses: the tasks their layout has ground truth for.
    SUPPORTED_TASKS: Tuple[str, ...] = ()

    def __init__(self, data_root: str, split: str = 'train',
                 index_file: Optional[str] = None,
                 tasks: Sequence[str] = ('sem_seg', 'depth', 'normal'),
                 label_regime: Optional[dict] = None,
                 extra_maps: Optional[Mapping[str, str]] = None,
                 on_listing_error: str = 'error',
                 bad_values: str = 'error',
                 **kwargs) -> None:
        name = type(self).__name__
        self.split = split
        self.index_file = index_file
        self.tasks = check_tasks(tasks, f'{name}.tasks')
        for t in self.tasks:
            if t not in self.SUPPORTED_TASKS:
                raise ValueError(f'{name}: task {t!r} has no ground truth '
                                 f'in this layout (tasks: '
                                 f'{", ".join(self.SUPPORTED_TASKS)})')
        if on_listing_error not in ('error', 'defer'):
            raise ValueError(f'{name}: on_listing_error={on_listing_error!r} '
                             "must be 'error' or 'defer'")
        self.on_listing_error = on_listing_error
        self.label_regime_cfg = label_regime
        self.extra_maps = dict(extra_maps or {})
        self.label_regime = None
        if kwargs.get('test_mode') and label_regime is not None:
            raise ValueError(
                f'{name}({split!r}): label_regime is for training data; '
                'validation and test splits are fully labelled')
        # BaseDataset's Compose builds dicts in MMEngine's root registry,
        # which finds our transforms only under a Runner's default scope.
        if kwargs.get('pipeline'):
            kwargs['pipeline'] = [TRANSFORMS.build(t) if isinstance(t, dict)
                                  else t for t in kwargs['pipeline']]
        super().__init__(data_root=data_root, **kwargs)
        self.value_check = insert_value_check(self.pipeline, bad_values,
                                              f'{name}({split!r})')

    # ------------------------------------------------ what a layout defines
    def list_images(self) -> List[Tuple[str, str]]:
        """``(img_id, img_path)`` of every image of the split, in order."""
        raise NotImplementedError

    def gt_path(self, img_id: str, task: str) -> str:
        """Path of the GT file of ``task`` for image ``img_id``."""
        raise NotImplementedError

    def extra_path(self, img_id: str, folder: str) -> str:
        """Path of an extra map stored under ``folder``."""
        raise NotImplementedError

    def has_gt(self, img_id: str, task: str) -> bool:
        """Whether ground truth of ``task`` exists at all for the image.

        True by default; a layout where a task exists only for some images
        (PASCAL-Context human parts) overrides it. False makes the task
        unlabelled for the image whatever the label regime says.
        """
        return True

    # -------------------------------------------------------------- shared
    def _check_root(self) -> None:
        if not osp.isdir(self.data_root):
            raise FileNotFoundError(
                f'{type(self).__name__}: dataset root does not exist: '
                f'{self.data_root}')

    def load_data_list(self) -> List[dict]:
        """One entry per image: paths of labelled tasks only, label flags."""
        self._check_root()
        images = self.list_images()
        if not images:
            raise ValueError(f'{type(self).__name__}: no images in split '
                             f'{self.split!r} of {self.data_root}')
        ids = [img_id for img_id, _ in images]
        regime = None
        if self.label_regime_cfg is not None:
            regime = LABEL_REGIMES.build(
                self.label_regime_cfg,
                default_args=dict(image_ids=ids, tasks=self.tasks))
        self.label_regime = regime
        data_list = []
        for img_id, img_path in images:
            if self.on_listing_error == 'error' and not osp.isfile(img_path):
                raise FileNotFoundError(f'image not found: {img_path}')
            flags: Dict[str, bool] = (
                regime.flags_for(img_id) if regime is not None else
                {t: True for t in self.tasks})
            flags = {t: bool(flags[t]) and self.has_gt(img_id, t)
                     for t in self.tasks}
            gt_paths = {t: self.gt_path(img_id, t)
                        for t in self.tasks if flags[t]}
            extra_paths = {k: self.extra_path(img_id, folder)
                           for k, folder in self.extra_maps.items()}
            data_list.append(dict(img_path=img_path, img_id=img_id,
                                  tasks=self.tasks, label_flags=flags,
                                  gt_paths=gt_paths, extra_paths=extra_paths,
                                  **self.entry_extras()))
        return data_list

    def entry_extras(self) -> dict:
        """Extra keys every entry carries (none by default)."""
        return {}
