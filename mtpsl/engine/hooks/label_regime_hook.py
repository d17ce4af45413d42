"""Write the training split's label regime next to the checkpoints."""
from __future__ import annotations

import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mtpsl.datasets.regimes import LabelRegime
from mtpsl.registry import HOOKS, LABEL_REGIMES


def _unwrap(dataset):
    """The innermost dataset under MMEngine-style wrappers (``.dataset``)."""
    seen = set()
    while id(dataset) not in seen:
        seen.add(id(dataset))
        if getattr(dataset, 'label_regime', None) is not None:
            return dataset
        inner = getattr(dataset, 'dataset', None)
        if inner is None:
            inner = getattr(dataset, '_dataset', None)  # Runner's slicing
        if inner is None:
            return dataset
        dataset = inner
    return dataset


def training_regime(dataset) -> LabelRegime:
    """The dataset's label regime; a ``full`` one if it has none."""
    dataset = _unwrap(dataset)
    regime = getattr(dataset, 'label_regime', None)
    if regime is not None:
        return regime
    tasks = getattr(dataset, 'tasks', None)
    if tasks is None:
        raise ValueError(f'SaveLabelRegimeHook: training dataset '
                         f'{type(dataset).__name__} has neither '
                         '`label_regime` nor `tasks`')
    ids = [str(dataset.get_data_info(i).get('img_id', i))
           for i in range(len(dataset))]
    return LABEL_REGIMES.build(dict(type='full'),
                               default_args=dict(image_ids=ids, tasks=tasks))


@HOOKS.register_module()
class SaveLabelRegimeHook(Hook):
    """Save the label regime of the training data as ``label_regime.json``.

    The file (:meth:`LabelRegime.save`) records exactly which tasks each
    training image was labelled for, so a run can be repeated on the same
    split with ``label_regime=dict(type='from_file', path=...)``. Fully
    labelled data is written as a ``full`` regime. Written on rank 0 only,
    before training starts (a resumed run writes the same file again).

    Args:
        filename: file name under the runner's ``work_dir``.
    """

    priority = 'VERY_LOW'

    def __init__(self, filename: str = 'label_regime.json') -> None:
        self.filename = filename
        self.path: Optional[str] = None

    def before_train(self, runner) -> None:
        """Write the regime file and log its summary (rank 0)."""
        if not is_main_process():
            return
        regime = training_regime(runner.train_dataloader.dataset)
        self.path = osp.join(runner.work_dir, self.filename)
        regime.save(self.path)
        runner.logger.info(f'{regime.summary()}\nlabel regime written to '
                           f'{self.path}')
