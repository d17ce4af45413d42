"""Region Gaussians and the distances between them (Eqs. (2), (5) of the
region contrast paper; KL of Table 5): closed forms, loops, gradients."""
import numpy as np
import pytest
import scipy.linalg
import torch

import torch.nn.functional as F

from mtpsl.models.methods import upsampled_regions
from mtpsl.models.methods.gaussian_regions import (Gaussians, cov_factor,
                                                   kl_divergence,
                                                   region_gaussians,
                                                   w2_squared)
from mtpsl.models.methods.upsampled_regions import (UpsampledRegions,
                                                    bilinear_taps)
from mtpsl.models.methods.toolkit import pool_by_region, region_segments

D64 = torch.float64


def _spd(n, c, gen, floor=0.1):
    a = torch.randn(n, c, c, generator=gen, dtype=D64)
    return a @ a.mT / c + floor * torch.eye(c, dtype=D64)


def _set(mean, cov):
    return Gaussians(mean, cov, torch.ones(mean.shape[0], dtype=torch.long))


# ------------------------------------------------------------- statistics
def test_region_gaussians_equal_a_loop_and_skip_small_regions():
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(2, 3, 5, 6, generator=gen, dtype=D64)
    ids = torch.randint(0, 4, (2, 5, 6), generator=gen)
    ids[1, 0, 0] = 9                                # a 1-pixel region
    for unbiased in (True, False):
        g, image, region = region_gaussians(feats, ids, min_pixels=2,
                                            unbiased=unbiased, eps=0.5)
        expected = []
        for n in range(2):
            for r in range(1, 10):
                x = feats[n].permute(1, 2, 0)[ids[n] == r]
                if len(x) >= 2:
                    expected.append((n, r, x))
        assert [(n, r) for n, r, _ in expected] == list(
            zip(image.tolist(), region.tolist()))
        assert 9 not in region.tolist()
        for k, (_, _, x) in enumerate(expected):
            cov = torch.cov(x.T, correction=1 if unbiased else 0)
            assert torch.allclose(g.mean[k], x.mean(0))
            assert torch.allclose(g.cov[k], cov + 0.5 * torch.eye(3,
                                                                  dtype=D64))
            assert g.count[k] == len(x)
    diag, _, _ = region_gaussians(feats, ids, min_pixels=2, diagonal=True)
    full, _, _ = region_gaussians(feats, ids, min_pixels=2)
    assert torch.allclose(diag.cov, torch.diagonal(full.cov, dim1=-2,
                                                   dim2=-1))


def test_region_gaussians_no_region_and_shape_error():
    feats = torch.randn(1, 2, 3, 3)
    g, image, _ = region_gaussians(feats, torch.zeros(1, 3, 3,
                                                      dtype=torch.long))
    assert len(g) == 0 and image.numel() == 0
    with pytest.raises(ValueError, match='do not match'):
        region_gaussians(feats, torch.zeros(1, 4, 3, dtype=torch.long))


@pytest.mark.parametrize('n_in,n_out', [(3, 24), (5, 13), (4, 4), (7, 3),
                                         (1, 5), (6, 11)])
def test_bilinear_taps_are_those_of_f_interpolate(n_in, n_out):
    # the weights F.interpolate applies: interpolate the identity
    eye = torch.eye(n_in, dtype=D64).reshape(1, n_in, n_in, 1)
    matrix = F.interpolate(eye, size=(n_out, 1), mode='bilinear',
                           align_corners=False)[0, :, :, 0].T
    index, weight = bilinear_taps(n_in, n_out)
    ours = torch.zeros(n_out, n_in, dtype=D64)
    ours.index_put_((torch.arange(n_out)[:, None].expand(-1, 2), index),
                    weight, accumulate=True)
    assert torch.allclose(ours, matrix, atol=1e-15)


@pytest.mark.parametrize('low_size,size', [((3, 4), (24, 32)),
                                           ((5, 7), (13, 9)),
                                           ((4, 4), (4, 4)),
                                           ((6, 5), (3, 11))])
@pytest.mark.parametrize('dense', [True, False])
def test_upsampled_regions_equal_region_gaussians_of_the_upsampled_map(
        low_size, size, dense, monkeypatch):
    if not dense:   # the sparse (sorted) gathering of the moment weights
        monkeypatch.setattr(upsampled_regions, 'DENSE_MOMENT_LIMIT', 0)
    gen = torch.Generator().manual_seed(sum(size))
    low = torch.randn(2, 3, *low_size, generator=gen, dtype=D64)
    ids = torch.randint(0, 5, (2,) + size, generator=gen)
    up = F.interpolate(low, size=size, mode='bilinear', align_corners=False)
    layout = UpsampledRegions(ids, low_size, min_pixels=2)
    for unbiased, diagonal in [(True, False), (False, False), (True, True)]:
        ref, image, region = region_gaussians(up, ids, 2, unbiased, 1e-6,
                                              diagonal)
        ours = layout.gaussians(low, unbiased, 1e-6, diagonal)
        assert len(ours) == len(ref) > 0
        assert torch.equal(layout.image, image)
        assert torch.equal(layout.region, region)
        assert torch.equal(ours.count, ref.count)
        assert torch.allclose(ours.mean, ref.mean, atol=1e-13)
        assert torch.allclose(ours.cov, ref.cov, atol=1e-13)


