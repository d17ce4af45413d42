"""The optional joint decoding stage between task decoders and classifiers.

``MultiTaskModel(joint_stage=...)`` runs, in this order: the backbone (and
neck), every head's ``decode`` (task features), the joint stage on all of
them at once, then every head's classifier on the updated features. A stage
may also return per-task extras (tokens, affinity maps, or ``'logits'`` that
replace the head's classifier); they reach the task's
:class:`~mtpsl.models.heads.TaskOutput` ``extras``. Without a stage the
model is the plain per-task model, with the same state-dict keys.
"""
from __future__ import annotations

from typing import Dict, Sequence, Tuple

import torch
from mmengine.model import BaseModule

from mtpsl.registry import MODELS

Features = Dict[str, torch.Tensor]
Extras = Dict[str, Dict[str, torch.Tensor]]


@MODELS.register_module()
class BaseJointStage(BaseModule):
    """Base of the joint stages: ``forward(task_feats, shared_feats,
    input_size) -> (task_feats, extras)``.

    Subclasses implement :meth:`joint`; :meth:`forward` checks that every
    task comes back (and no other), so a stage cannot silently drop one.

    Args:
        tasks: the model's tasks, in its order (the model passes them).
    """

    def __init__(self, tasks: Sequence[str], init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.tasks = tuple(tasks)

    def joint(self, task_feats: Features,
              shared_feats: Tuple[torch.Tensor, ...],
              input_size: Sequence[int]) -> Tuple[Features, Extras]:
        """Implemented by each stage: updated features and extras."""
        raise NotImplementedError

    def forward(self, task_feats: Features,
                shared_feats: Tuple[torch.Tensor, ...],
                input_size: Sequence[int]) -> Tuple[Features, Extras]:
        """Run :meth:`joint` and check what it returns."""
        feats, extras = self.joint(task_feats, tuple(shared_feats),
                                   tuple(input_size))
        name = type(self).__name__
        if set(feats) != set(self.tasks):
            raise KeyError(f'{name} returned features for '
                           f'{sorted(feats)}; the model has {list(self.tasks)}')
        unknown = set(extras) - set(self.tasks)
        if unknown:
            raise KeyError(f'{name} returned extras for unknown tasks '
                           f'{sorted(unknown)}')
        return feats, {t: dict(extras.get(t, {})) for t in self.tasks}
