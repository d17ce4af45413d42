"""Anchor, positive and negative mining of CCR (Yang, Ye, Xu, AAAI 2023).

Everything is batched over the images of a batch and the anchors of an
image: pixels are flattened to ``P = h * w`` positions, an image's anchors
are ``A`` of them, and the label-space and feature-space relations of every
(anchor, pixel) couple are ``B x A x P`` tensors. No loop over anchors or
pixels. "Semi-hard pixel sampling" of the paper, steps (i)-(v).
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch

FALLBACKS = ('boundary', 'hardest', 'fewer')
# Distances of unit vectors lie in [0, 2]: an offset above that ranks every
# semi-hard negative before any fallback one.
_RANK_OFFSET = 16.0


def sample_anchors(valid: torch.Tensor, count: int,
                   generator: Optional[torch.Generator] = None
                   ) -> Tuple[torch.Tensor, torch.Tensor]:
    """``count`` anchors per image drawn uniformly, without replacement,
    among its valid pixels (step (i)).

    Args:
        valid: B x P bool.
    Returns:
        ``(index, ok)``, both B x A with ``A = min(count, P)``: pixel
        indices, and which of them are real anchors (an image with fewer
        than ``count`` valid pixels has that many).
    """
    keys = torch.rand(valid.shape, generator=generator, device=valid.device)
    keys = keys.masked_fill(~valid, 2.0)
    values, index = keys.topk(min(int(count), valid.shape[1]), dim=1,
                              largest=False)
    return index, values < 1.5


def _others(valid: torch.Tensor, anchor_idx: torch.Tensor) -> torch.Tensor:
    """B x A x P: valid pixels other than the anchor itself."""
    positions = torch.arange(valid.shape[1], device=valid.device)
    return valid[:, None, :] & (positions != anchor_idx[..., None])


def discrete_relations(labels: torch.Tensor, valid: torch.Tensor,
                       anchor_idx: torch.Tensor
                       ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Positives (same label) and negatives (another label) of every
    anchor among the other valid pixels: two B x A x P bool (criterion
    (i) of the paper, semantic / parts / binary edge and saliency)."""
    anchor_labels = labels.gather(1, anchor_idx)
    same = labels[:, None, :] == anchor_labels[..., None]
    others = _others(valid, anchor_idx)
    return same & others, ~same & others


def depth_label_distance(depth: torch.Tensor, anchor_idx: torch.Tensor
                         ) -> torch.Tensor:
    """B x A x P L1 distance of depths (B x P) to the anchors' depths."""
    return (depth[:, None, :] - depth.gather(1, anchor_idx)[..., None]).abs()


def normal_label_distance(normal: torch.Tensor, anchor_idx: torch.Tensor
                          ) -> torch.Tensor:
    """B x A x P angle (radians) between the normals (B x 3 x P) and the
    anchors' normals."""
    anchors = normal.gather(2, anchor_idx[:, None, :].expand(-1, 3, -1))
    cos = torch.einsum('bca,bcp->bap', anchors, normal)
    return torch.acos(cos.clamp(-1.0, 1.0))


