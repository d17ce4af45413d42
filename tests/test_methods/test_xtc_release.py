"""XTC as its public release computes it (docs/FACTS.md, XTC): the
aggregation by hand on 1-pixel maps with a fixed mapper (onelabel,
randomlabels, full labels), the model's total loss against a per-image loop,
one forward over both views, and the learning-rate groups of the NYUv2
config."""
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from conftest import REPO

import mtpsl  # noqa: F401
from mtpsl.models.methods import MethodBundle, ViewBundle
from mtpsl.models.methods.xtc import XTC
from mtpsl.registry import MODELS
from mtpsl.structures import MultiTaskDataSample

TASKS = ('sem_seg', 'depth', 'normal')


class _FixedMapper(torch.nn.Module):
    """A fixed map to 2 channels: sem_seg one-hot (2 classes) as it is,
    depth x -> (x, 0), normal encoding (a, b, c) -> (a, b)."""

    def __init__(self):
        super().__init__()
        self.calls = []
        self.pairs = tuple((s, t) for s in TASKS for t in TASKS if s != t)

    def pair_index(self, s, t):
        return self.pairs.index((s, t))

    def map_all(self, maps, pair_ids):
        self.calls.append(tuple(m.shape[0] for m, _ in maps))
        out = []
        for m, task in maps:
            if task == 'depth':
                out.append(torch.cat([m, torch.zeros_like(m)], 1))
            else:
                out.append(m[:, :2])
        return tuple(out)

    def map_per_sample(self, maps, pair_ids):
        # a pixel-wise map: per sample it is per map; record the layout
        self.calls.append(('per_sample', tuple(m.shape[0] for m, _ in maps),
                           tuple(t for _, t in maps), tuple(pair_ids.tolist())))
        return self.map_all(maps, pair_ids)[:len(maps)]


# The two images (1 x 1 pixel each) and what the fixed mapper makes of them.
# GT: sem_seg classes 0 / 1, depth 3.0 / 5.0 (-> 1 after / max), normals
# (0, 1, 0) / (0, 0, 1) (-> encodings (.5, 1, .5) / (.5, .5, 1)).
# Predictions: sem_seg logits +-50 (hard Gumbel = the argmax: class 0 / 1),
# depth 2.0 / 4.0 (-> 1), normals (1, 0, 0) / (0, -1, 0).
MAPPED_GT = {'sem_seg': [(1, 0), (0, 1)], 'depth': [(1, 0), (1, 0)],
             'normal': [(.5, 1), (.5, .5)]}
MAPPED_PRED = {'sem_seg': [(1, 0), (0, 1)], 'depth': [(1, 0), (1, 0)],
               'normal': [(1, .5), (.5, 0)]}
FEAT = [(1, 1), (1, -1)]


def _cos(a, b):
    dot = a[0] * b[0] + a[1] * b[1]
    return dot / (math.hypot(*a) * math.hypot(*b))


def _terms(i, s, t):
    """(con, reg) of image i, pair (s, t), from the mapped vectors above."""
    ms, mt, f = MAPPED_GT[s][i], MAPPED_PRED[t][i], FEAT[i]
    return 1 - _cos(ms, mt), (1 - _cos(ms, f)) + (1 - _cos(mt, f))


def _view(flags, scale=1.0):
    preds = dict(
        sem_seg=torch.tensor([[50., -50.], [-50., 50.]]).view(2, 2, 1, 1),
        depth=torch.tensor([2., 4.]).view(2, 1, 1, 1) * scale,
        normal=torch.tensor([[1., 0., 0.], [0., -1., 0.]]).view(2, 3, 1, 1))
    targets = dict(
        sem_seg=torch.tensor([0, 1]).view(2, 1, 1, 1),
        depth=torch.tensor([3., 5.]).view(2, 1, 1, 1),
        normal=torch.tensor([[0., 1., 0.], [0., 0., 1.]]).view(2, 3, 1, 1))
    feat = torch.tensor(FEAT, dtype=torch.float).view(2, 2, 1, 1) * scale
    return ViewBundle(inputs=torch.zeros(2, 3, 1, 1), shared_feats=(feat,),
                      task_feats={}, preds=preds, targets=targets,
                      label_flags=torch.tensor(flags, dtype=torch.bool))


def _release_xtc(**kw):
    xtc = XTC(tasks=TASKS, num_classes=dict(sem_seg=2), feat_channels=2,
              mapper=dict(widths=(2,), convs_per_stage=1), **kw)
    xtc.mapper = _FixedMapper()
    return xtc


