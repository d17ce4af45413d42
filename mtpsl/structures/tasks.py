"""The dense tasks mtpsl knows, with what their targets look like."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple


@dataclass(frozen=True)
class TaskSpec:
    """How one task's target is stored and which value marks an invalid pixel.

    ``kind`` is ``'label'`` (integer class map, ``channels`` = 1 and the number
    of classes comes from the config) or ``'dense'`` (float map with
    ``channels`` channels). ``invalid`` is the padding / ignore value: a pixel
    holding it (in every channel, for dense maps) is not supervised.
    """
    name: str
    kind: str
    channels: int
    invalid: float


TASK_SPECS: Dict[str, TaskSpec] = {
    'sem_seg': TaskSpec('sem_seg', 'label', 1, -1),
    'human_parts': TaskSpec('human_parts', 'label', 1, -1),
    'depth': TaskSpec('depth', 'dense', 1, 0.0),
    'normal': TaskSpec('normal', 'dense', 3, 0.0),
    # Edges and saliency are binary maps; -1 marks an unlabelled pixel.
    'edge': TaskSpec('edge', 'label', 1, -1),
    'saliency': TaskSpec('saliency', 'label', 1, -1),
}

TASK_NAMES: Tuple[str, ...] = tuple(TASK_SPECS)


def task_spec(task: str) -> TaskSpec:
    """The spec of ``task``; a clear error for an unknown name."""
    try:
        return TASK_SPECS[task]
    except KeyError:
        raise KeyError(f'unknown task {task!r}; known tasks: '
                       f'{", ".join(TASK_NAMES)}') from None


def check_tasks(tasks, where: str = 'tasks') -> Tuple[str, ...]:
    """Validate a list of task names (known, no duplicates) and return it."""
    tasks = tuple(tasks)
    if not tasks:
        raise ValueError(f'{where}: at least one task is needed')
    for t in tasks:
        task_spec(t)
    if len(set(tasks)) != len(tasks):
        raise ValueError(f'{where}: duplicate task names in {tasks}')
    return tasks


# Where a dataset's metainfo lists the classes of each label task.
CLASS_NAME_KEYS = {'sem_seg': 'classes', 'human_parts': 'human_part_classes'}
BINARY_TASKS = ('edge', 'saliency')


def classes_from_meta(meta: Optional[dict], task: str) -> Optional[int]:
    """Classes of label task ``task`` read off a dataset's metainfo:
    ``num_classes[task]``, else the length of its class-name list, 2 for
    the binary tasks; None when the meta does not say."""
    meta = meta or {}
    counts = meta.get('num_classes')
    if isinstance(counts, dict) and task in counts:
        return int(counts[task])
    names = meta.get(CLASS_NAME_KEYS.get(task, ''))
    if names is not None:
        return len(names)
    return 2 if task in BINARY_TASKS else None
