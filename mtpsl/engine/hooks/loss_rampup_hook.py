"""Set a method's loss weight from the iteration alone (a ramp-up)."""
from __future__ import annotations

import math
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mtpsl.registry import HOOKS

SCHEDULES = ('linear', 'sigmoid', 'step')


def rampup_factor(it: int, schedule: str, begin: int, end: int) -> float:
    """Fraction in [0, 1] of the full weight at iteration ``it``.

    With ``t = (it - begin) / (end - begin)`` clamped to [0, 1]: ``linear``
    is t, ``sigmoid`` is exp(-5 (1 - t)^2) (Laine & Aila, ICLR 2017; 0 before
    ``begin``), ``step`` is 0 before ``end`` and 1 from it on.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f'unknown ramp-up schedule {schedule!r}; use one of '
                         f'{SCHEDULES}')
    if it < begin:
        return 0.0
    if it >= end:
        return 1.0
    t = (it - begin) / (end - begin)
    if schedule == 'linear':
        return t
    if schedule == 'sigmoid':
        return math.exp(-5.0 * (1.0 - t) ** 2)
    return 0.0


@HOOKS.register_module()
class LossRampUpHook(Hook):
    """Before each training iteration, set ``target`` to ``max_weight *
    rampup_factor(runner.iter)``. Stateless: a resumed run computes the same
    weight from ``runner.iter``.

    Args:
        target: dotted path from the model (wrappers unwrapped), e.g.
            ``'methods.xtc.loss_weight'``.
        schedule: ``'linear'``, ``'sigmoid'`` or ``'step'``.
        begin, end: iterations where the ramp starts and reaches the full
            weight (``end > begin``).
        max_weight: the full weight; default: the value ``target`` has when
            training starts (the config's).
    """
    priority = 'NORMAL'

    def __init__(self, target: str, schedule: str = 'sigmoid',
                 begin: int = 0, end: int = 1000,
                 max_weight: Optional[float] = None) -> None:
        if schedule not in SCHEDULES:
            raise ValueError(f'LossRampUpHook: unknown schedule {schedule!r};'
                             f' use one of {SCHEDULES}')
        if end <= begin:
            raise ValueError(f'LossRampUpHook: end ({end}) must be greater '
                             f'than begin ({begin})')
        self.target = target
        self.schedule = schedule
        self.begin, self.end = int(begin), int(end)
        self.max_weight = max_weight

    def _owner(self, runner):
        """The object holding the target attribute, and its name."""
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        *path, attr = self.target.split('.')
        owner = model
        for i, part in enumerate(path):
            nxt = getattr(owner, part, None)
            if nxt is None and hasattr(owner, '__getitem__'):
                try:
                    nxt = owner[part]
                except (KeyError, TypeError, IndexError):
                    nxt = None
            if nxt is None:
                raise AttributeError(
                    f'LossRampUpHook: target {self.target!r}: the model has '
                    f'no {".".join(path[:i + 1])!r}')
            owner = nxt
        if not hasattr(owner, attr):
            raise AttributeError(
                f'LossRampUpHook: target {self.target!r}: '
                f'{type(owner).__name__} at {".".join(path) or "model"!r} '
                f'has no attribute {attr!r}')
        return owner, attr

    def before_train(self, runner) -> None:
        """Check the target exists; take the full weight from it if unset."""
        owner, attr = self._owner(runner)
        if self.max_weight is None:
            self.max_weight = float(getattr(owner, attr))

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        """Set the weight for ``runner.iter``."""
        owner, attr = self._owner(runner)
        setattr(owner, attr, self.max_weight * rampup_factor(
            runner.iter, self.schedule, self.begin, self.end))
