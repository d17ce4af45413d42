"""The evaluator of multi-task models: task metrics, then Delta_MTL."""
from __future__ import annotations

from typing import Optional, Sequence, Union

from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.logging import print_log

from mtpsl.registry import EVALUATOR, METRICS
from .delta_mtl import DeltaMTL


@EVALUATOR.register_module()
class MultiTaskEvaluator(Evaluator):
    """MMEngine's ``Evaluator`` that appends ``delta_mtl/primary`` and
    ``delta_mtl/all`` to the task metrics when ``delta_mtl`` is given.

    Every process computes the same Delta from the already-gathered task
    metrics, so it is exact under DDP as they are.

    Args:
        metrics: task metric configs (built in mtpsl's METRICS) or metrics.
        delta_mtl: ``dict(references=..., source=..., primary=None)``, the
            arguments of :class:`DeltaMTL`, or a ``DeltaMTL``.
    """

    def __init__(self, metrics: Union[dict, BaseMetric, Sequence],
                 delta_mtl: Union[dict, DeltaMTL, None] = None) -> None:
        if not isinstance(metrics, Sequence):
            metrics = [metrics]
        super().__init__([METRICS.build(m) if isinstance(m, dict) else m
                          for m in metrics])
        if isinstance(delta_mtl, dict):
            delta_mtl = DeltaMTL(**delta_mtl)
        self.delta_mtl: Optional[DeltaMTL] = delta_mtl

    def evaluate(self, size: int) -> dict:
        """Task metrics of the whole set, plus Delta_MTL."""
        metrics = super().evaluate(size)
        if self.delta_mtl is not None:
            metrics.update(self.delta_mtl(metrics))
            print_log(f'Delta_MTL against single-task references from: '
                      f'{self.delta_mtl.source}', logger='current')
        return metrics
