"""The pair-conditioned FiLM encoder: the release configurations' parameter
counts, the folded BN + FiLM against the two affines applied one after the
other, per-map vs shared BN, and bad arguments."""
import pytest
import torch
import torch.nn.functional as F

from mtpsl.models.methods.film_mapper import (OURS_BEFORE_ISSUE_11,
                                              REGION_CONTRAST_RELEASE,
                                              XTC_RELEASE, FiLMConv,
                                              PairFiLMMapper)

NYU_IN = dict(sem_seg=13, depth=1, normal=3)
NYU_TASKS = ('sem_seg', 'depth', 'normal')


def _count(module):
    return sum(p.numel() for p in module.parameters())


def test_xtc_release_mapper_has_the_release_parameter_count():
    mapper = PairFiLMMapper(NYU_IN, NYU_TASKS, **XTC_RELEASE)
    # docs/FACTS.md: 14,819,328 parameters, of which FiLM gamma/beta 50,688
    # (6 pairs x 2 x (2*64 + 2*128 + 3*256 + 3*512 + 3*512)).
    assert _count(mapper) == 14_819_328
    assert mapper.film.weight.numel() == 50_688 == 6 * 2 * 4224
    assert len(mapper.layers) == 13
    # the default configuration is the release's
    assert _count(PairFiLMMapper(NYU_IN, NYU_TASKS)) == 14_819_328


def test_region_contrast_mapper_count_and_output_shape():
    mapper = PairFiLMMapper(NYU_IN, NYU_TASKS, **REGION_CONTRAST_RELEASE)
    assert _count(mapper) == 72_912  # docs/FACTS.md, region contrast
    out = mapper(torch.rand(2, 1, 288, 384), 'depth', torch.tensor([2, 3]))
    assert out.shape == (2, 32, 18, 24)  # 32 channels at 1/16
    assert bool((out >= 0).all())  # the last pooled (ReLU) map


def test_our_earlier_variant_count_and_signed_output():
    mapper = PairFiLMMapper(NYU_IN, NYU_TASKS, **OURS_BEFORE_ISSUE_11)
    assert _count(mapper) == 9_739_392  # the figure of issue 11
    torch.manual_seed(0)
    out = mapper(torch.rand(2, 3, 64, 64), 'normal', torch.tensor([0, 5]))
    assert out.shape == (2, 512, 2, 2)
    assert bool((out < 0).any())  # a 1x1 conv: signed


def _reference_film_conv(layer, bn, x, gamma, beta):
    """conv -> nn.BatchNorm2d (its own affine) -> FiLM -> ReLU, unfused."""
    y = bn(layer.conv(x))
    return F.relu(y * gamma[:, :, None, None] + beta[:, :, None, None])


@pytest.mark.parametrize('affine', [True, False])
def test_folded_bn_film_equals_the_two_affines_in_turn(affine):
    torch.manual_seed(0)
    layer = FiLMConv(3, 4, bn_affine=affine)
    bn = torch.nn.BatchNorm2d(4, affine=affine)
    if affine:
        with torch.no_grad():
            layer.norm.weight.uniform_(0.5, 2.0)
            layer.norm.bias.uniform_(-1.0, 1.0)
        bn.load_state_dict(layer.norm.state_dict())
    x = torch.randn(2, 3, 5, 6)
    gamma = torch.rand(2, 4) + 0.5
    beta = torch.randn(2, 4)
    got = layer(x, gamma, beta)
    want = _reference_film_conv(layer, bn, x, gamma, beta)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    # running statistics updated exactly as nn.BatchNorm2d's
    torch.testing.assert_close(layer.norm.running_mean, bn.running_mean)
    torch.testing.assert_close(layer.norm.running_var, bn.running_var)
    assert int(layer.norm.num_batches_tracked) == 1
    layer.eval()
    bn.eval()
    torch.testing.assert_close(layer(x, gamma, beta),
                               _reference_film_conv(layer, bn, x, gamma, beta),
                               rtol=1e-5, atol=1e-5)


def test_gradients_reach_bn_affine_and_film_rows_of_the_pair_only():
    torch.manual_seed(0)
    mapper = PairFiLMMapper(dict(depth=1, normal=3), ('depth', 'normal'),
                            widths=(4, 4), convs_per_stage=(1, 2))
    out = mapper(torch.rand(2, 1, 8, 8), 'depth', torch.tensor([1, 1]))
    out.sum().backward()
    grad = mapper.film.weight.grad
    assert bool(grad[1].abs().sum() > 0) and bool((grad[0] == 0).all())
    assert mapper.layers[0].norm.weight.grad is not None
    assert mapper.stems['normal'][0].weight.grad is None  # not used