def continuous_relations(label_dist: torch.Tensor, valid: torch.Tensor,
                         anchor_idx: torch.Tensor, top_k: int
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Positives: the ``top_k`` other valid pixels closest to the anchor in
    label space; negatives: the ``top_k`` farthest (criterion (ii)).

    When an anchor has fewer than ``2 * top_k`` other valid pixels, ``k``
    drops to half of them so the two sets stay disjoint (ours: the paper
    notes a large k makes them intersect and corrupts learning).
    """
    others = _others(valid, anchor_idx)
    k_max = min(int(top_k), label_dist.shape[-1])
    k_eff = (others.sum(-1) // 2).clamp(max=int(top_k))
    keep = (torch.arange(k_max, device=valid.device) < k_eff[..., None])
    close = label_dist.masked_fill(~others, float('inf')).topk(
        k_max, dim=-1, largest=False).indices
    far = label_dist.masked_fill(~others, float('-inf')).topk(
        k_max, dim=-1, largest=True).indices
    pos = torch.zeros_like(others).scatter_(-1, close, keep)
    neg = torch.zeros_like(others).scatter_(-1, far, keep)
    # ties in label space could put one pixel in both lists
    return pos, neg & ~pos


def feature_distance(feats: torch.Tensor, anchor_idx: torch.Tensor
                     ) -> torch.Tensor:
    """B x A x P L2 distance between the anchors' features and every
    pixel's (feats: B x C x P)."""
    anchors = feats.gather(
        2, anchor_idx[:, None, :].expand(-1, feats.shape[1], -1))
    sq = (anchors.pow(2).sum(1)[..., None] + feats.pow(2).sum(1)[:, None, :]
          - 2 * torch.einsum('bca,bcp->bap', anchors, feats))
    return sq.clamp_min(0).sqrt()


def select_triplets(dist: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor,
                    num_negatives: int, semi_hard: bool = True,
                    fallback: str = 'boundary',
                    generator: Optional[torch.Generator] = None
                    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                               torch.Tensor]:
    """One positive and up to ``num_negatives`` negatives per anchor.

    ``semi_hard``: the hardest positive, the farthest in feature space
    (Eq. (4), step (iv)), and the negatives closest to the anchor among
    those with ``d(a, n) > d(a, p)`` (step (v)). When fewer qualify,
    ``fallback`` fills the remaining slots: ``'boundary'`` with the other
    negatives closest to the semi-hard boundary (largest ``d(a, n)``
    first), ``'hardest'`` with the other negatives closest to the anchor,
    ``'fewer'`` leaves them empty. Not ``semi_hard``: a uniformly random
    positive and random negatives (the ablation without SS), drawn from
    ``generator``.

    Args:
        dist: B x A x P feature distances (no gradient needed).
        pos, neg: B x A x P bool relations.
    Returns:
        ``(pos_idx B x A, has_pos B x A, neg_idx B x A x N, neg_ok
        B x A x N)`` with ``N = min(num_negatives, P)``.
    """
    if fallback not in FALLBACKS:
        raise ValueError(f'select_triplets: fallback must be one of '
                         f'{FALLBACKS}, got {fallback!r}')
    n = min(int(num_negatives), dist.shape[-1])
    has_pos = pos.any(-1)
    inf = float('inf')
    if semi_hard:
        pos_idx = dist.masked_fill(~pos, -inf).argmax(-1)
        d_ap = dist.gather(-1, pos_idx[..., None])
        semi = neg & (dist > d_ap)
        if fallback == 'boundary':
            rest = _RANK_OFFSET + (d_ap - dist)
        elif fallback == 'hardest':
            rest = _RANK_OFFSET + dist
        else:
            rest = torch.full_like(dist, inf)
        key = torch.where(semi, dist, torch.where(neg, rest, inf))
    else:
        noise = torch.rand(dist.shape, generator=generator,
                           device=dist.device)
        pos_idx = noise.masked_fill(~pos, inf).argmin(-1)
        noise = torch.rand(dist.shape, generator=generator,
                           device=dist.device)
        key = noise.masked_fill(~neg, inf)
    values, neg_idx = key.topk(n, dim=-1, largest=False)
    return pos_idx, has_pos, neg_idx, torch.isfinite(values)


def triplet_loss(feats: torch.Tensor, anchor_idx: torch.Tensor,
                 anchor_ok: torch.Tensor, pos_idx: torch.Tensor,
                 neg_idx: torch.Tensor, neg_ok: torch.Tensor,
                 margin: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """Eq. (1) on the selected triplets, with gradient to ``feats``.

    Per anchor the mean of ``[D(a, p) - D(a, n) + m]_+`` over its
    negatives; returns ``(sum over anchors, number of anchors)`` so that
    the caller takes the mean over the anchors of a whole batch. An anchor
    counts only if it is real, has a positive and at least one negative.
    """
    b, c, _ = feats.shape

    def take(index: torch.Tensor) -> torch.Tensor:
        flat = index.reshape(b, 1, -1).expand(-1, c, -1)
        return feats.gather(2, flat).reshape(b, c, *index.shape[1:])

    f_a, f_p = take(anchor_idx), take(pos_idx)
    f_n = take(neg_idx)  # B x C x A x N
    d_ap = (f_a - f_p).pow(2).sum(1).clamp_min(1e-12).sqrt()
    d_an = (f_a[..., None] - f_n).pow(2).sum(1).clamp_min(1e-12).sqrt()
    hinge = (d_ap[..., None] - d_an + margin).clamp_min(0)
    weights = neg_ok.to(hinge.dtype)
    count = weights.sum(-1)
    used = anchor_ok & (count > 0)
    per_anchor = (hinge * weights).sum(-1) / count.clamp_min(1)
    per_anchor = per_anchor * used.to(hinge.dtype)
    return per_anchor.sum(), used.sum()
