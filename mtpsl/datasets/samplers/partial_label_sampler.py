"""An index sampler whose batches cover the labelled tasks as evenly as it can.

Under partial labels a plain shuffle often makes batches with no image
labelled for some task (onelabel, K=3, batch 2: at least a third of the
(batch, task) pairs; batch 8: about 1 in 25). This sampler orders each pass
over the data so that every batch holds as many tasks as the regime allows.

Rule (one pass = one epoch of images):
  1. Images are grouped by label pattern (the set of tasks they are labelled
     for); each group is shuffled with ``np.random.default_rng([seed, pass])``
     and gets a random tie-break rank from the same generator.
  2. A batch is filled slot by slot. A task is *due* if it is not yet in the
     batch and it would fall behind schedule without it (the share of its
     images still left in the pass exceeds the share of the pass still to
     come after this batch): a rare task is spread over the pass, one image
     every N / n_t slots, instead of being used up in the first batches. The next image comes from the group that covers the most
     due tasks; ties go to the group with the largest share of its images
     left (so groups drain at the same rate), then to the tie-break rank.
  3. Leftover: when every group is empty, the pass ends and the next pass
     refills the groups; a batch that straddles two passes keeps filling
     from the new pass (infinite mode), so all batches are full.
In ``onelabel`` with balanced tasks and batch >= K this interleaves the task
groups round-robin, so every batch holds every task; with full labels there
is one group and the order is a seeded shuffle.

Distributed: the order is built over global batches of ``batch_size * W``,
each made of W consecutive per-rank batches that are balanced on their own;
rank r takes batch r of each global batch. Ranks get disjoint shares whose
union is the pass, and every rank's batches are balanced. In epoch mode with
``round_up`` (as MMEngine's DefaultSampler) the pass is padded, with images
picked by the same rule from the next shuffle, to ``ceil(N / W) * W`` images,
and the last global batch is split evenly between ranks.
"""
from __future__ import annotations

import math
from typing import Dict, Iterator, List, Optional, Sized

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mtpsl.registry import DATA_SAMPLERS


def label_flags_of(dataset: Sized) -> np.ndarray:
    """(N, K) bool flags from ``get_data_info(i)['label_flags']``.

    Works through MMEngine's dataset wrappers. A dataset without label flags
    counts as fully labelled for one task.
    """
    n = len(dataset)
    get_info = getattr(dataset, 'get_data_info', None)
    rows: List[Dict[str, bool]] = []
    for i in range(n):
        info = get_info(i) if get_info is not None else {}
        rows.append(dict(info.get('label_flags') or {'all': True}))
    tasks: List[str] = []
    for row in rows:
        tasks.extend(t for t in row if t not in tasks)
    flags = np.zeros((n, max(len(tasks), 1)), dtype=bool)
    for i, row in enumerate(rows):
        for t, labelled in row.items():
            flags[i, tasks.index(t)] = bool(labelled)
    return flags


def batch_sizes(num_images: int, batch_size: int, world_size: int,
                round_up: bool) -> List[int]:
    """Per-rank batch sizes of one epoch, in global order (r0, r1, ...)."""
    total = (math.ceil(num_images / world_size) * world_size if round_up
             else num_images)
    full, rest = divmod(total, batch_size * world_size)
    sizes = [batch_size] * (full * world_size)
    if rest:
        sizes += [rest // world_size + (r < rest % world_size)
                  for r in range(world_size)]
    return sizes


class BalancedOrder:
    """Builds task-balanced batches from (N, K) label flags, pass by pass."""

    def __init__(self, flags: np.ndarray, seed: int, first_pass: int = 0):
        flags = np.asarray(flags, dtype=bool)
        if flags.ndim != 2 or len(flags) == 0:
            raise ValueError(f'label flags must be a non-empty (N, K) array, '
                             f'got shape {flags.shape}')
        self.num_images = len(flags)
        self.seed = int(seed)
        self.pass_idx = first_pass - 1
        patterns, group_of = np.unique(flags, axis=0, return_inverse=True)
        group_of = np.asarray(group_of).reshape(-1)
        self.patterns = patterns.astype(np.int64)
        self.members = [np.flatnonzero(group_of == g)
                        for g in range(len(self.patterns))]
        self.sizes = np.array([len(m) for m in self.members], dtype=np.int64)
        self.task_totals = flags.sum(0).astype(np.int64)
        self._start_pass()

    def _start_pass(self) -> None:
        self.pass_idx += 1
        rng = np.random.default_rng([self.seed, self.pass_idx])
        self.queues = [rng.permutation(m).tolist() for m in self.members]
        self.tie_rank = rng.permutation(len(self.members))
        self.left = self.sizes.copy()
        self.task_left = self.task_totals.copy()
        self.placed = 0

    def next_batch(self, size: int) -> List[int]:
        """The next ``size`` indices, balanced as one batch."""
        batch: List[int] = []
        in_batch = np.zeros(self.patterns.shape[1], dtype=bool)
        while len(batch) < size:
            if self.placed == self.num_images:
                self._start_pass()
            end = min(self.placed + size - len(batch), self.num_images)
            # Behind schedule at the end of this batch without one more
            # image: left_t / total_t > (N - end) / N.
            due = (~in_batch & (self.task_left * self.num_images >
                                self.task_totals * (self.num_images - end)))
            gain = np.where(self.left > 0, self.patterns @ due, -1)
            share = self.left / np.maximum(self.sizes, 1)
            # lexsort: the last key is the primary one; pick the maximum.
            g = np.lexsort((-self.tie_rank, share, gain))[-1]
            batch.append(self.queues[g].pop())
            self.left[g] -= 1
            self.task_left -= self.patterns[g]
            in_batch |= self.patterns[g].astype(bool)
            self.placed += 1
        return batch

    def epoch(self, batch_size: int, world_size: int,
              round_up: bool) -> List[List[int]]:
        """One pass as per-rank batches in global order (r0, r1, ..., r0...).

        The last global batch is split evenly between ranks (padded when
        ``round_up``); without ``round_up`` it is split as evenly as possible
        and no image repeats.
        """
        sizes = batch_sizes(self.num_images, batch_size, world_size, round_up)
        return [self.next_batch(s) if s else [] for s in sizes]