def test_upsampled_regions_gradcheck_and_shape_error():
    gen = torch.Generator().manual_seed(1)
    low = torch.randn(1, 2, 3, 3, generator=gen, dtype=D64,
                      requires_grad=True)
    ids = torch.randint(1, 3, (1, 7, 8), generator=gen)
    layout = UpsampledRegions(ids, (3, 3), min_pixels=2)

    def stats(x):
        g = layout.gaussians(x, eps=1e-6)
        return g.mean, g.cov
    assert torch.autograd.gradcheck(stats, (low,))
    with pytest.raises(ValueError, match=r'\(1, 2, 4, 3\)'):
        layout.gaussians(torch.zeros(1, 2, 4, 3))
    empty = UpsampledRegions(torch.zeros(1, 7, 8, dtype=torch.long), (3, 3))
    g = empty.gaussians(low)
    assert len(g) == 0 and g.cov.shape == (0, 2, 2)


def test_pool_by_region_means_and_segments():
    feats = torch.arange(8.).reshape(1, 2, 2, 2)    # channel 0: 0..3
    ids = torch.tensor([[[2, 2], [5, 0]]])
    means, counts, image, region = pool_by_region(feats, ids)
    assert region.tolist() == [2, 5] and counts.tolist() == [2, 1]
    assert means.tolist() == [[0.5, 4.5], [2.0, 6.0]]
    pixels, segment, *_ = region_segments(ids, min_pixels=2)
    assert pixels.tolist() == [[[True, True], [False, False]]]
    assert segment.tolist() == [0, 0]


# -------------------------------------------------------------- W2 golden
def test_w2_equal_covariances_is_the_mean_distance():
    gen = torch.Generator().manual_seed(1)
    cov = _spd(1, 4, gen).expand(2, 4, 4)
    mean = torch.tensor([[0., 1., 2., 3.], [1., 1., 0., 3.]], dtype=D64)
    w = w2_squared(_set(mean[:1], cov[:1]), _set(mean[1:], cov[1:]))
    assert w.item() == pytest.approx(1 + 4, abs=1e-9)


def test_w2_commuting_covariances_sum_of_root_differences():
    gen = torch.Generator().manual_seed(2)
    q, _ = torch.linalg.qr(torch.randn(5, 5, generator=gen, dtype=D64))
    a = torch.tensor([1.0, 4.0, 9.0, 0.25, 2.0], dtype=D64)
    b = torch.tensor([4.0, 1.0, 9.0, 1.0, 0.5], dtype=D64)
    s1, s2 = q @ torch.diag(a) @ q.T, q @ torch.diag(b) @ q.T
    mean = torch.zeros(1, 5, dtype=D64)
    w = w2_squared(_set(mean, s1[None]), _set(mean + 1, s2[None]))
    expected = 5 + ((a.sqrt() - b.sqrt()) ** 2).sum()
    assert w.item() == pytest.approx(expected.item(), abs=1e-9)
    # the diagonal closed form gives the same on diagonal covariances
    wd = w2_squared(_set(mean, a[None]), _set(mean + 1, b[None]))
    assert wd.item() == pytest.approx(expected.item(), abs=1e-12)


def test_w2_matches_scipy_sqrtm_symmetric_and_zero_on_itself():
    gen = torch.Generator().manual_seed(3)
    g = _set(torch.randn(5, 6, generator=gen, dtype=D64), _spd(5, 6, gen))
    w = w2_squared(g, g)
    for i in range(5):
        for j in range(5):
            s1, s2 = g.cov[i].numpy(), g.cov[j].numpy()
            r1 = scipy.linalg.sqrtm(s1)
            cross = np.trace(scipy.linalg.sqrtm(r1 @ s2 @ r1)).real
            ref = float(((g.mean[i] - g.mean[j]) ** 2).sum()) + np.trace(
                s1) + np.trace(s2) - 2 * cross
            assert w[i, j].item() == pytest.approx(ref, abs=1e-8)
    assert torch.allclose(w, w.T, atol=1e-10)
    assert torch.diagonal(w).abs().max() < 1e-9
    # indexed pairs equal the matrix entries
    ia, ib = torch.tensor([0, 3, 4]), torch.tensor([2, 3, 1])
    assert torch.allclose(w2_squared(g, g, ia, ib), w[ia, ib])


