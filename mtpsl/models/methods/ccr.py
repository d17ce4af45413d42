"""CCR: cross-task contrastive regularisation of task decoder features.

Yang, Ye, Xu, "Contrastive Multi-Task Dense Prediction", AAAI 2023. For a
target task ``t`` and a source task ``s``, the feature of ``t``'s decoder is
projected (Eq. (2)) and L2-normalised; the GT of ``s`` defines, for anchors
sampled per image, positives and negatives (same / other label, or the
top-k closest / farthest in label space); a triplet loss with the hardest
positive and semi-hard negatives (Eq. (1), (4)) is summed over the pairs
(Eq. (3)), one random source per target with contrastive task-pair
selection. No public code exists: ours is written from the paper
(configs/ccr/README.md lists where we differ). Training only.
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mtpsl.registry import MODELS
from mtpsl.structures import task_spec

from .base import BaseCrossTaskMethod, MethodBundle, ViewBundle
from .ccr_mining import (FALLBACKS, continuous_relations, depth_label_distance,
                         discrete_relations, feature_distance,
                         normal_label_distance, sample_anchors,
                         select_triplets, triplet_loss)
from .toolkit import resample_target

# Table 3 of the paper: how projectors are shared among the (t, s) pairs.
SHARINGS = ('Ts', 'Tt', 'Tt+Ts', 'unshared')
CTS_SOURCES = ('labelled', 'all')


def source_valid(task: str, target: torch.Tensor) -> torch.Tensor:
    """B x h x w bool: pixels where the GT of ``task`` is valid."""
    spec = task_spec(task)
    if spec.kind == 'label':
        return target[:, 0] >= 0
    if task == 'normal':
        return (target != 0).any(dim=1) & torch.isfinite(target).all(dim=1)
    return (target[:, 0] != spec.invalid) & torch.isfinite(target[:, 0])


class Projector(nn.Sequential):
    """Eq. (2): ``BN . Conv1x1 . ReLU . Conv1x1`` (applied right to left)."""

    def __init__(self, in_channels: int, hidden_channels: int,
                 out_channels: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, hidden_channels, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels))


@MODELS.register_module()
class CCR(BaseCrossTaskMethod):
    """Cross-task contrastive regularisation, every ablation an option.

    Args:
        tasks: the model's tasks (the model passes them).
        feat_channels: channels of the task decoder features, one int for
            all or ``{task: channels}``.
        use_projector: False is CCR-Basic (Table 1): the triplet loss on
            the L2-normalised decoder features themselves.
        projector_sharing: ``'Ts'`` one projector per target shared over
            its sources (the paper's best, default); ``'Tt'`` one per
            source shared over targets; ``'Tt+Ts'`` one for all;
            ``'unshared'`` one per (t, s).
        proj_channels, hidden_channels: output and hidden width of a
            projector (hidden default: its input width).
        semi_hard: the hardest positive and semi-hard negatives (+ SS);
            False samples them uniformly at random.
        cts: one random source per target each iteration (+ CTS); False
            uses every (t, s) pair.
        cts_sources: ``'labelled'`` draws among the sources with a
            labelled image in the batch (ours, for partial labels; the
            same as ``'all'`` when fully labelled), ``'all'`` among every
            other task.
        margin: m of Eq. (1).
        anchor_ratio: gamma, anchors per image ``C_A = gamma * h * w``.
        top_k: k of the continuous positives / negatives.
        num_negatives: C_neg, negatives per anchor.
        neg_fallback: fills the negative slots when fewer than
            ``num_negatives`` are semi-hard (see
            :func:`~.ccr_mining.select_triplets`).
        feature_stride: average-pool the decoder feature by this factor
            before projecting (ours: 4 for decoders at full resolution,
            e.g. SegNet, to contrast at the 1/4 scale of the paper's FPN).
        loss_weight: lambda_ctr of Eq. (5).
    """
    default_name = 'ccr'

    def __init__(self, tasks: Sequence[str],
                 feat_channels: Union[int, Mapping[str, int]],
                 use_projector: bool = True, projector_sharing: str = 'Ts',
                 proj_channels: int = 128,
                 hidden_channels: Optional[int] = None,
                 semi_hard: bool = True, cts: bool = True,
                 cts_sources: str = 'labelled', margin: float = 0.2,
                 anchor_ratio: float = 0.01, top_k: int = 128,
                 num_negatives: int = 16, neg_fallback: str = 'boundary',
                 feature_stride: int = 1, loss_weight: float = 1.0,
                 name: Optional[str] = None, init_cfg=None) -> None:
        super().__init__(name=name, loss_weight=loss_weight,
                         init_cfg=init_cfg)
        self.tasks = tuple(tasks)
        if len(self.tasks) < 2:
            raise ValueError(f'CCR needs at least two tasks, got '
                             f'{list(self.tasks)}')
        if projector_sharing not in SHARINGS:
            raise ValueError(f'CCR: projector_sharing must be one of '
                             f'{SHARINGS}, got {projector_sharing!r}')
        if cts_sources not in CTS_SOURCES:
            raise ValueError(f'CCR: cts_sources must be one of '
                             f'{CTS_SOURCES}, got {cts_sources!r}')
        if neg_fallback not in FALLBACKS:
            raise ValueError(f'CCR: neg_fallback must be one of '
                             f'{FALLBACKS}, got {neg_fallback!r}')
        for key, value in (('anchor_ratio', anchor_ratio), ('top_k', top_k),
                           ('num_negatives', num_negatives),
                           ('feature_stride', feature_stride)):
            if not value > 0:
                raise ValueError(f'CCR: {key} must be positive, got '
                                 f'{value!r}')
        if isinstance(feat_channels, Mapping):
            missing = [t for t in self.tasks if t not in feat_channels]
            if missing:
                raise ValueError(f'CCR: feat_channels has no entry for '
                                 f'{missing}')
            self.feat_channels = {t: int(feat_channels[t])
                                  for t in self.tasks}
        else:
            self.feat_channels = {t: int(feat_channels) for t in self.tasks}
        self.use_projector = bool(use_projector)
        self.projector_sharing = projector_sharing
        self.semi_hard = bool(semi_hard)
        self.cts = bool(cts)
        self.cts_sources = cts_sources
        self.margin = float(margin)
        self.anchor_ratio = float(anchor_ratio)
        self.top_k = int(top_k)
        self.num_negatives = int(num_negatives)
        self.neg_fallback = neg_fallback
        self.feature_stride = int(feature_stride)
        self.projectors = nn.ModuleDict()
        if self.use_projector:
            self._build_projectors(int(proj_channels), hidden_channels)

    # -- projectors ---------------------------------------------------------
    def projector_key(self, target: str, source: str) -> str:
        """The name in ``projectors`` of the projector of pair (t, s)."""
        return {'Ts': target, 'Tt': f'from_{source}', 'Tt+Ts': 'shared',
                'unshared': f'{target}_from_{source}'}[self.projector_sharing]

    def _build_projectors(self, out_channels: int,
                          hidden: Optional[int]) -> None:
        """One projector per distinct key over the (t, s) pairs."""
        for t, s in self.all_pairs():
            key = self.projector_key(t, s)
            if key in self.projectors:
                continue
            users = [u for u, v in self.all_pairs()
                     if self.projector_key(u, v) == key]
            widths = {self.feat_channels[u] for u in users}
            if len(widths) > 1:
                raise ValueError(
                    f'CCR: projector_sharing={self.projector_sharing!r} '
                    f'shares projector {key!r} among targets of different '
                    f'feat_channels {widths}')
            c_in = widths.pop()
            self.projectors[key] = Projector(c_in, hidden or c_in,
                                             out_channels)

    def all_pairs(self) -> List[Tuple[str, str]]:
        """Every ordered (target, source) pair, s != t (Eq. (3))."""
        return [(t, s) for t in self.tasks for s in self.tasks if s != t]

    def embed(self, target: str, source: str,
              feat: torch.Tensor) -> torch.Tensor:
        """F'_t: the (pooled) feature of ``target`` projected for the pair
        and L2-normalised over channels (B x C' x h x w)."""
        if self.feature_stride > 1:
            feat = F.avg_pool2d(feat, self.feature_stride, ceil_mode=True)
        if self.use_projector:
            feat = self.projectors[self.projector_key(target, source)](feat)
        return F.normalize(feat, dim=1)

    # -- pairs --------------------------------------------------------------
    def select_pairs(self, bundle: MethodBundle) -> List[Tuple[str, str]]:
        """The (t, s) pairs of this step: all of them, or with CTS one
        source per target drawn from the step's generator."""
        if not self.cts:
            return self.all_pairs()
        labelled = {s: bool(bundle.flags(s).any()) for s in self.tasks}
        gen = bundle.generator(f'{self.name}.cts')
        pairs = []
        for t in self.tasks:
            sources = [s for s in self.tasks if s != t]
            if self.cts_sources == 'labelled':
                # a source labelled nowhere in the batch would give nothing
                sources = [s for s in sources if labelled[s]] or sources
            pick = int(torch.randint(len(sources), (1,), generator=gen))
            pairs.append((t, sources[pick]))
        return pairs

    # -- the loss -----------------------------------------------------------
    def pair_term(self, emb: torch.Tensor, source: str,
                  target_gt: torch.Tensor, flags: torch.Tensor,
                  anchor_gen: torch.Generator,
                  sample_gen: torch.Generator
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(sum of per-anchor losses, number of anchors)`` of R_ts
        (Eq. (1)) over the batch, on the images labelled for ``source``.

        Args:
            emb: B x C x h x w normalised projection of the target.
            target_gt: B x C_s x H x W GT of the source task.
            flags: B bool, images labelled for the source.
        """
        b, c, h, w = emb.shape
        gt = resample_target(source, target_gt.detach(), (h, w))
        valid = (source_valid(source, gt) & flags.view(b, 1, 1)).flatten(1)
        count = max(1, int(round(self.anchor_ratio * h * w)))
        anchor_idx, anchor_ok = sample_anchors(valid, count, anchor_gen)
        if task_spec(source).kind == 'label':
            pos, neg = discrete_relations(gt[:, 0].flatten(1).long(), valid,
                                          anchor_idx)
        else:
            if source == 'normal':
                dist = normal_label_distance(
                    F.normalize(gt.flatten(2).float(), dim=1), anchor_idx)
            else:
                dist = depth_label_distance(gt[:, 0].flatten(1).float(),
                                            anchor_idx)
            pos, neg = continuous_relations(dist, valid, anchor_idx,
                                            self.top_k)
        feats = emb.flatten(2)
        with torch.no_grad():
            feat_dist = feature_distance(feats.detach(), anchor_idx)
        pos_idx, has_pos, neg_idx, neg_ok = select_triplets(
            feat_dist, pos, neg, self.num_negatives, self.semi_hard,
            self.neg_fallback, sample_gen)
        return triplet_loss(feats, anchor_idx, anchor_ok & has_pos, pos_idx,
                            neg_idx, neg_ok, self.margin)

    def view_loss(self, view: ViewBundle, bundle: MethodBundle,
                  pairs: Sequence[Tuple[str, str]]) -> torch.Tensor:
        """L_ctr of Eq. (3) on one view: the sum over ``pairs`` of R_ts,
        each the mean over the batch's anchors; an exact zero, kept in the
        graph, for a pair with no anchor."""
        flags = {s: view.label_flags[:, self.tasks.index(s)].bool()
                 for s in self.tasks}
        cache: Dict[str, torch.Tensor] = {}
        total = self._graph_zero(view, {t for t, _ in pairs})
        for t, s in pairs:
            key = self.projector_key(t, s) if self.use_projector else t
            cache_key = f'{t}|{key}'
            if cache_key not in cache:
                cache[cache_key] = self.embed(t, s, view.task_feats[t])
            device = view.task_feats[t].device
            loss_sum, anchors = self.pair_term(
                cache[cache_key], s, view.targets[s], flags[s],
                bundle.generator(f'{self.name}.anchors.{t}.{s}', device),
                bundle.generator(f'{self.name}.sample.{t}.{s}', device))
            total = total + loss_sum / anchors.clamp_min(1).to(loss_sum)
        return total

    def _graph_zero(self, view: ViewBundle, targets) -> torch.Tensor:
        """A zero touching every projector and the target features, so a
        step where nothing qualifies still has a graph (DDP-safe)."""
        zero = self.zero_loss()
        for t in sorted(targets):
            zero = zero + view.task_feats[t].reshape(-1)[0] * 0.0
        return zero

    def loss(self, bundle: MethodBundle) -> Dict[str, torch.Tensor]:
        """``ccr.loss_ctr``: lambda_ctr * L_ctr (Eq. (3), (5))."""
        pairs = self.select_pairs(bundle)
        total = self.view_loss(bundle.view1, bundle, pairs)
        return {f'{self.name}.loss_ctr': self.loss_weight * total}
