"""Fixed bin centres for binned regression of depth and normals.

HiTTs (supplement A.1, Eq. (10)) quantises its regression tasks: depth into
log-spaced bins, normals into k-means (NYUv2) or uniform (PASCAL) unit
centres; a head then predicts logits over the centres and its prediction
is ``sum_c centre_c softmax(logits)_c``. The centres are a persistent
buffer, never trained: a checkpoint carries them, so an exported model
predicts without the tool that computed them.
"""
from __future__ import annotations

import json
import math
import os.path as osp
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from mtpsl.registry import MODELS


class BaseBins(nn.Module):
    """``centres`` (K x C buffer), nearest-bin assignment, soft expectation.

    Attributes:
        task: the task the centres quantise (``'depth'`` or ``'normal'``).
    """
    task = ''

    def __init__(self, centres: torch.Tensor) -> None:
        super().__init__()
        centres = torch.as_tensor(centres, dtype=torch.float32)
        if centres.dim() != 2 or centres.shape[0] < 2:
            raise ValueError(f'{type(self).__name__}: centres must be K x C '
                             f'with K >= 2, got {tuple(centres.shape)}')
        self.register_buffer('centres', centres)

    @property
    def num_bins(self) -> int:
        """K, the number of centres (= logits of the head)."""
        return int(self.centres.shape[0])

    def expect(self, logits: torch.Tensor) -> torch.Tensor:
        """B x K x h x w logits -> B x C x h x w soft-weighted centre
        (Eq. (10) of HiTTs)."""
        probs = logits.softmax(dim=1)
        return torch.einsum('bkhw,kc->bchw', probs,
                            self.centres.to(probs.dtype))

    def assign(self, target: torch.Tensor) -> torch.Tensor:
        """B x C x H x W GT -> B x 1 x H x W index of the nearest centre,
        -1 where the target is invalid."""
        raise NotImplementedError


@MODELS.register_module()
class LogDepthBins(BaseBins):
    """``num_bins`` depth centres log-spaced from ``min_depth`` to
    ``max_depth`` (both included); a depth goes to the centre nearest in
    log depth. Depth 0 is invalid (index -1); depths outside the limits go
    to the first or last bin.

    Args:
        num_bins: K (HiTTs: 30 on NYUv2, 100 on Cityscapes).
        min_depth, max_depth: limits in the units of the depth target
            (metres, or inverse depth for Cityscapes' disparity target).
    """
    task = 'depth'

    def __init__(self, num_bins: int, min_depth: float,
                 max_depth: float) -> None:
        if not 0 < min_depth < max_depth:
            raise ValueError(f'LogDepthBins: need 0 < min_depth < max_depth, '
                             f'got min_depth={min_depth}, '
                             f'max_depth={max_depth}')
        if int(num_bins) < 2:
            raise ValueError(f'LogDepthBins: num_bins must be >= 2, got '
                             f'{num_bins}')
        logs = torch.linspace(math.log(min_depth), math.log(max_depth),
                              int(num_bins), dtype=torch.float64)
        super().__init__(logs.exp().float()[:, None])
        self.min_depth, self.max_depth = float(min_depth), float(max_depth)

    def assign(self, target: torch.Tensor) -> torch.Tensor:
        """Nearest centre in log depth; -1 where depth is 0."""
        valid = target[:, :1] > 0
        logs = torch.log(target[:, :1].clamp_min(1e-12))
        centres = torch.log(self.centres[:, 0]).view(1, -1, 1, 1)
        index = (logs - centres).abs().argmin(dim=1, keepdim=True)
        return torch.where(valid, index, torch.full_like(index, -1))


def fibonacci_sphere(n: int) -> torch.Tensor:
    """``n`` unit vectors spread evenly over the sphere (golden-angle
    spiral; z from 1 - 1/n down to -1 + 1/n)."""
    k = torch.arange(n, dtype=torch.float64)
    z = 1.0 - (2.0 * k + 1.0) / n
    r = torch.sqrt((1.0 - z * z).clamp_min(0.0))
    phi = k * math.pi * (3.0 - math.sqrt(5.0))
    return torch.stack([r * torch.cos(phi), r * torch.sin(phi), z],
                       dim=1).float()