# onelabel: image 0 sem_seg, image 1 depth -> 2 pairs each.
# randomlabels: image 0 sem_seg + depth, image 1 normal -> 2 pairs each.
# full: 6 ordered pairs per image.
REGIMES = {
    'onelabel': ([[1, 0, 0], [0, 1, 0]],
                 [(0, 'sem_seg', 'depth'), (0, 'sem_seg', 'normal'),
                  (1, 'depth', 'sem_seg'), (1, 'depth', 'normal')]),
    'randomlabels': ([[1, 1, 0], [0, 0, 1]],
                     [(0, 'sem_seg', 'normal'), (0, 'depth', 'normal'),
                      (1, 'normal', 'sem_seg'), (1, 'normal', 'depth')]),
    'full': ([[1, 1, 1], [1, 1, 1]],
             [(i, s, t) for i in (0, 1) for s in TASKS for t in TASKS
              if s != t]),
}


@pytest.mark.parametrize('regime', sorted(REGIMES))
def test_release_aggregation_by_hand(regime):
    flags, triples = REGIMES[regime]
    xtc = _release_xtc()
    # view 1 differs (scaled features): it must not enter
    bundle = MethodBundle(tasks=TASKS, view1=_view(flags, scale=-1.0),
                          view2=_view(flags))
    losses = xtc(bundle)
    con = sum(_terms(i, s, t)[0] for i, s, t in triples)
    reg = sum(_terms(i, s, t)[1] for i, s, t in triples)
    batch = 2
    # per image the pairs' terms SUMMED, x 2.0, / batch size
    assert losses['xtc.loss_con'].item() == pytest.approx(
        2.0 * con / batch, abs=1e-6)
    assert losses['xtc.loss_reg'].item() == pytest.approx(
        2.0 * 0.5 * reg / batch, abs=1e-6)
    # each image's two maps (GT of s, prediction of t) are samples of their
    # own, triple after triple, with the triple's pair
    (kind, sizes, tasks, ids), = [c for c in xtc.mapper.calls
                                  if c[0] == 'per_sample']
    assert sizes == (1, ) * 2 * len(triples)
    seen = sorted(zip(tasks[::2], tasks[1::2], ids[::2], ids[1::2]))
    assert seen == sorted((s, t) + (xtc.mapper.pair_index(s, t), ) * 2
                          for _, s, t in triples)


def test_our_earlier_mean_and_no_full_label_pairs_as_options():
    flags, triples = REGIMES['onelabel']
    xtc = _release_xtc(reduction='mean', full_label_pairs=False)
    losses = xtc(MethodBundle(tasks=TASKS, view1=_view(flags),
                              view2=_view(flags)))
    con = sum(_terms(i, s, t)[0] for i, s, t in triples) / len(triples)
    assert losses['xtc.loss_con'].item() == pytest.approx(2.0 * con,
                                                          abs=1e-6)
    full = _release_xtc(full_label_pairs=False)(MethodBundle(
        tasks=TASKS, view1=_view(REGIMES['full'][0]),
        view2=_view(REGIMES['full'][0])))
    assert full['xtc.loss_con'].item() == 0.0


def test_view2_needed_is_a_clear_error():
    xtc = _release_xtc()
    with pytest.raises(ValueError, match=r'views=\(2,\).*no second view'):
        xtc(MethodBundle(tasks=TASKS, view1=_view([[1, 0, 0], [0, 1, 0]])))
    with pytest.raises(ValueError, match='views must be'):
        _release_xtc(views=(3,))
    with pytest.raises(ValueError, match='reduction must be'):
        _release_xtc(reduction='sum')


# ---------------------------------------------- the model, end to end
def _sample(h, w, labelled, seed):
    g = torch.Generator().manual_seed(seed)
    s = MultiTaskDataSample(metainfo=dict(
        label_flags={t: t in labelled for t in ('depth', 'normal')},
        img_shape=(h, w), ori_shape=(h, w), tasks=('depth', 'normal')))
    depth = torch.rand(1, h, w, generator=g) + 0.5
    depth[0, 0, :3] = 0.0  # invalid pixels
    normal = F.normalize(torch.randn(3, h, w, generator=g), dim=0)
    normal[:, -1, :] = 0.0
    for t, v in (('depth', depth), ('normal', normal)):
        if t in labelled:
            s.set_gt(t, v)
    return s


