"""RegionContrast (Li et al., ECCV 2024): InfoNCE golden values with a bank,
negative budgets, every ablation option, gradients, inference, errors."""
import math

import pytest
import torch
import torch.nn.functional as F

import mtpsl  # noqa: F401
from mtpsl.models.methods import MethodBundle, ViewBundle
from mtpsl.models.methods.gaussian_regions import Gaussians, region_gaussians
from mtpsl.models.methods.region_contrast import RegionContrast
from mtpsl.models.methods.region_terms import pixel_contrast
from mtpsl.registry import MODELS

TASKS = ('sem_seg', 'depth', 'normal')
TINY = dict(widths=(2, 2, 2, 2), convs_per_stage=1)
D64 = torch.float64


def _rc(**kw):
    kw.setdefault('mapper', TINY)
    kw.setdefault('pair_dtype', 'float64')
    return RegionContrast(TASKS, dict(sem_seg=4), **kw)


def _diag(means, variances):
    m = torch.tensor(means, dtype=D64)
    return Gaussians(m, torch.tensor(variances, dtype=D64),
                     torch.ones(len(means), dtype=torch.long))


# Three regions of one image (2-D, diagonal), a bank of one entry.
S = _diag([[0, 0], [1, 0], [0, 2]], [[1, 1], [1, 1], [1, 1]])
T = _diag([[0, 1], [1, 0], [3, 2]], [[1, 1], [4, 1], [1, 1]])
BANK = _diag([[0, 0]], [[1, 1]])
# W2 by hand, |dm|^2 + |sqrt(v) - sqrt(w)|^2; per anchor: (positive,
# other regions of the other map..., bank)
W_S = {0: (1, [2, 13], 0), 1: (1, [2, 8], 1), 2: (9, [1, 6], 4)}
W_T = {0: (1, [2, 1], 1), 1: (1, [2, 6], 2), 2: (9, [13, 8], 13)}


def _nce(pos, negs, tau=1.0):
    den = math.exp(-pos / tau) + sum(math.exp(-n / tau) for n in negs)
    return -math.log(math.exp(-pos / tau) / den)


def test_info_nce_golden_three_regions_with_bank():
    rc = _rc(covariance='diag', negatives=None, tau=1.0, bank_size=4)
    rc.bank.push(BANK)
    losses, unit = rc.contrast_terms(S, T, torch.zeros(3, dtype=torch.long))
    expected = [_nce(p, o + [b]) for p, o, b in W_S.values()] + \
               [_nce(p, o + [b]) for p, o, b in W_T.values()]
    assert losses.tolist() == pytest.approx(expected, rel=1e-12)
    assert unit.tolist() == [0] * 6
    # without the bank, the positive still in the denominator
    rc2 = _rc(covariance='diag', negatives=None, tau=2.0, bank_size=0)
    losses, _ = rc2.contrast_terms(S, T, torch.zeros(3, dtype=torch.long))
    assert losses[:3].tolist() == pytest.approx(
        [_nce(p, o, 2.0) for p, o, _ in W_S.values()], rel=1e-12)


def test_hardest_negative_budget_and_target_anchors():
    rc = _rc(covariance='diag', negatives=1, tau=1.0, bank_size=4,
             anchors='target', rest='drop')
    rc.bank.push(BANK)
    losses, _ = rc.contrast_terms(S, T, torch.zeros(3, dtype=torch.long))
    # anchors of the prediction map only, each with its single hardest
    # negative (the lower bound used to rank is exact for diagonals)
    expected = [_nce(p, [min(o + [b])]) for p, o, b in W_T.values()]
    assert losses.tolist() == pytest.approx(expected, rel=1e-12)


