"""HiTTs decoder pieces on tiny tensors: golden values by hand, or equality
with a loop computation."""
import math

import pytest
import torch
import torch.nn as nn

from mtpsl.models.hitts import (FineGrainedTokens, GlobalTokenLearning,
                                HiTTsDecoder, MultiScaleGlobalTokenLearning,
                                feature_mask, mix_tasks, orthogonal_basis,
                                refine_logits, task_affinity)

TASKS = ('sem_seg', 'depth', 'normal')


def test_affinity_rows_sum_to_one_and_golden():
    q = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    k = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    a = task_affinity(q, k)
    # Q K^T = [[1, 0], [0, 2]]: row 0 softmax(1, 0), row 1 softmax(0, 2)
    e1, e2 = math.e, math.e ** 2
    expected = torch.tensor([[e1 / (e1 + 1), 1 / (e1 + 1)],
                             [1 / (1 + e2), e2 / (1 + e2)]])
    assert torch.allclose(a, expected)
    assert torch.allclose(a.sum(dim=1), torch.ones(2))


def test_mixing_equals_a_theta_and_a_f():
    torch.manual_seed(0)
    a = torch.softmax(torch.randn(3, 3), dim=1)
    theta = torch.randn(3, 4)
    feats = torch.randn(2, 3, 5, 4)  # B x T x N x C
    mixed_t, mixed_f = mix_tasks(a, theta, feats)
    assert torch.allclose(mixed_t, a @ theta)
    for b in range(2):
        for n in range(5):
            assert torch.allclose(mixed_f[b, :, n], a @ feats[b, :, n],
                                  atol=1e-6)


@pytest.mark.parametrize('kind', ['identity', 'random'])
def test_orthogonal_basis(kind):
    o = orthogonal_basis(5, kind, seed=3)
    assert torch.allclose(o @ o.t(), torch.eye(5), atol=1e-6)
    assert torch.allclose(o.t() @ o, torch.eye(5), atol=1e-6)
    if kind == 'random':
        assert not torch.allclose(o, torch.eye(5))
        assert torch.equal(o, orthogonal_basis(5, kind, seed=3))


def test_orthogonal_basis_bad_input():
    with pytest.raises(ValueError, match='n must be'):
        orthogonal_basis(0)
    with pytest.raises(ValueError, match="'identity' or 'random'"):
        orthogonal_basis(3, 'hadamard')


def _identity_conv(n):
    conv = nn.Conv2d(n, n, 3, padding=1)
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        for c in range(n):
            conv.weight[c, c, 1, 1] = 1.0
    return conv


def test_eq4_refinement_by_hand():
    # G: 2 channels, one pixel: (1, 2); phi = [[1, 0], [1, -1]]
    g = torch.tensor([1.0, 2.0]).view(1, 2, 1, 1)
    phi = torch.tensor([[[1.0, 0.0], [1.0, -1.0]]])
    out = refine_logits(g, phi, _identity_conv(2))
    # phi x G = (1, -1); G * softplus = (1 * log(1 + e), 2 * log(1 + e^-1))
    expected = torch.tensor([math.log(1 + math.e),
                             2 * math.log(1 + math.exp(-1))])
    assert torch.allclose(out.view(2), expected, atol=1e-6)


def test_fine_grained_rows_add_the_embedded_basis():
    tok = FineGrainedTokens(channels=3, num_bins=2, hidden=4)
    with torch.no_grad():
        tok.embed.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0],
                                             [3.0, 0.0]]))
    seen = {}
    tok.mlp.register_forward_pre_hook(
        lambda m, i: seen.update(rows=i[0].clone()))
    theta = torch.tensor([[0.5, 0.5, 0.5]])
    phi = tok(theta)
    assert phi.shape == (1, 2, 2)
    # identity basis: row c = theta + column c of W_o
    expected = torch.tensor([[[1.5, 0.5, 3.5], [0.5, 2.5, 0.5]]])
    assert torch.allclose(seen['rows'], expected)


def test_without_orthogonal_embeddings_rows_are_identical():
    tok = FineGrainedTokens(channels=3, num_bins=4, orthogonal=False)
    phi = tok(torch.randn(2, 3))
    assert torch.allclose(phi[:, 0], phi[:, 3])
    assert not hasattr(tok, 'basis')


