"""Delta_MTL: the mean relative gain (%) of a multi-task model over
single-task references, in its two published variants."""
from __future__ import annotations

import math
from typing import Dict, Mapping, Optional

from mtpsl.structures import task_spec
from .report import higher_is_better

# The one metric per task the MTPSL line and the PASCAL-MT papers use.
PRIMARY_METRICS = {'sem_seg': 'mIoU', 'human_parts': 'mIoU',
                   'depth': 'abs_err', 'normal': 'mean', 'saliency': 'maxF',
                   'edge': 'odsF'}


def relative_gain(value: float, reference: float, name: str) -> float:
    """(-1)^l (M - M_ref) / M_ref x 100, l = 1 when lower is better."""
    sign = 1.0 if higher_is_better(name) else -1.0
    return sign * (value - reference) / reference * 100


def delta_mtl(metrics: Mapping[str, float],
              references: Mapping[str, Mapping[str, float]],
              primary: Optional[Mapping[str, str]] = None
              ) -> Dict[str, float]:
    """``{'primary': ..., 'all': ...}`` Delta_MTL in % of ``metrics``
    (``{'task/name': value}``, as an evaluator returns them).

    ``primary``: mean over the tasks of ``references`` of the gain on the
    task's primary metric (``PRIMARY_METRICS``, overridden per task by
    ``primary``), as MTPSL / HiTTs. ``all``: mean over tasks of the mean gain
    over every metric of the task that has a reference (LibMTL-style).
    """
    primary = {**PRIMARY_METRICS, **(primary or {})}
    per_task_primary, per_task_all = [], []
    for task, refs in references.items():
        gains = {}
        for name, ref in refs.items():
            key = f'{task}/{name}'
            if key not in metrics:
                raise KeyError(f'Delta_MTL: the reference {key!r} has no '
                               f'evaluated metric; evaluated: '
                               f'{", ".join(sorted(metrics))}')
            gains[name] = relative_gain(float(metrics[key]), float(ref),
                                        name)
        if primary[task] not in gains:
            raise KeyError(f'Delta_MTL: no reference for the primary metric '
                           f'{task}/{primary[task]}')
        per_task_primary.append(gains[primary[task]])
        per_task_all.append(sum(gains.values()) / len(gains))
    return dict(primary=sum(per_task_primary) / len(per_task_primary),
                all=sum(per_task_all) / len(per_task_all))


class DeltaMTL:
    """Delta_MTL against named single-task references.

    Args:
        references: ``{task: {metric name: single-task value}}``, in the
            units the metrics report (mIoU in %, depth in metres, ...),
            from single-task models trained in the SAME label regime.
        source: where the references came from (paper, table, run); it is
            logged with the result, so required.
        primary: ``{task: metric name}`` to change a task's primary metric.
    """

    def __init__(self, references: Mapping[str, Mapping[str, float]],
                 source: str,
                 primary: Optional[Mapping[str, str]] = None) -> None:
        if not references:
            raise ValueError('DeltaMTL: references is empty')
        if not isinstance(source, str) or not source.strip():
            raise ValueError('DeltaMTL: say where the references come from '
                             "(source='paper, table / run')")
        primary = dict(primary or {})
        for task, refs in references.items():
            task_spec(task)
            if not refs:
                raise ValueError(f'DeltaMTL: no reference for task {task!r}')
            for name, ref in refs.items():
                if higher_is_better(name) is None:
                    raise ValueError(f'DeltaMTL: references.{task}.{name}: '
                                     'unknown metric (which way is better?)')
                if not math.isfinite(float(ref)) or float(ref) == 0:
                    raise ValueError(f'DeltaMTL: references.{task}.{name} = '
                                     f'{ref!r}: must be finite and non-zero')
            name = primary.get(task, PRIMARY_METRICS[task])
            if name not in refs:
                raise ValueError(f'DeltaMTL: references.{task} lacks the '
                                 f'primary metric {name!r}')
        self.references = {t: {k: float(v) for k, v in r.items()}
                           for t, r in references.items()}
        self.source = source
        self.primary = primary

    def __call__(self, metrics: Mapping[str, float]) -> Dict[str, float]:
        """``{'delta_mtl/primary': ..., 'delta_mtl/all': ...}``."""
        out = delta_mtl(metrics, self.references, self.primary)
        return {f'delta_mtl/{k}': v for k, v in out.items()}

    def __repr__(self) -> str:
        return (f'DeltaMTL(references={self.references}, '
                f'source={self.source!r}, primary={self.primary})')
