"""Global task token learning of HiTTs (Zhang et al., Sec. 3.1, Fig. 3).

Re-implemented from the paper (no public code). Where the paper is silent
we chose (configs/hitts/README.md, fidelity table):

- how a token "queries" the shared feature: a token-conditioned 1x1
  projection of the task's view of the shared feature,
  ``F_i = W_p (X_i * (1 + W_g theta_i))`` per pixel, ``X_i`` being the
  task's decoder feature (the one per-task 3x3 conv of the SegNet head);
- the resolution of the attention: ``X_i`` average-pooled by ``stride``;
- the intra-task block: pre-norm attention (``attn_channels`` wide,
  ``heads`` heads) and an optional MLP.
"""
from __future__ import annotations

from typing import Dict, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .attention import InterTaskAffinity, TokenFeatureAttention


def flatten_map(x: torch.Tensor) -> torch.Tensor:
    """B x C x h x w -> B x (h w) x C."""
    return x.flatten(2).transpose(1, 2)


def unflatten_map(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """B x (h w) x C -> B x C x h x w."""
    return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], *size)


def feature_mask(token: torch.Tensor, feat: torch.Tensor) -> torch.Tensor:
    """``M^f = sigmoid(theta_i'^T F_i')`` (Sec. 3.3): B x C token and
    B x C x h x w feature -> B x 1 x h x w."""
    return torch.sigmoid(torch.einsum('bc,bchw->bhw', token, feat))[:, None]


class TokenQuery(nn.Module):
    """``F_i = W_p (X_i * (1 + W_g theta_i))``: the token selects channels of
    the pixel features, then a shared 1x1 projection (our choice)."""

    def __init__(self, channels: int, use_tokens: bool = True) -> None:
        super().__init__()
        self.gate = nn.Linear(channels, channels) if use_tokens else None
        self.proj = nn.Linear(channels, channels)

    def forward(self, pixels: torch.Tensor, token: torch.Tensor = None
                ) -> torch.Tensor:
        """``pixels``: B x N x C, ``token``: C (or None) -> B x N x C."""
        if self.gate is not None:
            pixels = pixels * (1 + self.gate(token))
        return self.proj(pixels)


class GlobalTokenLearning(nn.Module):
    """Tokens query, inter-task affinity (Eqs. 1-2), intra-task attention.

    Args:
        tasks: task names, in the model's order.
        channels: C of the decoder features and of the tokens.
        stride: average-pooling factor of the decoder features before the
            attention (the stride of ``F_i'`` relative to them).
        attn_channels, heads, mlp_ratio: the intra-task block.
        use_tokens / inter / intra: Table 5's ablations (w/o global task
            tokens: no tokens, no affinity, M^f = 1; w/o inter: A = I;
            w/o intra: no self-attention).
    """

    def __init__(self, tasks: Sequence[str], channels: int, stride: int = 4,
                 attn_channels: int = 32, heads: int = 1,
                 mlp_ratio: float = 0.0, use_tokens: bool = True,
                 inter: bool = True, intra: bool = True) -> None:
        super().__init__()
        if stride < 1:
            raise ValueError(f'GlobalTokenLearning: stride must be >= 1, got '
                             f'{stride}')
        self.tasks = tuple(tasks)
        self.stride = int(stride)
        self.use_tokens = use_tokens
        if use_tokens:
            self.tokens = nn.Parameter(torch.empty(len(self.tasks), channels))
            nn.init.trunc_normal_(self.tokens, std=0.02)
        self.query = TokenQuery(channels, use_tokens)
        self.inter = InterTaskAffinity(channels, enabled=inter and use_tokens)
        self.intra = nn.ModuleDict({
            t: TokenFeatureAttention(channels, attn_channels, heads,
                                     mlp_ratio) for t in self.tasks
        }) if intra else None

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """Decoder feature at the attention resolution."""
        if self.stride == 1:
            return x
        return F.avg_pool2d(x, self.stride, ceil_mode=True)

    def forward(self, task_feats: Dict[str, torch.Tensor]
                ) -> Dict[str, Tuple[torch.Tensor, torch.Tensor,
                                     torch.Tensor]]:
        """``{task: B x C x H x W}`` -> ``{task: (F_i' B x C x h x w,
        theta_i' B x C, M^f B x 1 x h x w)}``."""
        pooled = [self.pool(task_feats[t]) for t in self.tasks]
        size = pooled[0].shape[-2:]
        b = pooled[0].shape[0]
        feats = torch.stack([
            self.query(flatten_map(p), self.tokens[i] if self.use_tokens
                       else None) for i, p in enumerate(pooled)], dim=1)
        if self.use_tokens:
            tokens, feats = self.inter(self.tokens, feats)
        out = {}
        for i, task in enumerate(self.tasks):
            feat = feats[:, i]
            if self.use_tokens:
                seq = torch.cat([tokens[i].expand(b, 1, -1), feat], dim=1)
            else:
                seq = feat
            if self.intra is not None:
                seq = self.intra[task](seq)
            if self.use_tokens:
                token, feat = seq[:, 0], seq[:, 1:]
            else:
                token, feat = seq.new_zeros(b, seq.shape[-1]), seq
            feat = unflatten_map(feat, size)
            mask = (feature_mask(token, feat) if self.use_tokens else
                    feat.new_ones(b, 1, *size))
            out[task] = (feat, token, mask)
        return out
