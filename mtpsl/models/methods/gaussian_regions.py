"""Gaussians of feature regions and distances between them, batched.

Li et al., "Region-aware Distribution Contrast: A Novel Approach to
Multi-Task Partially Supervised Learning", ECCV 2024: each region's features
are a Gaussian (Eq. (2)), compared by the squared 2-Wasserstein distance
(Eq. (5)) or, as the ablation of Table 5, by the KL divergence.

How the matrix square root is done (``w2_squared``): with ``S = F F^T``
(``F`` the Cholesky factor of the covariance, made once per Gaussian, in
float64), ``Tr((S1 S2)^1/2)`` is the nuclear norm of ``F1^T F2``: the
eigenvalues of ``S1 S2`` are those of ``(F1^T F2)(F1^T F2)^T``, i.e. the
squared singular values of ``F1^T F2``. Per pair we therefore take the
singular values of one C x C product, never a square root of an
eigenvalue: float32 keeps its precision where ``eigvalsh`` of
``S1^1/2 S2 S1^1/2`` would lose half its digits on small eigenvalues
(rank-deficient regions: fewer pixels than channels), and the backward of a
sum of singular values is ``U V^T``, bounded and free of the
``1 / (lambda_i - lambda_j)`` terms that make an eigenvector backward
non-finite on repeated eigenvalues. The Cholesky factor needs ``S`` positive
definite: covariances carry ``eps * I`` (``eps > 0``), as the release adds
1e-6 I to both.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import torch

from .toolkit import region_segments

# Pairs per batched SVD call: bounds the C x C temporaries (4 KiB a pair at
# C = 32, float32).
PAIR_CHUNK = 16384


@dataclass
class Gaussians:
    """G Gaussians: ``mean`` G x C, ``cov`` G x C x C (full) or G x C
    (diagonal: the variances), ``count`` G pixels each."""
    mean: torch.Tensor
    cov: torch.Tensor
    count: torch.Tensor

    @property
    def diagonal(self) -> bool:
        """True when ``cov`` holds variances only."""
        return self.cov.dim() == 2

    def __len__(self) -> int:
        return self.mean.shape[0]

    def take(self, index: torch.Tensor) -> 'Gaussians':
        """The Gaussians at ``index``."""
        return Gaussians(self.mean[index], self.cov[index], self.count[index])

    def detach(self) -> 'Gaussians':
        """A copy without autograd history."""
        return Gaussians(self.mean.detach(), self.cov.detach(), self.count)

    def to(self, dtype: torch.dtype) -> 'Gaussians':
        """Mean and covariance cast to ``dtype``."""
        return Gaussians(self.mean.to(dtype), self.cov.to(dtype), self.count)

    @staticmethod
    def cat(parts: Sequence['Gaussians']) -> 'Gaussians':
        """One set of all ``parts``, in order."""
        return Gaussians(torch.cat([p.mean for p in parts]),
                         torch.cat([p.cov for p in parts]),
                         torch.cat([p.count for p in parts]))


def segment_gram(x: torch.Tensor, segment: torch.Tensor,
                 counts: torch.Tensor,
                 y: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``sum_{p in g} x_p x_p^T`` (or ``x_p y_p^T`` with ``y``, rows as
    ``x``'s) for every segment g: G x C x C.

    Pixels are grouped by segment and each segment zero-padded to the
    largest of its size class (sizes within a factor of 2), so every class
    is one batched matrix product (``bmm``): at most log2(largest) + 1
    products and at most 2x padding, never a P x C x C outer-product
    tensor. The loop runs over size classes, not regions."""
    g, c = counts.numel(), x.shape[1]
    out = x.new_zeros(g, c, c)
    if g == 0:
        return out
    order = torch.argsort(segment, stable=True)
    offsets = torch.cumsum(counts, 0) - counts
    rank = torch.arange(order.numel(), device=x.device) - offsets[
        segment[order]]
    size_class = torch.ceil(torch.log2(counts.double())).long()
    pix_class = size_class[segment[order]]
    for k in torch.unique(size_class).tolist():
        segs = torch.nonzero(size_class == k).flatten()
        local = torch.full((g,), -1, dtype=torch.long, device=x.device)
        local[segs] = torch.arange(segs.numel(), device=x.device)
        sel = pix_class == k
        rows = local[segment[order][sel]]
        shape = (segs.numel(), int(counts[segs].max()), c)
        padded = x.new_zeros(shape).index_put((rows, rank[sel]),
                                              x[order[sel]])
        other = padded if y is None else y.new_zeros(shape).index_put(
            (rows, rank[sel]), y[order[sel]])
        out = out.index_put((segs,), padded.mT @ other)
    return out


