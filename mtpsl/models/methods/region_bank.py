"""A FIFO bank of region Gaussians: the extra negatives of region contrast.

Li et al., ECCV 2024 (region-aware distribution contrast): the release keeps
the last 1000 (mean, covariance) entries of both maps, shared by all task
pairs and kept across epochs (docs/FACTS.md).

Policy (tested in tests/test_methods/test_region_bank.py):
- **Checkpoints**: the entries, their count and the write position are
  persistent buffers, so they are saved with the model and ``--resume``
  continues with the same bank, bit for bit.
- **DDP**: the bank is *gathered*: every rank pushes the entries of all
  ranks, in rank order, so all ranks hold the same bank (and a checkpoint
  written by rank 0 is every rank's). Ranks with fewer entries are padded
  for the all-gather and the padding dropped.
- **Order**: entries are written in the order given (region contrast
  pushes all GT-map Gaussians of a step by (image, region id), then the
  prediction-map ones), wrapping around; no randomness.
- Every rank must push on every step (an empty push when it has nothing),
  as the gather is a collective.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.distributed as dist
import torch.nn as nn

from .gaussian_regions import Gaussians


def _world() -> int:
    return dist.get_world_size() if (dist.is_available()
                                     and dist.is_initialized()) else 1


def gather_rows(x: torch.Tensor) -> torch.Tensor:
    """Rows of ``x`` from every rank, concatenated in rank order (``x`` as
    is without a process group). Ranks may hold different row counts."""
    if _world() == 1:
        return x
    n = torch.tensor([x.shape[0]], device=x.device)
    counts = [torch.zeros_like(n) for _ in range(_world())]
    dist.all_gather(counts, n)
    most = max(1, max(int(c) for c in counts))   # no empty all-gather
    padded = x.new_zeros((most,) + tuple(x.shape[1:]))
    padded[:x.shape[0]] = x
    parts = [torch.zeros_like(padded) for _ in range(_world())]
    dist.all_gather(parts, padded.contiguous())
    return torch.cat([p[:int(c)] for p, c in zip(parts, counts)])


class GaussianBank(nn.Module):
    """The last ``size`` Gaussians pushed (``mean`` C, covariance C x C or
    C diagonal), stored in float64 so a stored covariance stays positive
    definite."""

    def __init__(self, size: int, channels: int,
                 diagonal: bool = False) -> None:
        super().__init__()
        if size < 0:
            raise ValueError(f'GaussianBank: size must be >= 0, got {size}')
        self.size, self.channels = int(size), int(channels)
        cov_shape = (size, channels) if diagonal else (size, channels,
                                                       channels)
        self.register_buffer('mean', torch.zeros(size, channels,
                                                 dtype=torch.float64))
        self.register_buffer('cov', torch.zeros(cov_shape,
                                                dtype=torch.float64))
        self.register_buffer('filled', torch.zeros((), dtype=torch.long))
        self.register_buffer('ptr', torch.zeros((), dtype=torch.long))

    def __len__(self) -> int:
        return int(self.filled)

    def entries(self) -> Optional[Gaussians]:
        """The filled entries, oldest first; None when empty."""
        n = int(self.filled)
        if n == 0:
            return None
        if n < self.size:
            order = torch.arange(n, device=self.mean.device)
        else:
            order = (torch.arange(self.size, device=self.mean.device)
                     + self.ptr) % self.size
        return Gaussians(self.mean[order], self.cov[order],
                         torch.zeros(n, dtype=torch.long,
                                     device=self.mean.device))

    @torch.no_grad()
    def push(self, g: Gaussians) -> None:
        """Append ``g`` (gathered over ranks), dropping the oldest."""
        if self.size == 0:
            return
        mean = gather_rows(g.mean.detach().to(self.mean.dtype))
        cov = gather_rows(g.cov.detach().to(self.cov.dtype))
        if cov.shape[1:] != self.cov.shape[1:]:
            raise ValueError(f'GaussianBank: covariances {tuple(cov.shape)} '
                             f'do not fit the bank {tuple(self.cov.shape)}')
        n = mean.shape[0]
        if n == 0:
            return
        if n > self.size:
            mean, cov, n = mean[-self.size:], cov[-self.size:], self.size
        slots = (self.ptr + torch.arange(n, device=self.mean.device)
                 ) % self.size
        self.mean[slots] = mean
        self.cov[slots] = cov
        self.ptr.copy_((self.ptr + n) % self.size)
        self.filled.copy_(torch.clamp(self.filled + n, max=self.size))