def test_rest_by_bound_is_exact_for_diagonals_and_bounds_full_ones():
    rc = _rc(covariance='diag', negatives=1, tau=1.0, bank_size=4)
    rc.bank.push(BANK)
    unit = torch.zeros(3, dtype=torch.long)
    losses, _ = rc.contrast_terms(S, T, unit)
    # for diagonal Gaussians the marginal bound IS W2: the loss is exact
    expected = [_nce(p, o + [b]) for p, o, b in W_S.values()] + \
               [_nce(p, o + [b]) for p, o, b in W_T.values()]
    assert losses.tolist() == pytest.approx(expected, rel=1e-12)
    # full covariances: an upper bound of the exact loss, equal with K=all
    gen = torch.Generator().manual_seed(3)
    ids = torch.arange(1, 7).repeat_interleave(12).reshape(1, 8, 9)
    g_s, unit, _ = region_gaussians(torch.randn(1, 2, 8, 9, generator=gen,
                                                dtype=D64), ids, eps=1e-3)
    g_t, _, _ = region_gaussians(torch.randn(1, 2, 8, 9, generator=gen,
                                             dtype=D64), ids, eps=1e-3)
    exact = _rc(negatives=None, bank_size=0)
    bounded = _rc(negatives=2, bank_size=0)
    everything = _rc(negatives=5, bank_size=0)
    e = exact.contrast_terms(g_s, g_t, unit)[0]
    b = bounded.contrast_terms(g_s, g_t, unit)[0]
    assert (b >= e - 1e-12).all() and (b > e + 1e-9).any()
    assert torch.allclose(everything.contrast_terms(g_s, g_t, unit)[0], e)


def test_random_negatives_come_from_the_generator():
    rc = _rc(covariance='diag', negatives=2, negative_select='random',
             tau=1.0, bank_size=4, rest='drop')
    rc.bank.push(BANK)
    unit = torch.zeros(3, dtype=torch.long)
    runs = [rc.contrast_terms(S, T, unit, torch.Generator().manual_seed(s)
                              )[0] for s in (0, 0, 1)]
    assert torch.equal(runs[0], runs[1])
    for k, (p, o, b) in W_S.items():   # some 2 of the 3 negatives
        cands = [_nce(p, [x, y]) for x, y in
                 ((o[0], o[1]), (o[0], b), (o[1], b))]
        assert min(abs(runs[0][k].item() - c) for c in cands) < 1e-12


def test_regions_of_other_images_are_not_negatives():
    rc = _rc(covariance='diag', negatives=None, tau=1.0, bank_size=0)
    both = Gaussians.cat([S, S])
    other = Gaussians.cat([T, T])
    unit = torch.tensor([0, 0, 0, 1, 1, 1])
    losses, _ = rc.contrast_terms(both, other, unit)
    single, _ = rc.contrast_terms(S, T, torch.zeros(3, dtype=torch.long))
    # (direction, unit, region): both units equal the single image
    for u in range(2):
        assert torch.allclose(losses.reshape(2, 2, 3)[:, u],
                              single.reshape(2, 3))


def test_full_covariance_loss_gradcheck_float64():
    gen = torch.Generator().manual_seed(0)
    rc = _rc(negatives=None, pair_dtype='float64', eps=1e-3, bank_size=8,
             tau=1.0)
    ids = torch.tensor([1] * 8 + [2] * 8 + [3] * 8).reshape(1, 4, 6)
    bank, _, _ = region_gaussians(torch.randn(1, 2, 4, 6, generator=gen,
                                              dtype=D64), ids, eps=1e-3)
    rc.bank.push(bank)
    fs = torch.randn(1, 2, 4, 6, generator=gen, dtype=D64, requires_grad=True)
    ft = torch.randn(1, 2, 4, 6, generator=gen, dtype=D64, requires_grad=True)

    def fn(a, b):
        g_s, unit, _ = region_gaussians(a, ids, min_pixels=2, eps=1e-3)
        g_t, _, _ = region_gaussians(b, ids, min_pixels=2, eps=1e-3)
        return rc.contrast_terms(g_s, g_t, unit)[0].mean()
    assert torch.autograd.gradcheck(fn, (fs, ft), eps=1e-6, atol=1e-5)


def test_pixel_contrast_equals_a_loop():
    gen = torch.Generator().manual_seed(1)
    ms = torch.randn(1, 3, 2, 3, generator=gen, dtype=D64)
    mt = torch.randn(1, 3, 2, 3, generator=gen, dtype=D64)
    ids = torch.tensor([[[1, 1, 2], [2, 3, 3]]])
    # 2 pixels per region = every pixel: anchors in raster order per region
    losses, unit = pixel_contrast(ms, mt, ids, 1, 2, 1.5, 'l2', 'target')
    xs, xt = ms[0].reshape(3, -1).T, mt[0].reshape(3, -1).T
    reg = ids.flatten()
    order = sorted(range(6), key=lambda p: reg[p].item())
    got = sorted(losses.tolist())
    expected = []
    for p in order:
        cands = [q for q in order if q == p or reg[q] != reg[p]]
        logits = torch.stack([-((xt[p] - xs[q]) ** 2).sum() / 1.5
                              for q in cands])
        expected.append((torch.logsumexp(logits, 0) + (
            (xt[p] - xs[p]) ** 2).sum() / 1.5).item())
    assert got == pytest.approx(sorted(expected), rel=1e-10)
    assert unit.tolist() == [0] * 6