def region_gaussians(feats: torch.Tensor, ids: torch.Tensor,
                     min_pixels: int = 10, unbiased: bool = True,
                     eps: float = 0.0, diagonal: bool = False,
                     dtype: Optional[torch.dtype] = torch.float64
                     ) -> Tuple[Gaussians, torch.Tensor, torch.Tensor]:
    """Eq. (2): mean and covariance of every region of every image at once.

    Args:
        feats: N x C x H x W features.
        ids: N x H x W (or N x 1 x H x W) region ids, 0 = no region.
        min_pixels: regions with fewer pixels are left out (the release
            skips those under 10).
        unbiased: divide by ``n - 1`` (the release) instead of ``n``.
        eps: added to the diagonal of every covariance.
        diagonal: keep the variances only.
        dtype: of the sums (float64 by default: a covariance of float32
            features summed in float32 can come out slightly indefinite).

    Returns ``(gaussians, image, region)``: G Gaussians ordered by
    (image, region id), and the image index and region id of each.
    Segment reductions (``index_add``, :func:`segment_gram`): no Python
    loop over regions.
    """
    if ids.dim() == 4:
        ids = ids[:, 0]
    c = feats.shape[1]
    if tuple(ids.shape) != (feats.shape[0],) + tuple(feats.shape[-2:]):
        raise ValueError(f'region_gaussians: ids {tuple(ids.shape)} do not '
                         f'match features {tuple(feats.shape)}')
    dtype = dtype or feats.dtype
    pixels, inv, n, image, region = region_segments(ids, min_pixels)
    x = feats.permute(0, 2, 3, 1)[pixels].to(dtype)
    g = n.numel()
    mean = x.new_zeros(g, c).index_add(0, inv, x) / n[:, None].to(dtype)
    xc = x - mean[inv]
    denom = ((n - 1).clamp_min(1) if unbiased else n).to(dtype)
    if diagonal:
        cov = x.new_zeros(g, c).index_add(0, inv, xc * xc) / denom[:, None]
        cov = cov + eps
    else:
        cov = segment_gram(xc, inv, n) / denom[:, None, None]
        if eps:
            cov = cov + eps * torch.eye(c, dtype=dtype, device=cov.device)
    return Gaussians(mean, cov, n), image, region


def cov_factor(cov: torch.Tensor) -> torch.Tensor:
    """Lower Cholesky factors of G x C x C covariances (positive definite)."""
    factor, info = torch.linalg.cholesky_ex(cov)
    if bool((info > 0).any()):
        raise ValueError('full-covariance W2 / KL need positive definite '
                         'covariances: set eps > 0 (e.g. 1e-6, the '
                         'release\'s) so rank-deficient regions (fewer '
                         'pixels than channels) are regularised')
    return factor


def _pairs(a: Gaussians, b: Gaussians, ia: Optional[torch.Tensor],
           ib: Optional[torch.Tensor]):
    """Index pairs: the given ones, or all of a x b (row-major)."""
    if ia is None:
        ia = torch.arange(len(a), device=a.mean.device).repeat_interleave(
            len(b))
        ib = torch.arange(len(b), device=b.mean.device).repeat(len(a))
        return ia, ib, (len(a), len(b))
    if ia.shape != ib.shape:
        raise ValueError(f'pair indices differ in shape: {tuple(ia.shape)} '
                         f'vs {tuple(ib.shape)}')
    return ia, ib, tuple(ia.shape)


