"""A regime drawn over more tasks than a dataset trains: the single-task
reference of a partial-label comparison sees exactly the labels its task
has in the multi-task model's regime (same draw, same seed)."""
from __future__ import annotations

from typing import Sequence

from mtpsl.registry import LABEL_REGIMES

from .regime import LabelRegime, RegimeError, _check_task_names


@LABEL_REGIMES.register_module(name='task_subset')
def build_task_subset(image_ids: Sequence[str], tasks: Sequence[str],
                      regime: dict, over: Sequence[str]) -> LabelRegime:
    """``regime`` drawn over the tasks ``over``, keeping the columns
    ``tasks``; images left with no label stay (every label-free image gives
    an exact zero loss, so the reference sees the same labelled images per
    iteration as the multi-task model does for that task)."""
    over = _check_task_names(over, "label regime 'task_subset'.over")
    extra = [t for t in tasks if t not in over]
    if extra:
        raise RegimeError(f"label regime 'task_subset': task {extra[0]!r} "
                          f'is not in over={over}')
    if not isinstance(regime, dict) or 'type' not in regime:
        raise RegimeError("label regime 'task_subset': regime must be a "
                          f'regime config with a type, got {regime!r}')
    full = LABEL_REGIMES.build(dict(regime),
                               default_args=dict(image_ids=image_ids,
                                                 tasks=over))
    return full.select_tasks(tasks, allow_empty=True)
