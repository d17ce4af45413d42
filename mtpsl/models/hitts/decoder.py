"""The HiTTs decoder (Zhang et al., Figs. 2-4): global tokens, then the
fine-grained tokens refine each task's logits.

Re-implemented from the paper (no public code). Per task i, from the
decoder feature ``X_i`` (B x C x H x W):

1. :class:`GlobalTokenLearning` (single scale) or
   :class:`MultiScaleGlobalTokenLearning` gives ``F_i'`` at the attention
   stride, ``theta_i'`` and ``M^f``;
2. ``G_i = W_i^G (X_i + up(F_i'))``, a 1x1 ("linear", Sec. 3.2) conv to
   C_p channels at the decoder's resolution (our choice: the full-resolution
   decoder feature is kept as a skip, as the attention runs pooled);
3. ``phi_i`` from ``theta_i'`` (Eq. 3) and ``G_i' = Conv3x3(G_i * softplus(
   phi_i x G_i))`` (Eq. 4); w/o fine-grained tokens (Table 5): ``G_i' =
   Conv3x3(G_i)``.
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .fine_grained import FineGrainedTokens, refine_logits
from .global_tokens import GlobalTokenLearning


class HiTTsDecoder(nn.Module):
    """Global and fine-grained task tokens over every task's feature.

    Args:
        tasks: task names, in the model's order.
        num_bins: ``{task: C_p}`` (classes, or bins of a binned task).
        channels: C of the decoder features.
        global_cfg: keyword arguments of :class:`GlobalTokenLearning`
            (stride, attn_channels, heads, mlp_ratio, use_tokens, inter,
            intra).
        fine_grained: use phi (Table 5 w/o fine-grained: False).
        orthogonal: Eq. (3)'s ``W_o o`` (Table 5 w/o OE: False).
        basis: the orthogonal basis, ``'identity'`` or ``'random'``.
        mlp_hidden: hidden width of the phi MLP (0: C).
    """

    def __init__(self, tasks: Sequence[str], num_bins: Mapping[str, int],
                 channels: int, global_cfg: Optional[dict] = None,
                 fine_grained: bool = True, orthogonal: bool = True,
                 basis: str = 'identity', mlp_hidden: int = 0) -> None:
        super().__init__()
        self.tasks = tuple(tasks)
        missing = [t for t in self.tasks if t not in num_bins]
        if missing:
            raise KeyError(f'HiTTsDecoder: num_bins has no entry for '
                           f'{missing} (got {dict(num_bins)})')
        self.num_bins = {t: int(num_bins[t]) for t in self.tasks}
        self.global_tokens = GlobalTokenLearning(self.tasks, channels,
                                                 **(global_cfg or {}))
        self.use_tokens = self.global_tokens.use_tokens
        self.fine_grained = fine_grained
        self.to_g = nn.ModuleDict({
            t: nn.Conv2d(channels, n, 1) for t, n in self.num_bins.items()})
        self.refine = nn.ModuleDict({
            t: nn.Conv2d(n, n, 3, padding=1)
            for t, n in self.num_bins.items()})
        self.phi = nn.ModuleDict({
            t: FineGrainedTokens(channels, n, mlp_hidden, orthogonal, basis)
            for t, n in self.num_bins.items()}) if fine_grained else None

    def forward(self, task_feats: Dict[str, torch.Tensor],
                global_out: Optional[dict] = None
                ) -> Dict[str, Dict[str, torch.Tensor]]:
        """``{task: X_i}`` -> ``{task: dict(logits=G_i', coarse=G_i,
        feat=F_i', token=theta_i', mask=M^f)}``; ``global_out`` replaces the
        single-scale global stage (the multi-scale variant passes its own)."""
        if global_out is None:
            global_out = self.global_tokens(task_feats)
        out = {}
        for task in self.tasks:
            x = task_feats[task]
            feat, token, mask = global_out[task]
            up = F.interpolate(feat, size=x.shape[-2:], mode='bilinear',
                               align_corners=False)
            g = self.to_g[task](x + up)
            if self.phi is not None:
                logits = refine_logits(g, self.phi[task](token),
                                       self.refine[task])
            else:
                logits = self.refine[task](g)
            out[task] = dict(logits=logits, coarse=g, feat=feat, token=token,
                             mask=mask)
        return out