# ------------------------------------------------------------- the bundle
def _bundle(flags, h=32, w=48, regions=True, seed=0, grad_gt=False):
    g = torch.Generator().manual_seed(seed)
    b = flags.shape[0]
    preds = dict(
        sem_seg=torch.randn(b, 4, h, w, generator=g).requires_grad_(),
        depth=(torch.rand(b, 1, h, w, generator=g) + .5).requires_grad_(),
        normal=F.normalize(torch.randn(b, 3, h, w, generator=g),
                           dim=1).requires_grad_())
    targets = dict(
        sem_seg=torch.randint(-1, 4, (b, 1, h, w), generator=g),
        depth=(torch.rand(b, 1, h, w, generator=g) + .5).requires_grad_(
            grad_gt),
        normal=F.normalize(torch.randn(b, 3, h, w, generator=g), dim=1))
    ids = (torch.arange(h)[:, None] // 8 * 6 + torch.arange(w)[None] // 8
           + 1).expand(b, 1, h, w) if regions else None
    view = ViewBundle(inputs=torch.zeros(b, 3, h, w), shared_feats=(),
                      task_feats={}, preds=preds, targets=targets,
                      label_flags=flags, region_ids=ids)
    return MethodBundle(tasks=TASKS, view1=view), preds, targets


ONE = torch.tensor([[True, False, False], [False, True, False]])


def test_gradient_reaches_mapper_and_unlabelled_heads_not_gt():
    torch.manual_seed(0)
    rc = MODELS.build(dict(type='RegionContrast', num_classes=dict(sem_seg=4),
                           bank_size=16), default_args=dict(tasks=TASKS))
    bundle, preds, targets = _bundle(ONE, grad_gt=True)
    loss = rc(bundle)['rc.loss_rc']
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    # image 0 labels sem_seg (depth, normal unlabelled), image 1 depth
    assert preds['depth'].grad[0].abs().sum() > 0
    assert preds['normal'].grad.abs().sum() > 0
    assert preds['sem_seg'].grad[1].abs().sum() > 0
    assert preds['sem_seg'].grad[0].abs().sum() == 0   # labelled there
    assert targets['depth'].grad is None
    grads = [p.grad for p in rc.mapper.parameters()]
    assert all(g is not None for g in grads)
    assert sum(g.abs().sum() for g in grads) > 0
    # the step's Gaussians joined the bank after the loss
    assert len(rc.bank) == 16


def test_release_mapper_size_and_resolution():
    rc = RegionContrast(TASKS, dict(sem_seg=13))
    assert sum(p.numel() for p in rc.mapper.parameters()) == 72912
    rc = RegionContrast(TASKS, dict(sem_seg=4))
    bundle, _, _ = _bundle(ONE)
    maps_s, maps_t, ids, units = rc.mapped(bundle.view1)
    assert maps_s.shape == (4, 32, 16, 24) == maps_t.shape   # 1/2 of 32x48
    assert ids.shape == (4, 16, 24) and units.tolist() == [0, 0, 1, 1]


@pytest.mark.parametrize('options', [
    dict(), dict(covariance='diag'),
    dict(distance='kl', eps=1e-2, rest='drop'),
    dict(contrast='vector'), dict(contrast='vector', vector_metric='cosine'),
    dict(contrast='pixel'), dict(extraction='patch'),
    dict(regions='semantic_gt'), dict(aggregation='release'),
    dict(negatives=None), dict(negative_select='random'),
    dict(anchors='target')])
def test_every_option_gives_a_finite_trainable_loss(options):
    torch.manual_seed(0)
    rc = _rc(bank_size=32, **options)
    for step in range(2):     # the second step also meets a filled bank
        bundle, preds, _ = _bundle(ONE, seed=step)
        loss = rc(bundle)['rc.loss_rc']
        assert torch.isfinite(loss)
        loss.backward()
        assert preds['normal'].grad.abs().sum() > 0


def test_release_aggregation_sums_pairs_times_two_over_batch():
    torch.manual_seed(0)
    mean = _rc(bank_size=0)
    torch.manual_seed(0)
    release = _rc(bank_size=0, aggregation='release')
    bundle, _, _ = _bundle(ONE)
    a = mean(bundle)['rc.loss_rc']
    b = release(bundle)['rc.loss_rc']
    # 4 (image, pair) units, batch 2: sum * 2 / 2 = 4 x the mean
    assert b.item() == pytest.approx(4 * a.item(), rel=1e-5)