def _rank_deficient(n_pix, c, gen, dtype=torch.float32, eps=1e-6):
    """Gaussians of regions of ``n_pix`` pixels (< c: rank-deficient)."""
    feats = torch.randn(1, c, 1, 4 * n_pix, generator=gen, dtype=dtype)
    ids = torch.arange(4).repeat_interleave(n_pix)[None, None] + 1
    return feats.requires_grad_(), ids


def test_w2_rank_deficient_float32_finite_and_close_to_float64():
    gen = torch.Generator().manual_seed(4)
    feats, ids = _rank_deficient(5, 32, gen)
    g64, _, _ = region_gaussians(feats, ids, min_pixels=2, eps=1e-6)
    w32 = w2_squared(g64, g64, pair_dtype=torch.float32)
    w64 = w2_squared(g64, g64)
    assert torch.isfinite(w32).all()
    assert (w32.double() - w64).abs().max() < 1e-4 * w64.abs().max()
    w32.sum().backward()
    assert torch.isfinite(feats.grad).all() and feats.grad.abs().sum() > 0


def test_w2_gradients_finite_on_repeated_eigenvalues():
    eye = torch.eye(8, dtype=D64)
    cov = torch.stack([eye, 2 * eye, eye.clone()]).requires_grad_()
    mean = torch.zeros(3, 8, dtype=D64, requires_grad=True)
    w = w2_squared(_set(mean, cov), _set(mean, cov))
    # W2(I, 2I) = 8 (1 - sqrt 2)^2
    assert w[0, 1].item() == pytest.approx(8 * (1 - 2 ** 0.5) ** 2)
    w.sum().backward()
    assert torch.isfinite(cov.grad).all() and torch.isfinite(mean.grad).all()


def test_w2_gradcheck_batched_float64():
    gen = torch.Generator().manual_seed(5)
    feats = torch.randn(1, 3, 4, 6, generator=gen, dtype=D64,
                        requires_grad=True)
    ids = torch.tensor([1] * 8 + [2] * 8 + [3] * 8).reshape(1, 4, 6)

    def fn(x):
        g, _, _ = region_gaussians(x, ids, min_pixels=2, eps=1e-3)
        return w2_squared(g, g, torch.tensor([0, 1, 0]),
                          torch.tensor([1, 2, 2]))
    assert torch.autograd.gradcheck(fn, (feats,), eps=1e-6, atol=1e-5)


def test_full_w2_needs_eps_on_rank_deficient():
    gen = torch.Generator().manual_seed(6)
    feats, ids = _rank_deficient(3, 8, gen, dtype=D64)
    g, _, _ = region_gaussians(feats.detach(), ids, min_pixels=2, eps=0.0)
    with pytest.raises(ValueError, match='eps > 0'):
        cov_factor(g.cov)


# ---------------------------------------------------------------------- KL
def test_kl_matches_the_closed_form_of_torch_distributions():
    from torch.distributions import MultivariateNormal, kl_divergence as kd
    gen = torch.Generator().manual_seed(7)
    g = _set(torch.randn(4, 3, generator=gen, dtype=D64), _spd(4, 3, gen))
    kl = kl_divergence(g, g)
    for i in range(4):
        for j in range(4):
            ref = kd(MultivariateNormal(g.mean[i], g.cov[i]),
                     MultivariateNormal(g.mean[j], g.cov[j]))
            assert kl[i, j].item() == pytest.approx(ref.item(), abs=1e-10)
    assert torch.diagonal(kl).abs().max() < 1e-10
    # diagonal form = full form on diagonal covariances
    var = torch.diagonal(g.cov, dim1=-2, dim2=-1)
    kd_diag = kl_divergence(_set(g.mean, var), _set(g.mean, var))
    kd_full = kl_divergence(_set(g.mean, torch.diag_embed(var)),
                            _set(g.mean, torch.diag_embed(var)))
    assert torch.allclose(kd_diag, kd_full)
    # 1-D golden: KL(N(0,1) || N(1,4)) = 0.5 (1/4 + 1/4 - 1 + ln 4)
    one = kl_divergence(_set(torch.zeros(1, 1, dtype=D64),
                             torch.ones(1, 1, dtype=D64)),
                        _set(torch.ones(1, 1, dtype=D64),
                             4 * torch.ones(1, 1, dtype=D64)))
    assert one.item() == pytest.approx(0.5 * (0.5 - 1 + np.log(4)))


def test_mixed_diagonal_and_full_is_an_error():
    m = torch.zeros(1, 2, dtype=D64)
    with pytest.raises(ValueError, match='diagonal'):
        w2_squared(_set(m, torch.ones(1, 2, dtype=D64)),
                   _set(m, torch.eye(2, dtype=D64)[None]))
