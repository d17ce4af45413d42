"""Eq. (2) of the region contrast paper for maps that are bilinear
upsamplings (a_theta's 1/16 output brought to 1/2), computed at the low
resolution: the same Gaussians as :func:`region_gaussians` of the
upsampled map, without making it."""
from __future__ import annotations

from typing import Sequence, Tuple

import torch

from .gaussian_regions import Gaussians, segment_gram
from .toolkit import region_segments


def bilinear_taps(n_in: int, n_out: int, device=None
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
    """The two source positions and weights of each of ``n_out`` outputs of
    a 1-D linear resampling of ``n_in`` samples, as ``F.interpolate``
    (``mode='bilinear'``, ``align_corners=False``, an output size) does it
    per axis: source ``s = max((i + 0.5) n_in / n_out - 0.5, 0)``, taps
    ``floor(s)`` and the next one (clamped at the border) with weights
    ``1 - frac(s)`` and ``frac(s)``. Returns ``(index n_out x 2 long,
    weight n_out x 2 float64)``."""
    i = torch.arange(n_out, dtype=torch.float64, device=device)
    src = ((i + 0.5) * (n_in / n_out) - 0.5).clamp_min(0)
    low = src.floor().long().clamp_max(n_in - 1)
    frac = (src - low).clamp(0, 1)
    index = torch.stack([low, (low + 1).clamp_max(n_in - 1)], dim=1)
    return index, torch.stack([1 - frac, frac], dim=1)


# Above this many (region, cell, offset) entries the second-moment weights
# of :class:`UpsampledRegions` are gathered sparsely (a sort) instead of in
# a dense G x cells x 9 table.
DENSE_MOMENT_LIMIT = 1 << 23


class UpsampledRegions:
    """Eq. (2) for maps that are bilinear upsamplings, computed at the low
    resolution: exactly :func:`region_gaussians` of ``F.interpolate(low,
    size=ids.shape[-2:], mode='bilinear', align_corners=False)``, in float64,
    without the upsampled map.

    The upsampled feature of pixel p is ``x_p = sum_q beta_p(q) y_q`` over
    its 4 source cells q of ``low`` (weights :func:`bilinear_taps`), so a
    region's sums are ``sum_p x_p = sum_q w(q) y_q`` with ``w(q) = sum_p
    beta_p(q)`` and ``sum_p x_p x_p^T = sum_q y_q z_q^T`` with ``z_q =
    sum_d K(q, q + d) y_{q+d}``, ``K(q, q') = sum_p beta_p(q) beta_p(q')``
    nonzero only for the 3 x 3 neighbours ``q' = q + d``. The weights
    depend on the region map only: built once here and shared by every map
    of the same layout (the GT and the prediction maps of RegionContrast).
    The work per map is over the (region, cell) pairs, a few per low-res
    cell, instead of the upsampled pixels (64 per cell at 1/16 -> 1/2);
    the covariance is ``(S2 - n m m^T) / (n - 1)`` in float64 (exact
    algebraically; one pass, which float64 keeps far below ``eps``).

    Args:
        ids: N x h x w (or N x 1 x h x w) region ids at the upsampled size,
            0 = no region.
        low_size: ``(hq, wq)`` of the low-resolution maps.
        min_pixels: regions with fewer upsampled pixels are left out.
    """

    def __init__(self, ids: torch.Tensor, low_size: Sequence[int],
                 min_pixels: int = 10) -> None:
        if ids.dim() == 4:
            ids = ids[:, 0]
        hq, wq = (int(v) for v in low_size)
        h, w = ids.shape[-2:]
        dev, f64 = ids.device, torch.float64
        pixels, inv, n, image, region = region_segments(ids, min_pixels)
        self.num_images, self.low_size = ids.shape[0], (hq, wq)
        self.count, self.image, self.region = n, image, region
        g, cells = n.numel(), hq * wq
        pix = pixels.nonzero()
        rows, row_w = bilinear_taps(hq, h, dev)
        cols, col_w = bilinear_taps(wq, w, dev)
        # the 4 taps (row tap r, column tap s) of every pixel: P x 4
        tap_r = rows[pix[:, 1]][:, :, None].expand(-1, 2, 2).reshape(-1, 4)
        tap_c = cols[pix[:, 2]][:, None, :].expand(-1, 2, 2).reshape(-1, 4)
        beta = (row_w[pix[:, 1]][:, :, None] *
                col_w[pix[:, 2]][:, None, :]).reshape(-1, 4)
        cell = tap_r * wq + tap_c
        base = inv[:, None] * cells + cell                 # (region, cell)
        first = torch.zeros(g * cells, dtype=f64, device=dev).index_add_(
            0, base.reshape(-1), beta.reshape(-1))
        # (region, cell, offset) of every tap pair: offset (dr, dc) in 3x3
        offset = ((tap_r[:, None, :] - tap_r[:, :, None] + 1) * 3
                  + tap_c[:, None, :] - tap_c[:, :, None] + 1)
        key = (base[:, :, None] * 9 + offset).reshape(-1)
        value = (beta[:, :, None] * beta[:, None, :]).reshape(-1)
        if g * cells * 9 <= DENSE_MOMENT_LIMIT:
            second = torch.zeros(g * cells * 9, dtype=f64,
                                 device=dev).index_add_(0, key, value)
            key = torch.nonzero(second).flatten()
            value = second[key]
        else:
            key, where = torch.unique(key, return_inverse=True)
            value = torch.zeros(key.numel(), dtype=f64,
                                device=dev).index_add_(0, where, value)
            keep = value != 0
            key, value = key[keep], value[keep]
        # rows: the (region, cell) pairs with weight, ordered by region
        pair = torch.nonzero(first).flatten()
        self.row_region = pair // cells
        self.row_weight = first[pair]
        self.row_cell = image[self.row_region] * cells + pair % cells
        self.row_count = torch.bincount(self.row_region, minlength=g)
        row_of = torch.full((g * cells,), -1, dtype=torch.long, device=dev)
        row_of[pair] = torch.arange(pair.numel(), device=dev)
        region_cell = key // 9
        self.k_row = row_of[region_cell]
        k_off = key % 9
        self.k_cell = (image[region_cell // cells] * cells + region_cell %
                       cells + (k_off // 3 - 1) * wq + k_off % 3 - 1)
        self.k_weight = value

    def __len__(self) -> int:
        return self.count.numel()

    def gaussians(self, low: torch.Tensor, unbiased: bool = True,
                  eps: float = 0.0, diagonal: bool = False) -> Gaussians:
        """The regions' Gaussians of one N x C x hq x wq map (float64);
        arguments as :func:`region_gaussians`."""
        if (low.shape[0] != self.num_images
                or tuple(low.shape[-2:]) != self.low_size):
            raise ValueError(f'UpsampledRegions: map {tuple(low.shape)} does '
                             f'not match {self.num_images} region maps of '
                             f'low-resolution size {self.low_size}')
        c, f64 = low.shape[1], torch.float64
        y = low.permute(0, 2, 3, 1).reshape(-1, c).to(f64)
        n = self.count.to(f64)
        g = n.numel()
        y_row = y[self.row_cell]
        mean = y.new_zeros(g, c).index_add(
            0, self.row_region, self.row_weight[:, None] * y_row) / n[:, None]
        z = y.new_zeros(y_row.shape).index_add(
            0, self.k_row, self.k_weight[:, None] * y[self.k_cell])
        denom = ((self.count - 1).clamp_min(1) if unbiased
                 else self.count).to(f64)
        if diagonal:
            second = y.new_zeros(g, c).index_add(0, self.row_region,
                                                 y_row * z)
            var = (second - n[:, None] * mean * mean) / denom[:, None]
            return Gaussians(mean, var + eps, self.count)
        second = segment_gram(y_row, self.row_region, self.row_count, z)
        second = 0.5 * (second + second.mT)
        cov = (second - n[:, None, None] * mean[:, :, None] * mean[:, None])
        cov = cov / denom[:, None, None]
        if eps:
            cov = cov + eps * torch.eye(c, dtype=f64, device=cov.device)
        return Gaussians(mean, cov, self.count)
