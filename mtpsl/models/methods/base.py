"""The one interface every cross-task method plugs into (docs/methods.md).

A cross-task method is a training-time loss over a :class:`MethodBundle`.
It may own parameters (mappers, projectors, transfer nets), which live under
``model.methods.<name>`` so a config can give them their own optimiser
settings (``paramwise_cfg.custom_keys``) and an exported model can drop them
(``tools/publish_model.py --drop-prefix methods.``). Methods never run in
``predict`` or ``_forward``.

Buffers of a method (memory banks, running statistics) follow one stated
policy, through :meth:`BaseCrossTaskMethod.register_bank`:

- checkpoints: a bank is a persistent buffer (``methods.<name>.<bank>`` and
  ``methods.<name>.<bank>_count`` in the state dict). Rank 0 saves it;
  ``--resume`` loads it into every rank, so a resumed run starts from the
  bank the interrupted one had.
- DDP: the runner wraps the model with ``broadcast_buffers=False``, so
  DDP never overwrites a bank. A ``'gathered'`` bank receives, at each
  :meth:`~BaseCrossTaskMethod.push_to_bank`, the new rows of every rank
  (all-gathered, in rank order): all ranks hold the same bank, and resume
  is exact for any number of processes. A ``'per_rank'`` bank keeps each
  rank's own rows (no communication); resumed, every rank restarts from
  rank 0's copy, so it is exact on one process only.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import torch
from mmengine.dist import all_gather, get_world_size
from mmengine.model import BaseModule

from mtpsl.registry import MODELS


@dataclass
class ViewBundle:
    """What the model computed for one view of a batch.

    Attributes:
        inputs: B x 3 x H x W normalised, padded images.
        shared_feats: the backbone (and neck) tuple the heads read.
        task_feats: ``{task: B x C x h x w}`` decoder features.
        preds: ``{task: B x C x H x W}`` activated predictions at input size.
        targets: ``{task: B x C x H x W}`` GT, invalid value where unlabelled.
        label_flags: B x T bool, columns in the order of ``tasks``.
        region_ids: B x 1 x H x W region map or None.
        outputs: ``{task: TaskOutput}`` (feature, raw logits, prediction,
            stride, extras such as bin logits): the task-output contract.
        strides: ``{task: stride of task_feats[task]}`` (input pixels per
            feature pixel).
        shared_strides: stride of each map of ``shared_feats``.
        fields: ``{name: B x C x h x w}`` per-pixel fields the pipeline
            carried (``mtpsl.structures.fields``), batched.
    """
    inputs: torch.Tensor
    shared_feats: Tuple[torch.Tensor, ...]
    task_feats: Dict[str, torch.Tensor]
    preds: Dict[str, torch.Tensor]
    targets: Dict[str, torch.Tensor]
    label_flags: torch.Tensor
    region_ids: Optional[torch.Tensor] = None
    outputs: Dict[str, Any] = field(default_factory=dict)
    strides: Dict[str, Union[int, float]] = field(default_factory=dict)
    shared_strides: Tuple[Union[int, float], ...] = ()
    fields: Dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass
class MethodBundle:
    """Everything a cross-task method may read at one training step.

    ``view1`` is the view the supervised losses use; ``view2`` is the second
    augmented view (None unless the pipeline makes two views and a method
    asked for it), ``view_params`` the per-image pair of view records
    (``mtpsl.datasets.transforms.two_view``), ``iter`` the runner's
    iteration (0 outside a runner).
    """
    tasks: Tuple[str, ...]
    view1: ViewBundle
    view2: Optional[ViewBundle] = None
    view_params: Optional[Sequence[tuple]] = None
    iter: int = 0
    data_samples: Optional[Sequence] = field(default=None, repr=False)
    seed: int = 0
    rank: int = 0

    def generator(self, name: str, device=None) -> torch.Generator:
        """A generator for the draws called ``name`` at this step.

        Seeded by (run seed, iteration, rank, name) alone, never by the
        global RNG, so ``--resume`` is bit for bit and two methods (or two
        draws of one method) never share a stream. Ranks draw differently,
        as their data differ.
        """
        device = torch.device(device if device is not None else 'cpu')
        key = f'{int(self.seed)}/{int(self.iter)}/{int(self.rank)}/{name}'
        seed = zlib.crc32(key.encode()) | (zlib.adler32(key.encode()) << 32)
        gen = torch.Generator(device=device)
        gen.manual_seed(seed & 0x7FFF_FFFF_FFFF_FFFF)
        return gen

    def flags(self, task: str) -> torch.Tensor:
        """B bool: which images of view 1 are labelled for ``task``."""
        return self.view1.label_flags[:, self.tasks.index(task)]


BANK_POLICIES = ('gathered', 'per_rank')


def gather_rows(rows: torch.Tensor) -> torch.Tensor:
    """``rows`` (N x ...) of every rank concatenated in rank order; the
    rows themselves outside distributed runs. Ranks may give different N."""
    if get_world_size() == 1:
        return rows
    n = torch.tensor([rows.shape[0]], device=rows.device)
    counts = [int(c) for c in all_gather(n)]
    padded = rows.new_zeros((max(counts),) + tuple(rows.shape[1:]))
    padded[:rows.shape[0]] = rows
    parts = all_gather(padded)
    return torch.cat([p[:c] for p, c in zip(parts, counts)])


@MODELS.register_module()
class BaseCrossTaskMethod(BaseModule):
    """Base of the cross-task methods: ``forward(bundle) -> {key: loss}``.

    Contract: ``loss(bundle)`` returns a dict whose keys are
    ``'<name>.loss_<what>'`` (``<name>`` is :attr:`name`) and whose values
    are scalar tensors already multiplied by their weights; log-only values
    must not contain ``loss`` in their key. Subclasses set
    ``needs_view2 = True`` to have the model run on the second view.

    Args:
        name: the key prefix and the attribute under ``model.methods``
            (default: the class's ``default_name``).
        loss_weight: multiplies every loss of the method; a
            :class:`LossRampUpHook` may change it during training.
    """
    default_name = 'method'
    needs_view2 = False

    def __init__(self, name: Optional[str] = None, loss_weight: float = 1.0,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.name = name or self.default_name
        if not self.name.isidentifier():
            raise ValueError(f'{type(self).__name__}: name must be a Python '
                             f'identifier, got {self.name!r}')
        self.loss_weight = float(loss_weight)

    def forward(self, bundle: MethodBundle) -> Dict[str, torch.Tensor]:
        """Named losses of the method for this bundle."""
        losses = self.loss(bundle)
        for key in losses:
            if not key.startswith(f'{self.name}.'):
                raise KeyError(f'{type(self).__name__} returned {key!r}; '
                               f'keys must start with {self.name!r}.')
        return losses

    def loss(self, bundle: MethodBundle) -> Dict[str, torch.Tensor]:
        """Implemented by each method: losses added after the balancer."""
        raise NotImplementedError

    def task_terms(self, bundle: MethodBundle
                   ) -> Dict[str, Dict[str, torch.Tensor]]:
        """Per-task terms that join a task's loss BEFORE the balancer.

        ``{task: {'loss_<what>': scalar}}``; the balancer weighs them with
        the task (uncertainty, GradNorm see them) and logs them as
        ``<task>.loss_<what>``. The "labelled" flag the balancer receives
        stays the supervised one. Default: none.
        """
        return {}

    def collect(self, bundle: MethodBundle
                ) -> Tuple[Dict[str, torch.Tensor],
                           Dict[str, Dict[str, torch.Tensor]]]:
        """``(losses after the balancer, per-task terms before it)``."""
        losses = self(bundle)
        terms = self.task_terms(bundle)
        for task, named in terms.items():
            if task not in bundle.tasks:
                raise KeyError(f'{type(self).__name__}.task_terms: '
                               f'{task!r} is not a task of the model '
                               f'{list(bundle.tasks)}')
            for key in named:
                if not key.startswith('loss_'):
                    raise KeyError(f'{type(self).__name__}.task_terms: '
                                   f'key {key!r} of task {task!r} must '
                                   "start with 'loss_'")
        return losses, terms

    def register_bank(self, name: str, shape: Sequence[int],
                      policy: str = 'gathered',
                      dtype: torch.dtype = torch.float32,
                      fill: float = 0.0) -> torch.Tensor:
        """A first-in-first-out bank of ``shape[0]`` rows, with its policy
        for checkpoints and DDP (module docstring); ``<name>_count`` counts
        the rows filled so far. Returns the bank."""
        if policy not in BANK_POLICIES:
            raise ValueError(f'{type(self).__name__}.register_bank({name!r}):'
                             f' policy {policy!r} not in {BANK_POLICIES}')
        if not shape or int(shape[0]) < 1:
            raise ValueError(f'{type(self).__name__}.register_bank({name!r}):'
                             f' shape {tuple(shape)} needs >= 1 row')
        self.register_buffer(name, torch.full(tuple(shape), fill,
                                              dtype=dtype), persistent=True)
        self.register_buffer(f'{name}_count',
                             torch.zeros((), dtype=torch.long),
                             persistent=True)
        if not hasattr(self, 'bank_policies'):
            self.bank_policies: Dict[str, str] = {}
        self.bank_policies[name] = policy
        return getattr(self, name)

    @torch.no_grad()
    def push_to_bank(self, name: str, rows: torch.Tensor) -> torch.Tensor:
        """Put ``rows`` (N x ...) at the front of bank ``name`` (the
        oldest rows fall off the end); gathered over ranks first for a
        ``'gathered'`` bank. Returns the bank."""
        policy = getattr(self, 'bank_policies', {}).get(name)
        if policy is None:
            raise KeyError(f'{type(self).__name__}: no bank {name!r}; '
                           'register it with register_bank')
        bank = getattr(self, name)
        rows = rows.detach().to(device=bank.device, dtype=bank.dtype)
        if tuple(rows.shape[1:]) != tuple(bank.shape[1:]):
            raise ValueError(f'{type(self).__name__}.push_to_bank({name!r}):'
                             f' rows of shape {tuple(rows.shape[1:])}, the '
                             f'bank holds {tuple(bank.shape[1:])}')
        if policy == 'gathered':
            rows = gather_rows(rows)
        size = bank.shape[0]
        bank.copy_(torch.cat([rows[:size], bank])[:size])
        count = getattr(self, f'{name}_count')
        count.fill_(min(size, int(count) + rows.shape[0]))
        return bank

    def bank_rows(self, name: str) -> torch.Tensor:
        """The filled rows of bank ``name``, newest first."""
        return getattr(self, name)[:int(getattr(self, f'{name}_count'))]

    def zero_loss(self) -> torch.Tensor:
        """A zero that touches every parameter, so DDP sees them all used
        on a step where the method has nothing to compare."""
        params = [p for p in self.parameters() if p.requires_grad]
        if not params:
            return torch.zeros(())
        return sum(p.reshape(-1)[0] * 0.0 for p in params)