def _model():
    heads = dict(
        depth=dict(type='SegNetTaskHead', in_channels=4,
                   loss=dict(type='MaskedL1Loss', reduction='image_sum')),
        normal=dict(type='SegNetTaskHead', in_channels=4,
                    loss=dict(type='CosineSimilarityLoss',
                              reduction='image_sum')))
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='MultiTaskModel',
        data_preprocessor=dict(type='MultiTaskDataPreprocessor',
                               size_divisor=32),
        backbone=dict(type='SegNet', widths=(4, 8, 8, 8, 8)), heads=heads,
        methods=[dict(type='XTC', num_classes={}, feat_channels=8,
                      mapper=dict(widths=(4, 8, 8, 8, 8)))]))
    model.init_weights()
    return model.train()


def _two_view_data(labelled):
    g = torch.Generator().manual_seed(1)
    samples = [_sample(32, 32, lab, 10 + i) for i, lab in enumerate(labelled)]
    for i, (s, lab) in enumerate(zip(samples, labelled)):
        s.set_field(_sample(32, 32, lab, 20 + i), 'view2',
                    dtype=MultiTaskDataSample)
    n = len(labelled)
    return dict(inputs=[torch.rand(3, 32, 32, generator=g) for _ in range(n)],
                inputs_view2=[torch.rand(3, 32, 32, generator=g)
                              for _ in range(n)],
                data_samples=samples)


def test_model_total_loss_equals_the_release_loop():
    """Total = (1/B) sum_i [sum_{t labelled in i} L_it + 2 sum_pairs c_ip],
    with supervision on view 1, pairs on view 2, recomputed per image."""
    model = _model()
    labelled = [['depth'], ['normal'], ['depth', 'normal']]
    data = model.data_preprocessor(_two_view_data(labelled), training=True)
    seen = {}
    xtc = model.methods['xtc']
    original = type(xtc).loss

    def spy(self, bundle):
        seen['bundle'] = bundle
        return original(self, bundle)
    type(xtc).loss = spy
    try:
        losses = model(**data, mode='loss')
    finally:
        type(xtc).loss = original
    total = sum(losses.values()).item()
    b = seen['bundle']
    batch = 3
    ref = 0.0
    for i, lab in enumerate(labelled):
        v1 = b.view1
        for t in lab:
            pred, gt = v1.preds[t][i:i + 1], v1.targets[t][i:i + 1]
            if t == 'depth':
                valid = gt != 0
                ref += ((pred - gt).abs()[valid]).mean().item() / batch
            else:
                valid = (gt != 0).any(1)
                cos = (pred * gt).sum(1)[valid]
                ref += (1 - cos.mean()).item() / batch
    v2 = b.view2
    enc = {'depth': lambda x: x / x.flatten(1).amax(1).clamp_min(1e-6),
           'normal': lambda x: (x + 1) / 2}
    for i, lab in enumerate(labelled):
        full = len(lab) == 2
        for s in lab:
            for t in ('depth', 'normal'):
                if t == s or (t in lab and not full):
                    continue
                gt = v2.targets[s][i:i + 1]
                if s == 'normal':  # invalid normal GT -> 0.5
                    gt_enc = torch.where((gt != 0).any(1, keepdim=True),
                                         (gt + 1) / 2,
                                         torch.full_like(gt, 0.5))
                else:
                    gt_enc = enc[s](gt)
                pid = torch.tensor([xtc.mapper.pair_index(s, t)])
                with torch.no_grad():
                    ms = xtc.mapper(gt_enc, s, pid)
                    mt = xtc.mapper(enc[t](v2.preds[t][i:i + 1]), t, pid)
                f = v2.shared_feats[0][i:i + 1]

                def dist(a, c):
                    return (1 - F.cosine_similarity(a, c, dim=1)).mean()
                c = dist(ms, mt) + 0.5 * (dist(ms, f) + dist(mt, f))
                ref += 2.0 * c.item() / batch
    assert total == pytest.approx(ref, rel=1e-5)