@pytest.mark.parametrize('options', [dict(), dict(covariance='diag'),
                                     dict(contrast='vector')])
def test_loss_equals_region_gaussians_of_the_upsampled_maps(options):
    # The loss takes Eq. (2) at a_theta's resolution (UpsampledRegions);
    # computed here on the upsampled maps instead, it is the same.
    torch.manual_seed(0)
    rc = _rc(bank_size=0, **options)
    bundle, _, _ = _bundle(ONE)
    loss = rc(bundle)['rc.loss_rc']
    maps_s, maps_t, ids, _ = rc.mapped(bundle.view1,
                                       bundle.generator('rc.gumbel'))
    diag = options != {}
    g_s, unit, _ = region_gaussians(maps_s, ids, rc.min_pixels, True,
                                    rc.eps, diag)
    g_t, _, _ = region_gaussians(maps_t, ids, rc.min_pixels, True,
                                 rc.eps, diag)
    per_anchor, unit = rc.contrast_terms(g_s, g_t, unit,
                                         bundle.generator('rc.sample'))
    means = [per_anchor[unit == u].mean() for u in unit.unique()]
    expected = rc.loss_weight * torch.stack(means).mean()
    assert maps_s.shape[-2:] == ids.shape[-2:] == (16, 24)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_patch_and_semantic_regions():
    rc = _rc(extraction='patch', patch_grid=(2, 3))
    bundle, _, _ = _bundle(ONE, regions=False)
    ids = rc.mapped(bundle.view1)[2]
    assert ids.shape == (4, 16, 24)
    assert ids[0, :8, :8].unique().tolist() == [1]
    assert ids[0, 8:, 16:].unique().tolist() == [6]
    sem = _rc(regions='semantic_gt')
    ids = sem.mapped(bundle.view1)[2]
    gt = bundle.view1.targets['sem_seg'][:, 0, ::2, ::2]
    assert torch.equal(ids[0], torch.where(gt[0] >= 0, gt[0] + 1, 0))


def test_full_supervision_contrasts_labelled_pairs_too():
    full = torch.ones(2, 3, dtype=torch.bool)
    rc = _rc(bank_size=0)
    bundle, _, _ = _bundle(full)
    assert rc(bundle)['rc.loss_rc'].item() == 0      # nothing unlabelled
    assert rc.mapped(bundle.view1) is None
    table6 = _rc(bank_size=0, pairs='all')
    maps = table6.mapped(bundle.view1)
    assert maps[0].shape[0] == 2 * 6                 # 2 images x 6 pairs
    assert table6(bundle)['rc.loss_rc'].item() > 0


def test_nothing_to_compare_is_an_exact_zero_touching_params():
    rc = _rc()
    bundle, _, _ = _bundle(torch.ones(2, 3, dtype=torch.bool))
    loss = rc(bundle)['rc.loss_rc']
    assert loss.item() == 0
    loss.backward()
    assert all(p.grad is not None for p in rc.parameters())


def test_bad_options_and_missing_regions_are_clear_errors():
    with pytest.raises(ValueError, match="contrast must be one of"):
        _rc(contrast='gauss')
    with pytest.raises(ValueError, match='eps must be > 0'):
        _rc(eps=0.0)
    with pytest.raises(ValueError, match='num_classes has no entry'):
        RegionContrast(TASKS, {})
    bundle, _, _ = _bundle(ONE, regions=False)
    with pytest.raises(ValueError, match='LoadRegionMap'):
        _rc()(bundle)
    with pytest.raises(ValueError, match='two-view'):
        _rc(view='view2')(bundle)


def test_view2_option_contrasts_the_second_view():
    bundle, _, _ = _bundle(ONE, seed=0)
    other, preds2, _ = _bundle(ONE, h=24, w=40, seed=1)
    bundle.view2 = other.view1
    rc = _rc(view='view2', bank_size=0)
    assert rc.needs_view2
    maps = rc.mapped(bundle.view2)
    assert maps[0].shape[-2:] == (12, 20)       # 1/2 of view 2's 24 x 40
    loss = rc(bundle)['rc.loss_rc']
    loss.backward()
    assert preds2['normal'].grad.abs().sum() > 0