@DATA_SAMPLERS.register_module()
class PartialLabelSampler(Sampler):
    """Index sampler giving task-balanced batches under partial labels.

    ``batch_size`` must equal the dataloader's: MMEngine builds a sampler
    with only ``dataset`` and ``seed``, and the DataLoader cuts batches from
    consecutive indices of each rank's stream.

    Args:
        dataset: a dataset whose ``get_data_info(i)['label_flags']`` says
            which tasks image i is labelled for (missing: fully labelled).
        batch_size: per-rank batch size of the dataloader.
        infinite: an endless stream for IterBasedTrainLoop (as MMEngine's
            InfiniteSampler; ``set_epoch`` picks the first pass), else one
            epoch per ``__iter__`` (``set_epoch`` selects it, as
            DistSamplerSeedHook calls).
        shuffle: False gives the dataset order (no balancing).
        round_up: epoch mode only: pad to ``ceil(N / W) * W`` so that every
            rank gets the same number of images (as DefaultSampler).
        seed: random seed; None draws one shared by all ranks.
        rank, world_size: override ``get_dist_info()`` (tests, tools).
    """

    def __init__(self, dataset: Sized, batch_size: int,
                 infinite: bool = False, shuffle: bool = True,
                 round_up: bool = True, seed: Optional[int] = None,
                 rank: Optional[int] = None,
                 world_size: Optional[int] = None) -> None:
        dist_rank, dist_world = get_dist_info()
        self.rank = dist_rank if rank is None else int(rank)
        self.world_size = dist_world if world_size is None else int(world_size)
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f'PartialLabelSampler: rank={self.rank} is not '
                             f'in [0, world_size={self.world_size})')
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f'PartialLabelSampler: batch_size={batch_size!r}'
                             ' must be a positive integer')
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.infinite = bool(infinite)
        self.shuffle = bool(shuffle)
        self.round_up = bool(round_up)
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.epoch = 0
        self.flags = label_flags_of(dataset)
        if len(self.flags) == 0:
            raise ValueError('PartialLabelSampler: the dataset is empty; a '
                             'sampler needs a non-empty dataset')
        self.sizes = batch_sizes(len(self.flags), self.batch_size,
                                 self.world_size, self.round_up)
        self.num_samples = sum(self.sizes[self.rank::self.world_size])

    def _epoch_indices(self) -> List[int]:
        if self.shuffle:
            order = BalancedOrder(self.flags, self.seed, first_pass=self.epoch)
            batches = order.epoch(self.batch_size, self.world_size,
                                  self.round_up)
        else:
            n, start, batches = len(self.flags), 0, []
            for size in self.sizes:  # dataset order, wrapping for padding
                batches.append([(start + j) % n for j in range(size)])
                start += size
        return [i for b in batches[self.rank::self.world_size] for i in b]

    def _infinite_indices(self) -> Iterator[int]:
        n, start = len(self.flags), 0
        order = (BalancedOrder(self.flags, self.seed, first_pass=self.epoch)
                 if self.shuffle else None)
        while True:
            for r in range(self.world_size):
                if order is not None:
                    batch = order.next_batch(self.batch_size)
                else:
                    batch = [(start + j) % n for j in range(self.batch_size)]
                    start += self.batch_size
                if r == self.rank:
                    yield from batch

    def __iter__(self) -> Iterator[int]:
        if self.infinite:
            return self._infinite_indices()
        return iter(self._epoch_indices())

    def __len__(self) -> int:
        """Images per rank and epoch (infinite mode: the dataset length)."""
        return len(self.flags) if self.infinite else self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Select the pass (epoch mode) or the first pass (infinite mode)."""
        self.epoch = int(epoch)
