"""CCR as a method: GT resampling, the pair term on a hand-set map, CTS,
projector sharing, the ablation switches, partial labels, zero cases,
gradients, and that it never runs at inference."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F

import mtpsl  # noqa: F401
from mtpsl.models.methods import CCR, MethodBundle, ViewBundle
from mtpsl.models.methods.toolkit import resample_target
from mtpsl.registry import MODELS

TASKS = ('sem_seg', 'depth', 'normal')


# -- resample_target --------------------------------------------------------
def test_resample_labels_nearest_centres():
    labels = torch.arange(16).view(1, 1, 4, 4)
    out = resample_target('sem_seg', labels, (2, 2))
    # half-pixel centres: rows / cols 1 and 3 of the 4x4 map
    assert out.dtype == labels.dtype
    assert out.flatten().tolist() == [5, 7, 13, 15]
    assert resample_target('sem_seg', labels, (4, 4)) is labels
    up = resample_target('sem_seg', torch.tensor([[[[1, 2], [3, 4]]]]),
                         (4, 4))
    assert up[0, 0].tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4],
                                 [3, 3, 4, 4]]


def test_resample_depth_and_normals_keep_validity():
    depth = torch.tensor([[[[0.0, 2.0, 0.0, 4.0],
                            [5.0, 0.0, 7.0, 0.0]]]])  # 1 x 1 x 2 x 4
    out = resample_target('depth', depth, (1, 2))
    # copies (row 1, cols 1 and 3): both invalid, no invalid zero averaged
    # with a valid neighbour into a made-up depth
    assert out.flatten().tolist() == [0.0, 0.0]
    out = resample_target('depth', depth, (2, 2))
    assert out.flatten().tolist() == [2.0, 4.0, 0.0, 0.0]
    normal = torch.zeros(1, 3, 2, 2)
    normal[0, :, 1, 1] = torch.tensor([0.0, 0.6, 0.8])
    out = resample_target('normal', normal, (1, 1))
    assert out.flatten().tolist() == pytest.approx([0.0, 0.6, 0.8])
    with pytest.raises(ValueError, match='size must be positive'):
        resample_target('depth', depth, (0, 2))
    with pytest.raises(KeyError):
        resample_target('heat', depth, (1, 2))


# -- a hand-built bundle ------------------------------------------------------
def _bundle(feats, targets, flags, it=0, seed=0):
    b = next(iter(feats.values())).shape[0]
    view = ViewBundle(inputs=torch.zeros(b, 3, 1, 1), shared_feats=(),
                      task_feats=feats, preds={}, targets=targets,
                      label_flags=torch.tensor(flags, dtype=torch.bool))
    return MethodBundle(tasks=TASKS, view1=view, iter=it, seed=seed)


def _random_inputs(b=2, c=4, h=6, w=8, seed=0, labelled=None):
    g = torch.Generator().manual_seed(seed)
    feats = {t: torch.randn(b, c, h, w, generator=g, requires_grad=True)
             for t in TASKS}
    targets = dict(
        sem_seg=torch.randint(0, 3, (b, 1, 2 * h, 2 * w), generator=g),
        depth=torch.rand(b, 1, 2 * h, 2 * w, generator=g) + 0.5,
        normal=F.normalize(torch.randn(b, 3, 2 * h, 2 * w, generator=g),
                           dim=1))
    labelled = labelled or [TASKS] * b
    flags = [[t in lab for t in TASKS] for lab in labelled]
    for t in TASKS:  # unlabelled images carry the invalid value
        for i, row in enumerate(flags):
            if not row[TASKS.index(t)]:
                targets[t][i] = -1 if t == 'sem_seg' else 0
    return feats, targets, flags


def _ccr(**kw):
    kw.setdefault('feat_channels', 4)
    kw.setdefault('proj_channels', 8)
    torch.manual_seed(0)
    return CCR(tasks=TASKS, **kw)


def test_pair_term_on_hand_set_map_equals_by_hand():
    """A 1 x 2 x 3 x 3 map (the mining test's angles) with a discrete
    source on a 6x6 GT (resampled by 2), CCR-Basic, one anchor."""
    angles = torch.tensor([0, 30, 60, 120, 90, 10, 20, 150, 100.0])
    rad = angles * math.pi / 180
    feat = torch.stack([rad.cos(), rad.sin()]).view(1, 2, 3, 3)
    labels = torch.tensor([0, 0, 1, 1, 0, -1, 2, 2, 1]).view(1, 1, 3, 3)
    gt = labels.repeat_interleave(2, 2).repeat_interleave(2, 3)
    method = CCR(tasks=TASKS, feat_channels=2, use_projector=False,
                 anchor_ratio=1 / 9, num_negatives=2)
    # anchor_ratio * 9 = 1 anchor, drawn among the 8 valid pixels; by hand
    # for whichever is drawn (loop reference of the mining test's rule)
    gen = torch.Generator().manual_seed(5)
    loss_sum, count = method.pair_term(
        F.normalize(feat, dim=1), 'sem_seg', gt, torch.tensor([True]),
        gen, torch.Generator())
    from mtpsl.models.methods.ccr_mining import sample_anchors
    a = sample_anchors(labels.flatten(1) >= 0, 1,
                       torch.Generator().manual_seed(5))[0].item()

    def d(i, j):
        return 2 * math.sin(abs(angles[i] - angles[j]).item() * math.pi
                            / 360)
    others = [p for p in range(9) if p != a and labels.flatten()[p] >= 0]
    la = labels.flatten()[a]
    pos = [p for p in others if labels.flatten()[p] == la]
    neg = [p for p in others if labels.flatten()[p] != la]
    d_ap = max(d(a, p) for p in pos)
    semi = sorted(d(a, n) for n in neg if d(a, n) > d_ap)
    rest = sorted((d(a, n) for n in neg if d(a, n) <= d_ap), reverse=True)
    chosen = (semi + rest)[:2]
    expected = sum(max(0, d_ap - x + 0.2) for x in chosen) / len(chosen)
    assert count.item() == 1
    assert loss_sum.item() == pytest.approx(expected, abs=1e-6)


def test_anchor_count_is_gamma_hw_per_image(monkeypatch):
    import mtpsl.models.methods.ccr as ccr_module
    seen = []
    original = ccr_module.sample_anchors

    def spy(valid, count, generator=None):
        seen.append(count)
        return original(valid, count, generator)
    monkeypatch.setattr(ccr_module, 'sample_anchors', spy)
    method = _ccr(anchor_ratio=0.25, cts=False)
    feats, targets, flags = _random_inputs()
    method.loss(_bundle(feats, targets, flags))
    assert seen == [12] * 6  # 0.25 * 6 * 8, per image, for the 6 pairs


def test_cts_one_source_per_target_reproducible():
    method = _ccr()
    feats, targets, flags = _random_inputs()
    picks = set()
    for it in range(30):
        pairs = method.select_pairs(_bundle(feats, targets, flags, it=it))
        assert [t for t, _ in pairs] == list(TASKS)
        assert all(s != t for t, s in pairs)
        assert pairs == method.select_pairs(
            _bundle(feats, targets, flags, it=it))
        picks.update(pairs)
    assert picks == set(method.all_pairs())  # every pair gets its turn
    assert len(_ccr(cts=False).select_pairs(
        _bundle(feats, targets, flags))) == 6


def test_cts_draws_among_labelled_sources():
    feats, targets, flags = _random_inputs(labelled=[['depth'],
                                                     ['depth', 'normal']])
    method = _ccr()
    for it in range(20):
        pairs = dict(method.select_pairs(_bundle(feats, targets, flags,
                                                 it=it)))
        assert pairs['sem_seg'] in ('depth', 'normal')
        assert pairs['normal'] == 'depth'  # sem_seg is labelled nowhere
        assert pairs['depth'] == 'normal'
    every = _ccr(cts_sources='all')
    seen = {dict(every.select_pairs(_bundle(feats, targets, flags,
                                            it=it)))['normal']
            for it in range(30)}
    assert seen == {'sem_seg', 'depth'}


@pytest.mark.parametrize('sharing, keys', [
    ('Ts', ['depth', 'normal', 'sem_seg']),
    ('Tt', ['from_depth', 'from_normal', 'from_sem_seg']),
    ('Tt+Ts', ['shared']),
    ('unshared', ['depth_from_normal', 'depth_from_sem_seg',
                  'normal_from_depth', 'normal_from_sem_seg',
                  'sem_seg_from_depth', 'sem_seg_from_normal']),
])
def test_projector_sharing(sharing, keys):
    method = _ccr(projector_sharing=sharing, cts=False)
    assert sorted(method.projectors) == keys
    proj = method.projectors[keys[0]]
    # Eq. (2): Conv1x1 -> ReLU -> Conv1x1 -> BN
    assert [type(m).__name__ for m in proj] == [
        'Conv2d', 'ReLU', 'Conv2d', 'BatchNorm2d']
    assert proj[0].kernel_size == proj[2].kernel_size == (1, 1)
    feats, targets, flags = _random_inputs()
    loss = method.loss(_bundle(feats, targets, flags))['ccr.loss_ctr']
    loss.backward()
    # all pairs: every projector is used and gets a gradient
    for key in keys:
        grad = method.projectors[key][0].weight.grad
        assert grad is not None and grad.abs().sum() > 0, key


def test_no_projector_is_ccr_basic():
    method = _ccr(use_projector=False)
    assert len(method.projectors) == 0 and not list(method.parameters())
    feats, targets, flags = _random_inputs()
    loss = method.loss(_bundle(feats, targets, flags))['ccr.loss_ctr']
    assert loss.item() > 0
    loss.backward()
    assert any(feats[t].grad.abs().sum() > 0 for t in TASKS)


def test_ablation_switches_change_the_loss():
    feats, targets, flags = _random_inputs()
    bundle = _bundle(feats, targets, flags)
    values = {}
    for name, kw in dict(full={}, no_ss=dict(semi_hard=False),
                         no_cts=dict(cts=False),
                         basic=dict(use_projector=False)).items():
        values[name] = _ccr(**kw).loss(bundle)['ccr.loss_ctr'].item()
    assert len({round(v, 6) for v in values.values()}) == 4, values
    # Eq. (3) sums over the pairs: all 6 pairs sum more than one per target
    assert values['no_cts'] > values['full']


def test_weight_scales_the_loss():
    feats, targets, flags = _random_inputs()
    bundle = _bundle(feats, targets, flags)
    one = _ccr().loss(bundle)['ccr.loss_ctr']
    method = _ccr()
    method.loss_weight = 0.25
    assert method.loss(bundle)['ccr.loss_ctr'].item() == pytest.approx(
        0.25 * one.item())


def test_gradient_reaches_projector_and_target_not_gt():
    feats, targets, flags = _random_inputs()
    targets['depth'] = targets['depth'].requires_grad_(True)
    method = _ccr(cts=False)
    loss = method.loss(_bundle(feats, targets, flags))['ccr.loss_ctr']
    loss.backward()
    assert targets['depth'].grad is None
    for t in TASKS:
        assert feats[t].grad.abs().sum() > 0, t
        assert method.projectors[t][0].weight.grad.abs().sum() > 0, t


def test_partial_labels_unlabelled_target_gets_signal():
    """Only depth is labelled: the pairs (sem_seg, depth) and (normal,
    depth) regularise the unlabelled tasks' features; depth as a target
    has no labelled source and gets an exact zero."""
    feats, targets, flags = _random_inputs(labelled=[['depth'], ['depth']])
    method = _ccr(cts=False)
    bundle = _bundle(feats, targets, flags)
    loss = method.loss(bundle)['ccr.loss_ctr']
    loss.backward()
    assert feats['sem_seg'].grad.abs().sum() > 0
    assert feats['normal'].grad.abs().sum() > 0
    assert torch.equal(feats['depth'].grad, torch.zeros_like(feats['depth']))
    # the loss is the two depth-sourced pairs alone
    only = sum(
        (lambda s, n: s / n.clamp_min(1))(*method.pair_term(
            method.embed(t, 'depth', feats[t]), 'depth', targets['depth'],
            bundle.flags('depth'),
            bundle.generator(f'ccr.anchors.{t}.depth'),
            bundle.generator(f'ccr.sample.{t}.depth')))
        for t in ('sem_seg', 'normal'))
    assert loss.item() == pytest.approx(only.item(), rel=1e-6)


def test_pair_only_on_images_labelled_for_the_source():
    """Image 1 is unlabelled for depth: changing its depth map (which the
    model never sees for training anyway) changes nothing."""
    feats, targets, flags = _random_inputs(labelled=[TASKS,
                                                     ['sem_seg', 'normal']])
    method = _ccr(cts=False)
    a = method.loss(_bundle(feats, targets, flags))['ccr.loss_ctr']
    targets['depth'][1] = 3.0  # a value, but the flag says unlabelled
    b = method.loss(_bundle(feats, targets, flags))['ccr.loss_ctr']
    assert torch.equal(a, b)


def test_nothing_labelled_is_an_exact_zero_in_the_graph():
    feats, targets, flags = _random_inputs(labelled=[[], []])
    method = _ccr()
    loss = method.loss(_bundle(feats, targets, flags))['ccr.loss_ctr']
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    for p in method.parameters():  # touched (DDP) and not NaN
        assert p.grad is not None and torch.equal(p.grad,
                                                  torch.zeros_like(p))
    for t in TASKS:
        assert torch.equal(feats[t].grad, torch.zeros_like(feats[t]))
    basic = _ccr(use_projector=False)
    loss = basic.loss(_bundle(feats, targets, flags))['ccr.loss_ctr']
    assert loss.item() == 0.0 and loss.requires_grad


def test_single_label_source_is_a_zero_not_nan():
    """Every valid pixel shares one label: no negative anywhere."""
    feats, targets, flags = _random_inputs(labelled=[['sem_seg']] * 2)
    targets['sem_seg'].fill_(2)
    loss = _ccr().loss(_bundle(feats, targets, flags))['ccr.loss_ctr']
    assert loss.item() == 0.0 and not torch.isnan(loss)


def test_feature_stride_pools_before_projecting():
    method = _ccr(feature_stride=2)
    emb = method.embed('sem_seg', 'depth', torch.randn(2, 4, 6, 9))
    assert emb.shape == (2, 8, 3, 5)
    assert torch.allclose(emb.norm(dim=1), torch.ones(2, 3, 5), atol=1e-5)


@pytest.mark.parametrize('kw, match', [
    (dict(projector_sharing='Tx'), "projector_sharing.*'Tx'"),
    (dict(cts_sources='some'), "cts_sources.*'some'"),
    (dict(neg_fallback='x'), "neg_fallback.*'x'"),
    (dict(anchor_ratio=0), 'anchor_ratio must be positive'),
    (dict(feat_channels=dict(sem_seg=4, depth=4)),
     r"feat_channels has no entry for \['normal'\]"),
    (dict(feat_channels=dict(sem_seg=4, depth=4, normal=8),
          projector_sharing='Tt'), 'different feat_channels'),
])
def test_bad_options_are_named(kw, match):
    with pytest.raises(ValueError, match=match):
        _ccr(**kw)


# -- in the model -------------------------------------------------------------
WIDTHS = (4, 8, 8, 8, 8)


def _model_cfg(methods=None):
    heads = dict(
        sem_seg=dict(type='SegNetTaskHead', in_channels=WIDTHS[0],
                     num_classes=5, loss=dict(type='CrossEntropyLoss',
                                              ignore_index=-1)),
        depth=dict(type='SegNetTaskHead', in_channels=WIDTHS[0],
                   loss=dict(type='MaskedL1Loss')),
        normal=dict(type='SegNetTaskHead', in_channels=WIDTHS[0],
                    loss=dict(type='CosineSimilarityLoss')))
    cfg = dict(type='MultiTaskModel',
               data_preprocessor=dict(type='MultiTaskDataPreprocessor',
                                      size_divisor=32),
               backbone=dict(type='SegNet', widths=WIDTHS), heads=heads)
    if methods is not None:
        cfg['methods'] = methods
    return cfg


def _data():
    from mtpsl.structures import MultiTaskDataSample
    g = torch.Generator().manual_seed(1)
    samples = []
    for labelled in (['sem_seg'], ['depth', 'normal']):
        s = MultiTaskDataSample(metainfo=dict(
            label_flags={t: t in labelled for t in TASKS}, img_shape=(32, 48),
            ori_shape=(32, 48), tasks=TASKS))
        gts = dict(sem_seg=torch.randint(-1, 5, (1, 32, 48), generator=g),
                   depth=torch.rand(1, 32, 48, generator=g) + 0.5,
                   normal=F.normalize(torch.randn(3, 32, 48, generator=g),
                                      dim=0))
        for t in labelled:
            s.set_gt(t, gts[t])
        samples.append(s)
    return dict(inputs=[torch.rand(3, 32, 48, generator=g)
                        for _ in range(2)], data_samples=samples)


def _build(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


CCR_CFG = dict(type='CCR', feat_channels=4, proj_channels=8,
               feature_stride=2)


def test_in_model_gradient_reaches_decoder_and_projectors():
    model = _build(_model_cfg([CCR_CFG]))
    model.train()
    data = model.data_preprocessor(_data(), training=True)
    losses = model(**data, mode='loss')
    losses['ccr.loss_ctr'].backward()
    for t in TASKS:
        assert model.heads[t].conv.weight.grad.abs().sum() > 0, t
        # the classifier is after the feature: not in CCR's graph
        assert model.heads[t].cls.weight.grad is None
    grads = [p.grad for p in model.methods.ccr.parameters()]
    assert all(g is not None for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


def test_trained_with_ccr_predicts_like_plain_model(monkeypatch):
    model = _build(_model_cfg([CCR_CFG]))
    optim = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    data = model.data_preprocessor(_data(), training=True)
    losses = model(**data, mode='loss')
    assert 'ccr.loss_ctr' in losses and losses['ccr.loss_ctr'].item() > 0
    sum(losses.values()).backward()
    optim.step()
    exported = {k: v for k, v in model.state_dict().items()
                if not k.startswith('methods.')}
    assert any(k.startswith('methods.ccr.projectors.')
               for k in model.state_dict())
    plain = _build(_model_cfg())
    assert set(exported) == set(plain.state_dict())
    plain.load_state_dict(exported, strict=True)

    def refuse(*args, **kwargs):
        raise AssertionError('CCR ran at inference')
    monkeypatch.setattr(CCR, 'loss', refuse)
    model.eval()
    plain.eval()
    test = model.data_preprocessor(_data(), training=False)
    with torch.no_grad():
        raw_a = model(test['inputs'], mode='tensor')
        raw_b = plain(test['inputs'], mode='tensor')
        pred_a = model(**copy.deepcopy(test), mode='predict')
        pred_b = plain(**copy.deepcopy(test), mode='predict')
    for t in TASKS:
        assert torch.equal(raw_a[t], raw_b[t])
        for sa, sb in zip(pred_a, pred_b):
            assert torch.equal(sa.pred(t), sb.pred(t))
