"""Fine-grained task tokens of HiTTs (Zhang et al., Sec. 3.2): orthogonal
embeddings, Eq. (3), and the token refinement of the logits, Eq. (4).

Re-implemented from the paper (no public code). Our reading of the shapes:
``phi_i`` is C_p x C_p (the MLP maps C -> C_p), so ``phi_i x G_i`` with
``G_i`` of C_p channels gives a C_p x H x W score, as Eq. (4) multiplies it
element-wise with ``G_i``.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def orthogonal_basis(n: int, kind: str = 'identity', seed: int = 0
                     ) -> torch.Tensor:
    """A fixed n x n orthogonal basis ``o`` of Eq. (3).

    ``'identity'``: the standard basis; ``'random'``: Q of the QR of a
    seeded Gaussian matrix (signs fixed so the diagonal of R is positive).
    """
    if n < 1:
        raise ValueError(f'orthogonal_basis: n must be >= 1, got {n}')
    if kind == 'identity':
        return torch.eye(n)
    if kind == 'random':
        gen = torch.Generator().manual_seed(seed)
        q, r = torch.linalg.qr(torch.randn(n, n, generator=gen,
                                           dtype=torch.float64))
        q = q * torch.sign(torch.diagonal(r))[None]
        return q.float()
    raise ValueError(f"orthogonal_basis: kind must be 'identity' or "
                     f"'random', got {kind!r}")


def refine_logits(g: torch.Tensor, phi: torch.Tensor, conv: nn.Module
                  ) -> torch.Tensor:
    """Eq. (4): ``G' = Conv3x3(G * softplus(phi x G))``.

    ``g``: B x C_p x H x W, ``phi``: B x C_p x C_p (row c scores class c);
    ``(phi x G)[c, p] = sum_k phi[c, k] G[k, p]``.
    """
    score = torch.einsum('bck,bkhw->bchw', phi, g)
    return conv(g * F.softplus(score))


class FineGrainedTokens(nn.Module):
    """Eq. (3): ``phi_i = MLP_i(W_i^o o + [theta_i'; ...; theta_i'])^T``.

    Args:
        channels: C of the global token.
        num_bins: C_p (classes of a label task, bins of a binned one).
        hidden: hidden width of the two-layer MLP (default C).
        orthogonal: add ``W_o o`` (Table 5, w/o OE: False, so every row of
            phi is the same function of theta' and the tokens degenerate).
        basis: ``'identity'`` or ``'random'`` (see :func:`orthogonal_basis`).
    """

    def __init__(self, channels: int, num_bins: int, hidden: int = 0,
                 orthogonal: bool = True, basis: str = 'identity',
                 basis_seed: int = 0) -> None:
        super().__init__()
        self.num_bins = num_bins
        self.orthogonal = orthogonal
        if orthogonal:
            # a buffer: fixed, saved with the model, never trained
            self.register_buffer('basis', orthogonal_basis(
                num_bins, basis, basis_seed), persistent=True)
            self.embed = nn.Linear(num_bins, channels, bias=False)  # W_i^o
        hidden = hidden or channels
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.GELU(),
                                 nn.Linear(hidden, num_bins))

    def forward(self, token: torch.Tensor) -> torch.Tensor:
        """``token``: B x C global token(s) -> phi of shape B x C_p x C_p."""
        rows = token[:, None, :].expand(-1, self.num_bins, -1)
        if self.orthogonal:
            # row c of (W_o o)^T is W_o applied to column c of o
            rows = rows + self.embed(self.basis.t())[None]
        return self.mlp(rows)