def test_identity_film_is_plain_conv_bn_relu():
    torch.manual_seed(0)
    mapper = PairFiLMMapper(dict(depth=1, normal=3), ('depth', 'normal'),
                            widths=(4,), convs_per_stage=1, pool=False)
    x = torch.rand(2, 1, 6, 6)
    stem = mapper.stems['depth'](x)
    layer = mapper.layers[0]
    want = F.relu(layer.norm(layer.conv(stem)))
    mapper.layers[0].norm.num_batches_tracked.zero_()
    got = mapper(x, 'depth', torch.tensor([0, 1]))
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_per_map_bn_vs_one_shared_batch():
    torch.manual_seed(0)
    # a linear stem: a conv stem's BN is per task, so per map anyway
    kw = dict(widths=(4, 8), convs_per_stage=(1, 1), stem='linear')
    sep = PairFiLMMapper(dict(depth=1, normal=3), ('depth', 'normal'), **kw)
    shared = PairFiLMMapper(dict(depth=1, normal=3), ('depth', 'normal'),
                            shared_bn=True, **kw)
    shared.load_state_dict(sep.state_dict())
    a, b = torch.rand(2, 1, 8, 8), 3 * torch.rand(2, 1, 8, 8)
    ids = torch.tensor([0, 0])
    got = sep.map_all([(a, 'depth'), (b, 'depth')], ids)
    for m, g in zip((a, b), got):  # each map on its own
        ref = PairFiLMMapper(dict(depth=1, normal=3), ('depth', 'normal'),
                             **kw)
        ref.load_state_dict(shared.state_dict())
        torch.testing.assert_close(g, ref(m, 'depth', ids))
    # shared: the two maps are one BN batch
    ref = PairFiLMMapper(dict(depth=1, normal=3), ('depth', 'normal'), **kw)
    ref.load_state_dict(shared.state_dict())
    want = ref(torch.cat([a, b]), 'depth', ids.repeat(2)).chunk(2)
    got_shared = shared.map_all([(a, 'depth'), (b, 'depth')], ids)
    for g, w in zip(got_shared, want):
        torch.testing.assert_close(g, w)
    assert not torch.allclose(got_shared[0], got[0])


@pytest.mark.parametrize('kw, match', [
    (dict(convs_per_stage=(2, 2)), 'convs_per_stage has 2 entries'),
    (dict(convs_per_stage=0), 'must be >= 1'),
    (dict(pool=(True,)), 'pool has 1 entries'),
    (dict(stem='3x3'), "stem must be 'conv' or 'linear'"),
    (dict(output='mean'), "output must be 'pooled' or 'conv'"),
    (dict(out_channels=256), "output='pooled' gives widths"),
    (dict(output='conv'), 'needs out_channels'),
])
def test_bad_arguments_name_the_key(kw, match):
    with pytest.raises(ValueError, match=match):
        PairFiLMMapper(NYU_IN, NYU_TASKS, **kw)
    with pytest.raises(KeyError, match='normal'):
        PairFiLMMapper(dict(sem_seg=13, depth=1), NYU_TASKS)


@pytest.mark.parametrize('momentum,per_pass', [(0.1, 0), (None, 0),
                                                (0.1, 1), (None, 4),
                                                (0.1, 'auto')])
