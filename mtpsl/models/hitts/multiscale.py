"""Multi-scale global task token learning of HiTTs (Zhang et al.,
supplement A.2, Eqs. 14-18, Fig. 12), for a multi-scale backbone such as
ResNet-18 with ASPP heads on PASCAL-Context.

Re-implemented from the paper (no public code). Per scale j: tokens
``theta_i^(j) = W_i^(s->m)(j) theta_i`` (Eq. 14) query the shared feature
``F_s^(j)`` (our token-conditioned 1x1 projection, resampled to one
attention resolution so the scales can be concatenated), inter-task mixing
per scale (Eqs. 15-16 with Eqs. 1-2); the scales are fused,
``F_i' = Conv1x1_i([F_i'^(0); ...; F_i'^(3)])`` (Eq. 17) and
``theta_i' = sum_j W_i^(m->s)(j) theta_i'^(j)`` (Eq. 18), then intra-task
learning as Sec. 3.1. Our addition: the task's decoder feature (pooled) is
concatenated to the fused scales, so the ASPP head feeds the tokens.
"""
from __future__ import annotations

from typing import Dict, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .attention import InterTaskAffinity, TokenFeatureAttention
from .global_tokens import (TokenQuery, feature_mask, flatten_map,
                            unflatten_map)


class MultiScaleGlobalTokenLearning(nn.Module):
    """Per-scale inter-task learning, fused before intra-task learning.

    Args:
        tasks: task names, in the model's order.
        channels: C of the decoder features, the fused features and tokens.
        in_channels: channels of each shared scale ``F_s^(j)``.
        in_index: which backbone outputs are the scales.
        stride: attention resolution as a pooling factor of the decoder
            feature; every scale is resampled to it.
        attn_channels, heads, mlp_ratio: the intra-task block.
        inter / intra: Table 5's ablations.
    """

    def __init__(self, tasks: Sequence[str], channels: int,
                 in_channels: Sequence[int], in_index: Sequence[int],
                 stride: int = 2, attn_channels: int = 32, heads: int = 1,
                 mlp_ratio: float = 0.0, inter: bool = True,
                 intra: bool = True) -> None:
        super().__init__()
        if len(in_channels) != len(in_index):
            raise ValueError(f'MultiScaleGlobalTokenLearning: in_channels '
                             f'{list(in_channels)} and in_index '
                             f'{list(in_index)} differ in length')
        self.tasks = tuple(tasks)
        self.in_index = tuple(in_index)
        self.stride = int(stride)
        self.use_tokens = True
        t = len(self.tasks)
        self.tokens = nn.Parameter(torch.empty(t, channels))
        nn.init.trunc_normal_(self.tokens, std=0.02)
        # Eq. (14) and Eq. (18): per task and scale, token maps in and out
        self.to_scale = nn.ModuleList([
            nn.ModuleList([nn.Linear(channels, c, bias=False)
                           for _ in range(t)]) for c in in_channels])
        self.from_scale = nn.ModuleList([
            nn.ModuleList([nn.Linear(c, channels, bias=False)
                           for _ in range(t)]) for c in in_channels])
        self.query = nn.ModuleList([TokenQuery(c) for c in in_channels])
        self.inter = nn.ModuleList([InterTaskAffinity(c, enabled=inter)
                                    for c in in_channels])
        fused_in = sum(in_channels) + channels
        self.fuse = nn.ModuleDict({  # Eq. (17)
            task: nn.Conv2d(fused_in, channels, 1) for task in self.tasks})
        self.intra = nn.ModuleDict({
            task: TokenFeatureAttention(channels, attn_channels, heads,
                                        mlp_ratio) for task in self.tasks
        }) if intra else None

    def forward(self, task_feats: Dict[str, torch.Tensor],
                shared_feats: Sequence[torch.Tensor]
                ) -> Dict[str, tuple]:
        """``{task: X_i}`` and the backbone tuple -> ``{task: (F_i',
        theta_i', M^f)}`` at the attention resolution."""
        ref = task_feats[self.tasks[0]]
        size = [-(-s // self.stride) for s in ref.shape[-2:]]
        b = ref.shape[0]
        per_scale_feats, per_scale_tokens = [], []
        for j, idx in enumerate(self.in_index):
            x = F.interpolate(shared_feats[idx], size=size, mode='bilinear',
                              align_corners=False)
            pixels = flatten_map(x)
            tokens = torch.stack([self.to_scale[j][i](self.tokens[i])
                                  for i in range(len(self.tasks))])
            feats = torch.stack([self.query[j](pixels, tokens[i])
                                 for i in range(len(self.tasks))], dim=1)
            tokens, feats = self.inter[j](tokens, feats)
            per_scale_feats.append(feats)
            per_scale_tokens.append(tokens)
        out = {}
        for i, task in enumerate(self.tasks):
            own = F.adaptive_avg_pool2d(task_feats[task], size)
            cat = torch.cat([unflatten_map(f[:, i], size)
                             for f in per_scale_feats] + [own], dim=1)
            feat = flatten_map(self.fuse[task](cat))
            token = sum(self.from_scale[j][i](per_scale_tokens[j][i])
                        for j in range(len(self.in_index)))
            seq = torch.cat([token.expand(b, 1, -1), feat], dim=1)
            if self.intra is not None:
                seq = self.intra[task](seq)
            token, feat = seq[:, 0], unflatten_map(seq[:, 1:], size)
            out[task] = (feat, token, feature_mask(token, feat))
        return out