def test_feature_mask_by_hand():
    token = torch.tensor([[1.0, 0.0]])
    feat = torch.tensor([[2.0, -3.0], [5.0, 7.0]]).view(1, 2, 1, 2)
    # pixel 0: (2, 5) . (1, 0) = 2; pixel 1: (-3, 7) . (1, 0) = -3
    m = feature_mask(token, feat)
    assert torch.allclose(m.view(2), torch.sigmoid(torch.tensor([2., -3.])))


def _feats(b=2, c=8, h=8, w=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {t: torch.randn(b, c, h, w, generator=g) for t in TASKS}


def test_global_tokens_shapes_and_mask_range():
    gl = GlobalTokenLearning(TASKS, channels=8, stride=4, attn_channels=8,
                             heads=2, mlp_ratio=1.0)
    out = gl(_feats())
    for t in TASKS:
        feat, token, mask = out[t]
        assert feat.shape == (2, 8, 2, 3)
        assert token.shape == (2, 8)
        assert mask.shape == (2, 1, 2, 3)
        assert bool(((mask > 0) & (mask < 1)).all())


def test_without_inter_task_the_affinity_is_identity():
    gl = GlobalTokenLearning(TASKS, channels=8, inter=False)
    assert torch.equal(gl.inter.affinity(gl.tokens), torch.eye(3))
    assert not hasattr(gl.inter, 'q')


def test_inter_task_mixing_couples_the_tasks():
    """With inter-task learning, task 0's feature depends on task 1's input;
    without, it does not (intra-task attention stays within a task)."""
    for inter, coupled in ((True, True), (False, False)):
        torch.manual_seed(0)
        gl = GlobalTokenLearning(TASKS, channels=8, stride=2, inter=inter)
        feats = _feats(b=1, h=4, w=4)
        base = gl(feats)['sem_seg'][0]
        feats['depth'] = feats['depth'] + 1.0
        moved = gl(feats)['sem_seg'][0]
        assert (not torch.allclose(base, moved)) == coupled


def test_without_global_tokens_mask_is_one():
    gl = GlobalTokenLearning(TASKS, channels=8, use_tokens=False)
    assert not hasattr(gl, 'tokens')
    feat, token, mask = gl(_feats())['normal']
    assert torch.equal(mask, torch.ones_like(mask))
    assert torch.equal(token, torch.zeros_like(token))


@pytest.mark.parametrize('kwargs', [
    dict(), dict(orthogonal=False), dict(fine_grained=False),
    dict(global_cfg=dict(inter=False)), dict(global_cfg=dict(intra=False)),
    dict(global_cfg=dict(use_tokens=False)), dict(basis='random')])
def test_decoder_outputs_and_gradients(kwargs):
    bins = dict(sem_seg=5, depth=7, normal=6)
    global_cfg = dict(stride=4, attn_channels=8)
    global_cfg.update(kwargs.pop('global_cfg', {}))
    dec = HiTTsDecoder(TASKS, bins, channels=8, global_cfg=global_cfg,
                       **kwargs)
    feats = {t: f.requires_grad_() for t, f in _feats().items()}
    out = dec(feats)
    total = 0
    for t in TASKS:
        assert out[t]['logits'].shape == (2, bins[t], 8, 12)
        assert out[t]['feat'].shape == (2, 8, 2, 3)
        total = total + out[t]['logits'].square().mean()
    total.backward()
    for t in TASKS:
        assert feats[t].grad is not None and bool(feats[t].grad.abs().sum())


def test_decoder_missing_bins_is_a_clear_error():
    with pytest.raises(KeyError, match="normal"):
        HiTTsDecoder(TASKS, dict(sem_seg=5, depth=7), channels=8)


def test_multiscale_shapes_and_gradients():
    ms = MultiScaleGlobalTokenLearning(
        TASKS, channels=8, in_channels=(4, 6, 10), in_index=(0, 1, 2),
        stride=2, attn_channels=8)
    shared = [torch.randn(2, 4, 8, 8, requires_grad=True),
              torch.randn(2, 6, 4, 4, requires_grad=True),
              torch.randn(2, 10, 2, 2, requires_grad=True)]
    feats = _feats(h=8, w=8)
    out = ms(feats, shared)
    for t in TASKS:
        feat, token, mask = out[t]
        assert feat.shape == (2, 8, 4, 4) and token.shape == (2, 8)
        assert mask.shape == (2, 1, 4, 4)
    sum(o[0].sum() + o[1].sum() for o in out.values()).backward()
    assert all(s.grad is not None and bool(s.grad.abs().sum())
               for s in shared)


def test_multiscale_length_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match='differ in length'):
        MultiScaleGlobalTokenLearning(TASKS, 8, (4, 6), (0,))
