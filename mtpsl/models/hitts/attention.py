"""Attention pieces of HiTTs (Zhang et al.): inter-task affinity, Eqs. (1)-(2),
and the intra-task self-attention over ``[theta_i'; F_i']`` (Sec. 3.1).

Re-implemented from the paper (no public code). Attention is written with
explicit matmuls so MMEngine's FLOP counter sees it (Table 8).
"""
from __future__ import annotations

import math
from typing import Tuple

import torch
import torch.nn as nn


def task_affinity(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Eq. (1): ``A = softmax(Q K^T)`` over the last axis (T x T).

    As the paper, no 1/sqrt(d) scale: Q and K are linear maps of the
    tokens, whose scale the training sets.
    """
    return torch.softmax(q @ k.transpose(-1, -2), dim=-1)


def mix_tasks(affinity: torch.Tensor, tokens: torch.Tensor,
              feats: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Eq. (2): ``Theta' = A Theta`` (T x C) and ``F' = A F`` for stacked task
    features ``feats`` of shape B x T x N x C (mixed over the task axis)."""
    mixed_tokens = affinity @ tokens
    mixed_feats = torch.einsum('st,btnc->bsnc', affinity, feats)
    return mixed_tokens, mixed_feats


class InterTaskAffinity(nn.Module):
    """Q, K projections of the stacked global tokens and the mixing of
    Eqs. (1)-(2). ``enabled=False`` (Table 5, w/o inter-task) uses A = I."""

    def __init__(self, channels: int, enabled: bool = True) -> None:
        super().__init__()
        self.enabled = enabled
        if enabled:
            self.q = nn.Linear(channels, channels)
            self.k = nn.Linear(channels, channels)

    def affinity(self, tokens: torch.Tensor) -> torch.Tensor:
        """T x T affinity of the T x C tokens."""
        if not self.enabled:
            return torch.eye(tokens.shape[0], dtype=tokens.dtype,
                             device=tokens.device)
        return task_affinity(self.q(tokens), self.k(tokens))

    def forward(self, tokens: torch.Tensor, feats: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Mixed tokens (T x C) and features (B x T x N x C)."""
        if not self.enabled:
            return tokens, feats
        return mix_tasks(self.affinity(tokens), tokens, feats)


class TokenFeatureAttention(nn.Module):
    """Pre-norm multi-head self-attention over one task's sequence
    ``[theta_i'; F_i']`` (N + 1 tokens), plus an optional MLP; residual.

    Args:
        channels: C of tokens and features.
        attn_channels: width of Q, K, V (split over ``heads``).
        heads: attention heads.
        mlp_ratio: hidden width of the MLP as a multiple of C (0: none).
    """

    def __init__(self, channels: int, attn_channels: int = 32, heads: int = 1,
                 mlp_ratio: float = 0.0) -> None:
        super().__init__()
        if attn_channels % heads:
            raise ValueError(f'TokenFeatureAttention: attn_channels '
                             f'{attn_channels} not divisible by heads {heads}')
        self.heads = heads
        self.norm = nn.LayerNorm(channels)
        self.qkv = nn.Linear(channels, 3 * attn_channels)
        self.proj = nn.Linear(attn_channels, channels)
        hidden = int(round(channels * mlp_ratio))
        self.mlp = nn.Sequential(
            nn.LayerNorm(channels), nn.Linear(channels, hidden), nn.GELU(),
            nn.Linear(hidden, channels)) if hidden > 0 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: B x L x C -> B x L x C."""
        b, n, _ = x.shape
        q, k, v = self.qkv(self.norm(x)).chunk(3, dim=-1)
        d = q.shape[-1] // self.heads
        q, k, v = (t.reshape(b, n, self.heads, d).transpose(1, 2)
                   for t in (q, k, v))
        attn = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1)
        out = (attn @ v).transpose(1, 2).reshape(b, n, self.heads * d)
        x = x + self.proj(out)
        if self.mlp is not None:
            x = x + self.mlp(x)
        return x
