"""A label regime must label every task on some training image.

A task with 0 labelled images trains nothing (its head never gets a signal)
while its loss logs as an exact 0 that reads as a perfect fit, so a regime
that leaves one is refused, naming the task and the regime, unless its
config says ``allow_unlabelled_tasks=True`` (then a warning says so).
"""
from __future__ import annotations

import warnings
from typing import Any, List, Optional

from .regime import LabelRegime, RegimeError

# Keys of a ``label_regime`` config consumed here, not by its builder.
REGIME_OPTIONS = ('allow_unlabelled_tasks',)


def unlabelled_tasks(regime: LabelRegime) -> List[str]:
    """The tasks no image of ``regime`` is labelled for."""
    return [t for t, n in regime.counts().items() if n == 0]


def check_every_task_labelled(regime: LabelRegime,
                              allow_unlabelled_tasks: bool = False,
                              described: Optional[str] = None) -> List[str]:
    """Refuse (or, when allowed, warn about) tasks with 0 labelled images;
    returns them."""
    missing = unlabelled_tasks(regime)
    if not missing:
        return missing
    what = described or f'label regime {regime.name!r}'
    message = (f'{what} leaves task(s) {", ".join(map(repr, missing))} with '
               f'0 labelled training images (of {len(regime)}): their heads '
               'would never be trained')
    if not allow_unlabelled_tasks:
        raise RegimeError(
            f'{message}. Label them on some images, drop them from the '
            "dataset's tasks, or set label_regime.allow_unlabelled_tasks="
            'True to train them unsupervised on purpose')
    warnings.warn(f'{message} (allowed by allow_unlabelled_tasks=True; '
                  'their losses are left out of the log)', stacklevel=2)
    return missing


def build_label_regime(cfg: Any, registry: Any,
                       default_args: Optional[dict] = None) -> Any:
    """LABEL_REGIMES' build function: the builder, then the coverage check
    (``allow_unlabelled_tasks`` is taken out of ``cfg`` first)."""
    from mmengine.registry import build_from_cfg
    cfg = dict(cfg)
    allow = bool(cfg.pop('allow_unlabelled_tasks', False))
    regime = build_from_cfg(cfg, registry, default_args)
    if isinstance(regime, LabelRegime):
        params = {k: v for k, v in cfg.items() if k != 'type'}
        check_every_task_labelled(
            regime, allow, f"label regime {cfg.get('type')!r} {params}")
    return regime
