"""The example of docs/methods.md, "Writing a new cross-task method".

``ExamplePrior`` keeps a bank of the mean depth of labelled images and
pulls the mean predicted depth of each UNLABELLED image towards the bank's
mean, on a random subset of its pixels. It is deliberately small, but it has
all three things a real method may need: a per-task term (it joins the
depth loss before the balancer), a buffer with a stated policy (the bank)
and a random draw (the pixel subset, from the bundle's seeded generator).
It is a teaching example, not a method from a paper.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import torch

from mtpsl.models.methods import BaseCrossTaskMethod, MethodBundle
from mtpsl.registry import MODELS


@MODELS.register_module()
class ExamplePrior(BaseCrossTaskMethod):
    """``|mean of drawn pixels of pred_t - mean of the bank|`` per
    unlabelled image, averaged, as the per-task term ``loss_prior``.

    Args:
        tasks: the model's tasks (the model passes them).
        task: a dense one-channel task (default ``'depth'``).
        bank_size: labelled-image means the bank keeps.
        num_pixels: pixels drawn per unlabelled image.
        policy: the bank's DDP policy (``'gathered'`` or ``'per_rank'``).
        loss_weight: weight of the term.
    """
    default_name = 'prior'

    def __init__(self, tasks: Sequence[str], task: str = 'depth',
                 bank_size: int = 16, num_pixels: int = 64,
                 policy: str = 'gathered', loss_weight: float = 1.0,
                 name: Optional[str] = None, init_cfg=None) -> None:
        super().__init__(name=name, loss_weight=loss_weight,
                         init_cfg=init_cfg)
        if task not in tasks:
            raise ValueError(f'ExamplePrior: task {task!r} is not a task of '
                             f'the model {list(tasks)}')
        self.task = task
        self.num_pixels = int(num_pixels)
        self.register_bank('bank', (int(bank_size),), policy=policy)

    def loss(self, bundle: MethodBundle) -> Dict[str, torch.Tensor]:
        """No loss after the balancer: everything is a per-task term."""
        return {}

    def task_terms(self, bundle: MethodBundle
                   ) -> Dict[str, Dict[str, torch.Tensor]]:
        """``{task: {'loss_prior': term}}``; updates the bank."""
        view = bundle.view1
        pred = view.preds[self.task][:, 0]        # B x H x W
        target = view.targets[self.task][:, 0]
        labelled = bundle.flags(self.task)
        # 1. the bank: mean GT depth of every labelled image (valid pixels)
        means = [target[i][target[i] > 0].mean() for i in range(len(target))
                 if labelled[i] and bool((target[i] > 0).any())]
        if means:
            self.push_to_bank('bank', torch.stack(means))
        rows = self.bank_rows('bank')
        unlabelled = (~labelled).nonzero().flatten()
        if not len(rows) or not len(unlabelled):
            return {self.task: dict(loss_prior=pred.sum() * 0.0)}
        # 2. the random draw: seeded by (run seed, iteration, rank, name)
        gen = bundle.generator(f'{self.name}.pixels', pred.device)
        flat = pred[unlabelled].flatten(1)        # U x HW
        index = torch.randint(flat.shape[1], (len(unlabelled),
                                               self.num_pixels),
                              generator=gen, device=pred.device)
        drawn = flat.gather(1, index).mean(dim=1)
        # 3. the per-task term, weighted with the depth loss by the balancer
        term = (drawn - rows.mean()).abs().mean()
        return {self.task: dict(loss_prior=self.loss_weight * term)}