def test_per_sample_pass_equals_one_sample_at_a_time(momentum, per_pass):
    """``map_per_sample`` (each sample normalised on its own; in one
    batched pass, in passes of one sample, or of 4 samples, which splits a
    map between passes) against the mapper called on one sample at a time,
    in order: the same outputs, the same gradients on every parameter and
    on the inputs, the same running statistics and counters."""
    torch.manual_seed(0)
    kw = dict(widths=(4, 6, 8), convs_per_stage=(1, 2, 1))
    batched = PairFiLMMapper(NYU_IN, NYU_TASKS, samples_per_pass=per_pass,
                             **kw).double()
    with torch.no_grad():  # a non-identity FiLM and BN affine
        batched.film.weight.normal_()
        for m in batched.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_()
                m.momentum = momentum
    one_by_one = PairFiLMMapper(NYU_IN, NYU_TASKS, **kw).double()
    one_by_one.load_state_dict(batched.state_dict())
    assert batched.samples_per_pass == per_pass
    for m in one_by_one.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = momentum
    # interleaved GT / prediction maps of 3 images, two pairs
    maps = [(torch.randn(1, 13, 12, 16, dtype=torch.float64), 'sem_seg'),
            (torch.randn(1, 1, 12, 16, dtype=torch.float64), 'depth'),
            (torch.randn(2, 1, 12, 16, dtype=torch.float64), 'depth'),
            (torch.randn(2, 3, 12, 16, dtype=torch.float64), 'normal')]
    ids = torch.tensor([batched.pair_index('sem_seg', 'depth')] * 2 +
                       [batched.pair_index('depth', 'normal')] * 4)
    inputs = [m.clone().requires_grad_() for m, _ in maps]
    out = batched.map_per_sample(
        [(x, t) for x, (_, t) in zip(inputs, maps)], ids)
    ref_inputs = [m.clone().requires_grad_() for m, _ in maps]
    ref, k = [], 0
    for x, (_, task) in zip(ref_inputs, maps):
        ref.append(torch.cat([
            one_by_one(x[i:i + 1], task, ids[k + i:k + i + 1])
            for i in range(x.shape[0])]))
        k += x.shape[0]
    assert [o.shape for o in out] == [r.shape for r in ref]
    for o, r in zip(out, ref):
        torch.testing.assert_close(o, r, rtol=1e-10, atol=1e-10)
    weights = [torch.randn_like(o) for o in out]
    sum((o * w).sum() for o, w in zip(out, weights)).backward()
    sum((r * w).sum() for r, w in zip(ref, weights)).backward()
    for (name, p), q in zip(batched.named_parameters(),
                            one_by_one.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-9, atol=1e-9,
                                   msg=name)
    for x, y in zip(inputs, ref_inputs):
        torch.testing.assert_close(x.grad, y.grad, rtol=1e-9, atol=1e-9)
    for (name, b), c in zip(batched.named_buffers(), one_by_one.buffers()):
        if name.endswith('num_batches_tracked'):
            assert int(b) == int(c) > 0, name
        else:
            torch.testing.assert_close(b, c, rtol=1e-10, atol=1e-10,
                                       msg=name)
    # in eval the running statistics serve every sample alike
    batched.eval()
    one_by_one.eval()
    with torch.no_grad():
        x = torch.randn(2, 1, 12, 16, dtype=torch.float64)
        torch.testing.assert_close(
            batched.map_per_sample([(x, 'depth')], ids[2:4])[0],
            one_by_one(x, 'depth', ids[2:4]))


def test_pass_size_keeps_activations_within_the_cpu_budget():
    """'auto': on the CPU, as many samples as keep the largest activation
    of a pass within 32 MiB; elsewhere one pass (0); an int as given."""
    from mtpsl.models.methods.film_mapper import CPU_PASS_BYTES
    assert CPU_PASS_BYTES == 32 * 2**20
    m = PairFiLMMapper(NYU_IN, NYU_TASKS)  # XTC's release: 64 channels first
    # 64 x 288 x 384 x 4 B = 28.3 MB: one map a pass
    assert m.pass_size(torch.empty(8, 13, 288, 384)) == 1
    # 64 x 96 x 128 x 4 B = 3,145,728 B: 10 maps (33,554,432 // 3,145,728)
    assert m.pass_size(torch.empty(8, 13, 96, 128)) == 10
    assert m.pass_size(torch.empty(8, 13, 96, 128,
                                   dtype=torch.float64)) == 5
    assert m.pass_size(torch.empty(8, 13, 96, 128, device='meta')) == 0
    # a later stage can be the largest: 4 x 64 x 64 vs 64 x 32 x 32 (x4 B)
    late = PairFiLMMapper(NYU_IN, NYU_TASKS, widths=(4, 64),
                          convs_per_stage=1)
    assert late.pass_size(torch.empty(1, 1, 64, 64)) == CPU_PASS_BYTES // (
        64 * 32 * 32 * 4)
    assert PairFiLMMapper(NYU_IN, NYU_TASKS, widths=(4,), convs_per_stage=1,
                          samples_per_pass=3).pass_size(
        torch.empty(1, 1, 288, 384)) == 3


@pytest.mark.parametrize('bad', [-1, 1.5, True, '2'])
def test_samples_per_pass_must_be_a_count(bad):
    with pytest.raises(ValueError, match='samples_per_pass'):
        PairFiLMMapper(NYU_IN, NYU_TASKS, widths=(4,), convs_per_stage=1,
                       samples_per_pass=bad)