def test_both_views_in_one_forward():
    model = _model()
    data = model.data_preprocessor(
        _two_view_data([['depth'], ['normal']]), training=True)
    shapes = []
    handle = model.backbone.register_forward_hook(
        lambda mod, inp, out: shapes.append(tuple(inp[0].shape)))
    model(**data, mode='loss')
    handle.remove()
    assert shapes == [(4, 3, 32, 32)]  # one BN batch of both views
    # the two-forward option
    model.methods['xtc'].joint_view_forward = False
    handle = model.backbone.register_forward_hook(
        lambda mod, inp, out: shapes.append(tuple(inp[0].shape)))
    shapes.clear()
    model(**data, mode='loss')
    handle.remove()
    assert shapes == [(2, 3, 32, 32), (2, 3, 32, 32)]


# ------------------------------------------------ learning-rate groups
class _Kinds(torch.nn.Module):
    """One parameter of each kind, under the model's names."""

    def __init__(self):
        super().__init__()
        self.backbone = torch.nn.Linear(1, 1, bias=False)
        xtc = torch.nn.Module()
        xtc.mapper = torch.nn.Module()
        xtc.mapper.layers = torch.nn.Linear(1, 1, bias=False)
        xtc.mapper.film = torch.nn.Embedding(2, 2)
        self.methods = torch.nn.ModuleDict(dict(xtc=xtc))


def _lr_summary(wrapper, film):
    """{'film': lr, 'mapper convs/BN': lr, 'network': lr} (one value each:
    the groups of one kind share it)."""
    kinds = {}
    for g in wrapper.optimizer.param_groups:
        name = g['param_names'][0]
        kind = ('film' if name.startswith(film) else 'mapper convs/BN'
                if name.startswith('methods.') else 'network')
        kinds.setdefault(kind, set()).add(round(g['lr'], 12))
    assert all(len(v) == 1 for v in kinds.values()), kinds
    return {k: v.pop() for k, v in kinds.items()}


@pytest.mark.parametrize('config, film_lr', [
    ('xtc_segnet_1xb8-40k_nyuv2-onelabel-288x384.py', 1e-3),
    ('xtc_segnet_1xb8-40k_cityscapes-onelabel-128x256.py', 1e-5)])
def test_release_lr_groups_at_0_first_film_and_network_halving(
        config, film_lr):
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope

    import mtpsl.engine  # noqa: F401
    from mtpsl.apis.config import load_config
    from mtpsl.registry import PARAM_SCHEDULERS
    cfg = load_config(osp.join(REPO, 'configs', 'xtc', config))
    film = 'methods.xtc.mapper.film'

    def build(model_cfg):
        model = MODELS.build(model_cfg) if model_cfg else _Kinds()
        with DefaultScope.overwrite_default_scope('mtpsl'):
            wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
            return wrapper, [PARAM_SCHEDULERS.build(
                dict(s, end=cfg.train_cfg.max_iters),
                default_args=dict(optimizer=wrapper))
                for s in cfg.param_scheduler]
    wrapper, _ = build(cfg.model)
    groups = wrapper.optimizer.param_groups
    n_film = sum(p.numel() for g in groups for p in g['params']
                 if g['param_names'][0].startswith(film))
    n_rest = sum(p.numel() for g in groups for p in g['params']) - n_film
    seen = {0: _lr_summary(wrapper, film)}
    # stepped through 20k iterations with the config's optimiser and
    # schedules on one parameter of each kind, named as in the model
    wrapper, schedulers = build(None)
    assert _lr_summary(wrapper, film) == seen[0]
    for it in range(1, 20001):
        for s in schedulers:
            s.step()
        if it in (6000, 20000):
            seen[it] = _lr_summary(wrapper, film)
    print(f'\n{config}: FiLM {n_film:,} params, rest {n_rest:,}')
    for it, lrs in seen.items():
        print(f'  iteration {it:>5}: ' + ', '.join(
            f'{k} {v:.3g}' for k, v in sorted(lrs.items())))
    net = 1e-4
    assert seen[0] == pytest.approx({'film': film_lr, 'network': net,
                                     'mapper convs/BN': net})
    assert seen[6000] == pytest.approx({'film': film_lr / 2, 'network': net,
                                        'mapper convs/BN': net})
    # 20000 = 3 FiLM halvings (6k, 12k, 18k) and the first network one
    assert seen[20000] == pytest.approx({'film': film_lr / 8,
                                         'network': net / 2,
                                         'mapper convs/BN': net / 2})
    if 'nyuv2' in config:
        assert n_film == 50_688
        # SegNet + mapper (FACTS: 39,874,516 with the release's 3 task
        # log-variances; our FixedWeights balancer has none)
        assert n_film + n_rest == 39_874_516 - 3