def w2_squared(a: Gaussians, b: Gaussians, ia: Optional[torch.Tensor] = None,
               ib: Optional[torch.Tensor] = None,
               pair_dtype: Optional[torch.dtype] = None,
               factors: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
               ) -> torch.Tensor:
    """Eq. (5): ``|mu1 - mu2|^2 + Tr S1 + Tr S2 - 2 Tr((S1 S2)^1/2)``.

    Between ``a[ia]`` and ``b[ib]`` (any equal shapes), or between all of
    ``a`` x ``b`` (a ``len(a) x len(b)`` matrix) without indices. Diagonal
    Gaussians use the closed form ``|mu1 - mu2|^2 + |sqrt v1 - sqrt v2|^2``.
    ``pair_dtype`` is the dtype of the per-pair products and SVDs (default:
    that of the covariances); ``factors`` are precomputed Cholesky factors.
    Clamped at 0 (it is a squared distance; rounding can make it -1e-7).
    """
    if a.diagonal != b.diagonal:
        raise ValueError('w2_squared: one set is diagonal, the other full')
    ia, ib, shape = _pairs(a, b, ia, ib)
    ia, ib = ia.reshape(-1), ib.reshape(-1)
    dtype = pair_dtype or a.cov.dtype
    mean_a, mean_b = a.mean.to(dtype), b.mean.to(dtype)
    out = ((mean_a[ia] - mean_b[ib]) ** 2).sum(-1)
    if a.diagonal:
        root_a = a.cov.clamp_min(0).sqrt().to(dtype)
        root_b = b.cov.clamp_min(0).sqrt().to(dtype)
        out = out + ((root_a[ia] - root_b[ib]) ** 2).sum(-1)
        return out.clamp_min(0).reshape(shape)
    fa, fb = factors if factors is not None else (cov_factor(a.cov),
                                                  cov_factor(b.cov))
    fa, fb = fa.to(dtype), fb.to(dtype)
    tr_a = torch.diagonal(a.cov, dim1=-2, dim2=-1).sum(-1).to(dtype)
    tr_b = torch.diagonal(b.cov, dim1=-2, dim2=-1).sum(-1).to(dtype)
    cross = []
    for start in range(0, ia.numel(), PAIR_CHUNK):
        ja, jb = ia[start:start + PAIR_CHUNK], ib[start:start + PAIR_CHUNK]
        cross.append(torch.linalg.svdvals(fa[ja].mT @ fb[jb]).sum(-1))
    cross = torch.cat(cross) if cross else out.new_zeros(0)
    out = out + tr_a[ia] + tr_b[ib] - 2 * cross
    return out.clamp_min(0).reshape(shape)


def kl_divergence(a: Gaussians, b: Gaussians,
                  ia: Optional[torch.Tensor] = None,
                  ib: Optional[torch.Tensor] = None,
                  pair_dtype: Optional[torch.dtype] = None,
                  factors: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
                  ) -> torch.Tensor:
    """``KL(a[ia] || b[ib])`` of Gaussians (Table 5's alternative)::

        0.5 (Tr(Sb^-1 Sa) + (mb - ma)^T Sb^-1 (mb - ma) - C
             + log det Sb - log det Sa)

    by triangular solves with the Cholesky factors; pairs as
    :func:`w2_squared`. Not symmetric.
    """
    if a.diagonal != b.diagonal:
        raise ValueError('kl_divergence: one set is diagonal, the other full')
    ia, ib, shape = _pairs(a, b, ia, ib)
    ia, ib = ia.reshape(-1), ib.reshape(-1)
    dtype = pair_dtype or a.cov.dtype
    c = a.mean.shape[-1]
    diff = b.mean.to(dtype)[ib] - a.mean.to(dtype)[ia]
    if a.diagonal:
        va, vb = a.cov.to(dtype)[ia], b.cov.to(dtype)[ib]
        out = 0.5 * (va / vb + diff ** 2 / vb - 1 + vb.log() - va.log()
                     ).sum(-1)
        return out.reshape(shape)
    fa, fb = factors if factors is not None else (cov_factor(a.cov),
                                                  cov_factor(b.cov))
    fa, fb = fa.to(dtype), fb.to(dtype)
    logdet_a = 2 * torch.diagonal(fa, dim1=-2, dim2=-1).log().sum(-1)
    logdet_b = 2 * torch.diagonal(fb, dim1=-2, dim2=-1).log().sum(-1)
    parts = []
    for start in range(0, ia.numel(), PAIR_CHUNK):
        ja, jb = ia[start:start + PAIR_CHUNK], ib[start:start + PAIR_CHUNK]
        lb = fb[jb]
        rhs = torch.cat([fa[ja], diff[start:start + PAIR_CHUNK, :, None]],
                        dim=-1)
        sol = torch.linalg.solve_triangular(lb, rhs, upper=False)
        parts.append((sol[..., :c] ** 2).sum((-2, -1)) +
                     (sol[..., c] ** 2).sum(-1))
    quad = torch.cat(parts) if parts else diff.new_zeros(0)
    out = 0.5 * (quad - c + logdet_b[ib] - logdet_a[ia])
    return out.reshape(shape)