def load_centres(path: str) -> torch.Tensor:
    """K x 3 centres from a JSON file written by
    ``tools/compute_normal_centres.py`` (key ``centres``)."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'NormalBins: centres_file not found: {path} (make it with '
            'tools/compute_normal_centres.py)')
    with open(path) as f:
        record = json.load(f)
    if 'centres' not in record:
        raise KeyError(f'NormalBins: {path} has no key "centres"')
    return torch.tensor(record['centres'], dtype=torch.float32)


@MODELS.register_module()
class NormalBins(BaseBins):
    """Unit-normal centres: uniform on the sphere, or read from a file of
    k-means centres of the labelled training pixels. A normal goes to the
    centre of largest cosine; an all-zero normal is invalid (-1).

    Args:
        num_bins: K (HiTTs: 20 k-means on NYUv2, 40 uniform on PASCAL).
        centres_file: JSON written by ``tools/compute_normal_centres.py``;
            None gives ``num_bins`` uniform centres (Fibonacci sphere).
    """
    task = 'normal'

    def __init__(self, num_bins: int,
                 centres_file: Optional[str] = None) -> None:
        if centres_file is None:
            centres = fibonacci_sphere(int(num_bins))
        else:
            centres = load_centres(centres_file)
            if centres.shape != (int(num_bins), 3):
                raise ValueError(f'NormalBins: {centres_file} holds centres '
                                 f'of shape {tuple(centres.shape)}, config '
                                 f'says num_bins={num_bins}')
        super().__init__(F.normalize(centres, dim=1))
        self.centres_file = centres_file

    def assign(self, target: torch.Tensor) -> torch.Tensor:
        """Centre of largest cosine; -1 where the normal is all zero."""
        valid = (target != 0).any(dim=1, keepdim=True)
        cos = torch.einsum('bchw,kc->bkhw', target,
                           self.centres.to(target.dtype))
        index = cos.argmax(dim=1, keepdim=True)
        return torch.where(valid, index, torch.full_like(index, -1))


def spherical_kmeans(vectors: torch.Tensor, k: int, iters: int = 50,
                     seed: int = 0) -> torch.Tensor:
    """k unit centres of N x 3 unit vectors (cosine k-means, k-means++
    seeding from a generator seeded with ``seed``). An emptied cluster keeps
    its centre."""
    vectors = F.normalize(vectors.double(), dim=1)
    n = vectors.shape[0]
    if n < k:
        raise ValueError(f'spherical_kmeans: {n} vectors for k={k}')
    gen = torch.Generator().manual_seed(int(seed))
    centres = [vectors[int(torch.randint(n, (1,), generator=gen))]]
    for _ in range(1, k):
        dist = 1.0 - (vectors @ torch.stack(centres).T).max(dim=1).values
        weights = dist.clamp_min(0.0)
        if float(weights.sum()) <= 0:
            weights = torch.ones(n, dtype=vectors.dtype)
        centres.append(vectors[int(torch.multinomial(weights, 1,
                                                     generator=gen))])
    centres = torch.stack(centres)
    for _ in range(int(iters)):
        index = (vectors @ centres.T).argmax(dim=1)
        sums = torch.zeros_like(centres).index_add_(0, index, vectors)
        counts = torch.bincount(index, minlength=k)
        moved = torch.where((counts > 0)[:, None], F.normalize(sums, dim=1),
                            centres)
        if torch.allclose(moved, centres, atol=1e-10):
            break
        centres = moved
    return centres.float()


def check_bins_task(owner: str, task: str, bins: BaseBins) -> None:
    """A clear error when bins are configured for the wrong task."""
    if bins.task != task:
        raise ValueError(f'{owner}: bins {type(bins).__name__} quantise '
                         f'{bins.task!r}, the head predicts {task!r}')


__all__: Sequence[str] = ('BaseBins', 'LogDepthBins', 'NormalBins',
                          'fibonacci_sphere', 'spherical_kmeans',
                          'load_centres', 'check_bins_task')
