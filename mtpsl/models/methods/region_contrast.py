"""Region-aware distribution contrast (Li et al., ECCV 2024).

"Region-aware Distribution Contrast: A Novel Approach to Multi-Task
Partially Supervised Learning". For an image where task ``s`` is labelled
and ``t`` is not, the pair-conditioned mapper a_theta maps the GT of ``s``
and the prediction of ``t``; every region of the image's region map is a
Gaussian of the mapped features in each map (Eq. (2)); InfoNCE (Eq. (3))
with ``sim = exp(-W / tau)`` (Eq. (4)), W the squared 2-Wasserstein
distance (Eq. (5)), pulls the two Gaussians of a region together and
pushes them from the other regions of the image and from a FIFO bank of
earlier regions; L_RC is the mean over maps and regions (Eq. (6)).
Choices and ablations: configs/region_contrast/README.md.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from mtpsl.registry import MODELS
from mtpsl.structures import task_spec

from .base import BaseCrossTaskMethod, MethodBundle, ViewBundle
from .film_mapper import REGION_CONTRAST_RELEASE, PairFiLMMapper
from .gaussian_regions import (Gaussians, cov_factor, kl_divergence,
                               w2_squared)
from .region_bank import GaussianBank
from .region_terms import info_nce, pixel_contrast, vector_distance
from .toolkit import (consistency_pairs, encode_prediction, encode_target,
                      labelled_unlabelled_pairs, resize_region_ids)
from .upsampled_regions import UpsampledRegions

CHOICES = dict(extraction=('region', 'patch'),
               regions=('map', 'semantic_gt'),
               contrast=('gaussian', 'vector', 'pixel'),
               distance=('w2', 'kl'), covariance=('full', 'diag'),
               vector_metric=('l2', 'cosine'),
               negative_select=('random', 'hardest'), rest=('bound', 'drop'),
               anchors=('both', 'target'), pairs=('unlabelled', 'all'),
               view=('view1', 'view2'), aggregation=('mean', 'release'),
               pair_dtype=('float32', 'float64'))


def _sq_dist(x: torch.Tensor, anchor: torch.Tensor, in_image: torch.Tensor,
             bank_start: int) -> torch.Tensor:
    """Squared L2 between ``x[anchor]`` (A,) and the candidates of each
    anchor: ``x[in_image]`` (A x W, per-anchor indices), then every bank
    row ``x[bank_start:]`` (shared by all anchors: a matrix product, not
    an A x N x C gather). A x (W + N)."""
    xa = x[anchor]
    near = ((x[in_image] - xa[:, None]) ** 2).sum(-1)
    bank = x[bank_start:]
    if bank.shape[0] == 0:
        return near
    far = ((xa * xa).sum(1)[:, None] + (bank * bank).sum(1)[None]
           - 2 * xa @ bank.T).clamp_min(0)
    return torch.cat([near, far], dim=1)


@MODELS.register_module()
class RegionContrast(BaseCrossTaskMethod):
    """Region-wise Gaussian contrast between the GT map of a labelled task
    and the prediction map of an unlabelled one.

    Args:
        tasks: the model's tasks (the model passes them).
        num_classes: ``{task: classes}`` of the label tasks.
        mapper: :class:`PairFiLMMapper` settings (default the release's
            small a_theta, 32 channels at 1/16).
        feature_scale: the mapped maps are upsampled (bilinear) to this
            fraction of the input, the region ids nearest-resampled to it
            (0.5 as the release).
        extraction: ``'region'`` (the region map of the batch) or
            ``'patch'`` (a ``patch_grid`` of the feature map, Table 3).
        regions: ``'map'`` (``region_ids`` from the pipeline) or
            ``'semantic_gt'`` (the semantic GT classes as regions, Table 4).
        contrast: ``'gaussian'``, ``'vector'`` (region means) or ``'pixel'``
            (``pixels_per_region`` sampled pixels per region).
        distance: ``'w2'`` (Eq. (5)) or ``'kl'`` (Table 5) for Gaussians.
        covariance: ``'full'`` or ``'diag'``.
        vector_metric: squared ``'l2'`` or ``'cosine'`` (1 - cos) for the
            vector and pixel contrasts.
        unbiased, eps, min_pixels: of the region covariances.
        tau: temperature of Eq. (4).
        bank_size: FIFO bank of region Gaussians (0: none).
        negatives: negatives per anchor with the exact distance, picked
            among the other regions of its image and the bank (None: all,
            the exact loss); see :meth:`contrast_terms`.
        negative_select: ``'hardest'`` (smallest lower bound of W2: means
            and per-channel standard deviations) or ``'random'``.
        rest: the other negatives enter with that lower bound
            (``'bound'``) or are left out (``'drop'``; needed with KL).
        anchors: ``'both'`` maps' regions are anchors, or only the
            prediction map's (``'target'``).
        pairs: ``'unlabelled'`` ((labelled, unlabelled) pairs) or ``'all'``
            (also every ordered pair of a fully labelled image: full
            supervision, Table 6; XTC's release rule).
        view: the view whose GT and predictions are contrasted
            (``'view2'``: a two-view pipeline; the release contrasts view 2,
            a crop of view 1, with ``TwoViewTransform(nested=True)``).
        joint_view_forward: with ``view='view2'``, both views in one
            forward of the network (one BN batch, as the release).
        aggregation: ``'mean'`` (Eq. (6), then mean over images and pairs)
            or ``'release'`` (per image-pair means summed, x
            ``release_scale``, / batch size).
        pair_dtype: of the per-pair W2 / KL products.
        loss_weight: 0.075 (the release, ramped up by LossRampUpHook).
    """
    default_name = 'rc'

    def __init__(self, tasks: Sequence[str], num_classes: Dict[str, int],
                 mapper: Optional[dict] = None, feature_scale: float = 0.5,
                 extraction: str = 'region',
                 patch_grid: Sequence[int] = (4, 4),
                 regions: str = 'map', contrast: str = 'gaussian',
                 distance: str = 'w2', covariance: str = 'full',
                 vector_metric: str = 'l2', unbiased: bool = True,
                 eps: float = 1e-6, min_pixels: int = 10, tau: float = 5.4,
                 bank_size: int = 1000, negatives: Optional[int] = 4,
                 negative_select: str = 'hardest', rest: str = 'bound',
                 anchors: str = 'both',
                 pairs: str = 'unlabelled', view: str = 'view1',
                 aggregation: str = 'mean', release_scale: float = 2.0,
                 pixels_per_region: int = 4, pair_dtype: str = 'float32',
                 joint_view_forward: bool = False,
                 gumbel_tau: float = 1.0, loss_weight: float = 0.075,
                 name: Optional[str] = None, init_cfg=None) -> None:
        super().__init__(name=name, loss_weight=loss_weight,
                         init_cfg=init_cfg)
        given = dict(extraction=extraction, regions=regions,
                     contrast=contrast, distance=distance,
                     covariance=covariance, vector_metric=vector_metric,
                     negative_select=negative_select, rest=rest,
                     anchors=anchors, pairs=pairs,
                     view=view, aggregation=aggregation,
                     pair_dtype=pair_dtype)
        for key, value in given.items():
            if value not in CHOICES[key]:
                raise ValueError(f'RegionContrast: {key} must be one of '
                                 f'{CHOICES[key]}, got {value!r}')
            setattr(self, key, value)
        if contrast == 'gaussian' and covariance == 'full' and eps <= 0:
            raise ValueError(f'RegionContrast: eps must be > 0 with full '
                             f'covariances (Cholesky factors), got {eps}')
        if rest == 'bound' and distance == 'kl' and contrast == 'gaussian':
            raise ValueError("RegionContrast: rest='bound' is a bound of W2, "
                             "not of KL; use rest='drop' with distance='kl'")
        if tau <= 0:
            raise ValueError(f'RegionContrast: tau must be > 0, got {tau}')
        if regions == 'semantic_gt' and 'sem_seg' not in tasks:
            raise ValueError("RegionContrast: regions='semantic_gt' needs "
                             "the task 'sem_seg'")
        self.tasks = tuple(tasks)
        self.num_classes = dict(num_classes or {})
        in_channels = {}
        for task in self.tasks:
            spec = task_spec(task)
            if spec.kind == 'label' and task not in self.num_classes:
                raise ValueError(f'RegionContrast: num_classes has no entry '
                                 f'for label task {task!r}')
            in_channels[task] = (self.num_classes[task]
                                 if spec.kind == 'label' else spec.channels)
        self.mapper = PairFiLMMapper(in_channels, self.tasks, **dict(
            REGION_CONTRAST_RELEASE, **(mapper or {})))
        self.feature_scale = float(feature_scale)
        self.patch_grid = tuple(int(v) for v in patch_grid)
        self.unbiased, self.eps = bool(unbiased), float(eps)
        self.min_pixels, self.tau = int(min_pixels), float(tau)
        self.negatives = None if negatives is None else int(negatives)
        self.release_scale = float(release_scale)
        self.pixels_per_region = int(pixels_per_region)
        self.gumbel_tau = float(gumbel_tau)
        use_bank = contrast != 'pixel' and bank_size > 0
        self.bank = GaussianBank(
            bank_size if use_bank else 0, self.mapper.out_channels,
            diagonal=covariance == 'diag' or contrast == 'vector')
        self.needs_view2 = view == 'view2'
        self.joint_view_forward = bool(joint_view_forward)

    # ---------------------------------------------------------------- maps
    def _region_ids(self, view: ViewBundle, images: torch.Tensor,
                    size: Tuple[int, int]) -> torch.Tensor:
        """U x h x w region ids of ``images`` at the feature size."""
        if self.extraction == 'patch':
            rows, cols = self.patch_grid
            r = (torch.arange(size[0], device=images.device) * rows) // size[0]
            c = (torch.arange(size[1], device=images.device) * cols) // size[1]
            grid = r[:, None] * cols + c[None, :] + 1
            return grid.expand(images.numel(), -1, -1)
        if self.regions == 'semantic_gt':
            labels = view.targets['sem_seg'][images].long()
            valid = (labels >= 0) & (labels < self.num_classes['sem_seg'])
            return resize_region_ids(torch.where(valid, labels + 1, 0),
                                     size)[:, 0]
        if view.region_ids is None:
            raise ValueError('RegionContrast: the batch has no region_ids; '
                             'add LoadRegionMap to the training pipeline '
                             '(docs/regions.md) or use extraction=\'patch\'')
        return resize_region_ids(view.region_ids[images], size)[:, 0]

    def mapped(self, view: ViewBundle, generator=None, upsample: bool = True):
        """``(gt maps, prediction maps, region ids, unit batch index)`` of
        every (image, s, t) unit of the view, the maps at the feature size
        (with ``upsample=False``: as a_theta gives them, to be upsampled
        bilinearly to the ids' size); None if there is none."""
        pairs = (consistency_pairs(view.label_flags) if self.pairs == 'all'
                 else labelled_unlabelled_pairs(view.label_flags))
        if not pairs:
            return None
        h, w = view.inputs.shape[-2:]
        size = (max(1, round(h * self.feature_scale)),
                max(1, round(w * self.feature_scale)))
        maps_s, maps_t, ids, units = [], [], [], []
        for s, t, images in pairs:
            src, tgt = self.tasks[s], self.tasks[t]
            # GT is a constant, whatever produced it
            gt_map = encode_target(src, view.targets[src][images].detach(),
                                   self.num_classes.get(src))
            pred_map = encode_prediction(tgt, view.preds[tgt][images],
                                         self.gumbel_tau, generator)
            pair_ids = torch.full((images.numel(),),
                                  self.mapper.pair_index(src, tgt),
                                  dtype=torch.long, device=images.device)
            m_s, m_t = self.mapper.map_all(
                [(gt_map.to(pred_map.dtype), src), (pred_map, tgt)], pair_ids)
            if upsample:
                m_s, m_t = (F.interpolate(m, size=size, mode='bilinear',
                                          align_corners=False)
                            for m in (m_s, m_t))
            maps_s.append(m_s)
            maps_t.append(m_t)
            ids.append(self._region_ids(view, images, size))
            units.append(images)
        return (torch.cat(maps_s), torch.cat(maps_t), torch.cat(ids),
                torch.cat(units))

    # ----------------------------------------------------------- distances
    def _dist(self, a: Gaussians, b: Gaussians, ia, ib, factors=None):
        """Distances between ``a[ia]`` and ``b[ib]`` under the options."""
        if self.contrast == 'vector':
            return vector_distance(a.mean, b.mean, ia, ib,
                                   self.vector_metric)
        dtype = torch.float32 if self.pair_dtype == 'float32' else None
        fn = w2_squared if self.distance == 'w2' else kl_divergence
        return fn(a, b, ia, ib, pair_dtype=dtype, factors=factors)

    def _bound_feats(self, every: Gaussians) -> torch.Tensor:
        """Per Gaussian, ``[mean, sqrt(diag cov)]``: the squared L2 between
        two of them is the W2 of the per-channel marginals, a lower bound
        of W2 (any coupling of the joints couples the marginals)."""
        var = every.cov if every.diagonal else torch.diagonal(
            every.cov, dim1=-2, dim2=-1)
        return torch.cat([every.mean, var.clamp_min(0).sqrt()], dim=1)

    def contrast_terms(self, g_s: Gaussians, g_t: Gaussians,
                       unit: torch.Tensor, generator=None
                       ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Eq. (3) for every anchor; ``g_s[i]``, ``g_t[i]`` are the two
        Gaussians of region i and ``unit[i]`` its (image, pair) unit.

        Candidates of an anchor: its positive (the same region in the other
        map, always exact) and its negatives: the other regions of its unit
        in the other map and the whole bank. With ``negatives=None`` every
        distance is exact; with ``negatives=K`` the K hardest (by the lower
        bound of :meth:`_bound_feats`) or K random negatives are exact and
        the others enter with their lower bound (``rest='bound'``: an upper
        bound of the exact loss, equal to it when K covers all) or not at
        all (``rest='drop'``). The vector contrast is always exact (cheap).
        Returns the (A,) losses and the unit of each anchor."""
        g, dev = len(g_s), unit.device
        bank = self.bank.entries()
        sets = [g_s, g_t] + ([bank.to(g_s.mean.dtype)] if bank is not None
                             else [])
        every = Gaussians.cat(sets)
        factors = None
        if self.contrast == 'gaussian' and self.covariance == 'full':
            f = cov_factor(every.cov)
            factors = (f, f)
        ar = torch.arange(g, device=dev)
        first = torch.ones(g, dtype=torch.bool, device=dev)
        first[1:] = unit[1:] != unit[:-1]
        start = torch.cummax(torch.where(first, ar, 0), 0).values
        counts = torch.bincount(unit)[unit]
        width = int(counts.max())
        # in-image candidates: column k = region start + k of the unit
        col = start[:, None] + torch.arange(width, device=dev)[None]
        in_image = (col < (start + counts)[:, None]) & (col != ar[:, None])
        col = torch.where(in_image, col, 0)
        n_bank = len(bank) if bank is not None else 0
        bank_cols = (2 * g + torch.arange(n_bank, device=dev)).expand(g, -1)
        valid = torch.cat([in_image, torch.ones_like(bank_cols,
                                                     dtype=torch.bool)], 1)
        k = self.negatives
        budget = (self.contrast != 'vector' and k is not None
                  and k < valid.shape[1])
        bound = self._bound_feats(every) if budget else None
        symmetric = self.contrast == 'vector' or self.distance == 'w2'
        directions = [(g, 0)] if self.anchors == 'target' else [(0, g), (g, 0)]
        losses, pos = [], None
        for off_a, off_b in directions:
            anchor = ar + off_a
            pool = torch.cat([col + off_b, bank_cols], dim=1)
            if pos is None or not symmetric:
                pos = self._dist(every, every, anchor, ar + off_b, factors)
            if not budget:
                d = self._dist(every, every, anchor[:, None].expand_as(pool),
                               pool, factors)
                neg = (-d / self.tau).masked_fill(~valid, float('-inf'))
            else:
                with torch.no_grad():
                    if self.negative_select == 'random':
                        keys = torch.rand(pool.shape, generator=generator,
                                          device=dev)
                    else:
                        keys = _sq_dist(bound, anchor, col + off_b, 2 * g)
                    keys = keys.masked_fill(~valid, float('inf'))
                    pick = keys.topk(k, dim=1, largest=False).indices
                d = self._dist(every, every, anchor[:, None].expand_as(pick),
                               pool.gather(1, pick), factors)
                neg = (-d / self.tau).masked_fill(~valid.gather(1, pick),
                                                  float('-inf'))
                if self.rest == 'bound':
                    rest = _sq_dist(bound, anchor, col + off_b, 2 * g)
                    keep = valid.scatter(1, pick, False)
                    neg = torch.cat([neg, (-rest / self.tau).masked_fill(
                        ~keep, float('-inf'))], dim=1)
            logits = torch.cat([(-pos / self.tau)[:, None], neg], dim=1)
            losses.append(info_nce(logits[:, 0], logits))
        return torch.cat(losses), unit.repeat(len(directions))

    def _push(self, g: Optional[Gaussians], device) -> None:
        """The step's Gaussians into the bank (after the loss: an anchor's
        positive is never its negative); with none, an empty push, so that
        every DDP rank joins the bank's all-gather on every step."""
        if self.bank.size == 0:
            return
        if g is None:
            c = self.bank.channels
            cov_shape = tuple(self.bank.cov.shape[1:])
            g = Gaussians(torch.zeros(0, c, device=device),
                          torch.zeros((0,) + cov_shape, device=device),
                          torch.zeros(0, dtype=torch.long, device=device))
        self.bank.push(g)

    # ----------------------------------------------------------------- loss
    def loss(self, bundle: MethodBundle) -> Dict[str, torch.Tensor]:
        """``rc.loss_rc``: L_RC of Eq. (6), weighted."""
        view = bundle.view2 if self.view == 'view2' else bundle.view1
        key = f'{self.name}.loss_rc'
        if view is None:
            raise ValueError("RegionContrast: view='view2' needs a two-view "
                             'pipeline (TwoViewTransform + PackTwoViewInputs)')
        dev = view.inputs.device
        pixel = self.contrast == 'pixel'
        out = self.mapped(view, bundle.generator(f'{self.name}.gumbel', dev),
                          upsample=pixel)
        if out is None:
            self._push(None, dev)   # every rank takes part in the gather
            return {key: self.zero_loss()}
        maps_s, maps_t, ids, images = out
        gen = bundle.generator(f'{self.name}.sample', dev)
        if pixel:
            per_anchor, unit = pixel_contrast(
                maps_s, maps_t, ids, self.min_pixels, self.pixels_per_region,
                self.tau, self.vector_metric, self.anchors, gen)
        else:
            # Eq. (2) on the upsampled maps, computed at a_theta's
            # resolution (exact; one layout for both maps)
            diag = self.covariance == 'diag' or self.contrast == 'vector'
            layout = UpsampledRegions(ids, maps_s.shape[-2:], self.min_pixels)
            g_s, g_t = (layout.gaussians(m, self.unbiased, self.eps, diag)
                        for m in (maps_s, maps_t))
            unit = layout.image
            if len(g_s) == 0:
                self._push(None, dev)
                return {key: self.zero_loss()}
            per_anchor, unit = self.contrast_terms(g_s, g_t, unit, gen)
            self._push(Gaussians.cat([g_s, g_t]), dev)
        if per_anchor.numel() == 0:
            return {key: self.zero_loss()}
        n_units = maps_s.shape[0]
        sums = per_anchor.new_zeros(n_units).index_add(0, unit, per_anchor)
        counts = torch.bincount(unit, minlength=n_units).to(sums.dtype)
        has = counts > 0
        unit_means = sums[has] / counts[has]
        if self.aggregation == 'release':
            value = (unit_means.sum() * self.release_scale
                     / view.inputs.shape[0])
        else:
            value = unit_means.mean()
        return {key: self.loss_weight * value.to(view.inputs.dtype)
                + 0.0 * self.zero_loss()}
