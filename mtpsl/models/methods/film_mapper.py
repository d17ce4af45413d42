"""XTC's pair-conditioned mapping network: a SegNet-like encoder whose
convolutions are FiLM-modulated by the (source, target) task pair.

Li, Liu, Bilen, "Learning Multiple Dense Prediction Tasks from Partially
Annotated Data", CVPR 2022, Sec. 3.2 (the joint space mapping).
"""
from __future__ import annotations

from typing import Dict, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


class FiLMConv(nn.Module):
    """3x3 conv, BN without affine, then ``gamma * x + beta`` and ReLU; the
    affine comes from the task pair instead of the BN."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm = nn.BatchNorm2d(out_channels, affine=False)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor, gamma: torch.Tensor,
                beta: torch.Tensor) -> torch.Tensor:
        """``gamma``, ``beta``: B x C."""
        x = self.norm(self.conv(x))
        return F.relu(x * gamma[:, :, None, None] + beta[:, :, None, None])


class PairFiLMMapper(nn.Module):
    """Map a task's encoded map into the joint space, conditioned on a pair.

    A per-task stem (1x1 conv from the task's encoded channels) feeds a
    shared encoder of ``len(widths)`` stages (``convs_per_stage`` FiLM convs
    and a 2x2 max-pool each), then a 1x1 conv to ``out_channels``. Each
    ordered pair ``(s, t)`` owns an embedding of every FiLM gamma and beta,
    initialised to the identity (gamma 1, beta 0).

    Args:
        in_channels: ``{task: channels of its encoded map}``.
        tasks: the model's tasks; pairs are all ordered ``(s, t)``, s != t.
        widths: channels of the encoder stages.
        out_channels: channels of the joint space (that of the image feature
            it is compared with).
    """

    def __init__(self, in_channels: Dict[str, int], tasks: Sequence[str],
                 widths: Sequence[int] = (64, 128, 256, 512, 512),
                 out_channels: int = 512, convs_per_stage: int = 2) -> None:
        super().__init__()
        self.tasks = tuple(tasks)
        self.pairs: Tuple[Tuple[str, str], ...] = tuple(
            (s, t) for s in self.tasks for t in self.tasks if s != t)
        self.stems = nn.ModuleDict({
            t: nn.Conv2d(in_channels[t], widths[0], 1) for t in self.tasks})
        layers, c_in = [], widths[0]
        self.stage_ends = []
        for w in widths:
            for _ in range(convs_per_stage):
                layers.append(FiLMConv(c_in, w))
                c_in = w
            self.stage_ends.append(len(layers) - 1)
        self.layers = nn.ModuleList(layers)
        self.out = nn.Conv2d(c_in, out_channels, 1)
        self.film_size = sum(m.out_channels for m in layers)
        self.film = nn.Embedding(len(self.pairs), 2 * self.film_size)
        with torch.no_grad():
            self.film.weight[:, :self.film_size].fill_(1.0)
            self.film.weight[:, self.film_size:].zero_()

    def pair_index(self, source: str, target: str) -> int:
        """Row of the FiLM embedding of the ordered pair."""
        return self.pairs.index((source, target))

    def forward(self, maps: Sequence[Tuple[torch.Tensor, str]],
                pair_ids: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Map each ``(x, task)`` (x: B x C_task x H x W, the encoded map of
        ``task``) with the FiLM parameters of ``pair_ids`` (B,).

        The maps go through the shared encoder as one batch, so its batch
        statistics are those of the GT and prediction maps together.
        """
        x = torch.cat([self.stems[task](m) for m, task in maps])
        film = self.film(pair_ids).repeat(len(maps), 1)
        sizes = [m.out_channels for m in self.layers]
        gammas = film[:, :self.film_size].split(sizes, dim=1)
        betas = film[:, self.film_size:].split(sizes, dim=1)
        for i, layer in enumerate(self.layers):
            x = layer(x, gammas[i], betas[i])
            if i in self.stage_ends:
                x = F.max_pool2d(x, 2, 2, ceil_mode=True)
        return self.out(x).chunk(len(maps))
