"""The cross-task method interface: methods compose, never run at
inference, see the second view, and leave the exported model unchanged."""
import copy
import os.path as osp
import sys

import pytest
import torch
import torch.nn.functional as F

import mtpsl  # noqa: F401
from mtpsl.models.methods import BaseCrossTaskMethod
from mtpsl.registry import MODELS
from mtpsl.structures import MultiTaskDataSample

TASKS = ('sem_seg', 'depth', 'normal')
WIDTHS = (4, 8, 8, 8, 8)


def _cfg(methods=None):
    heads = dict(
        sem_seg=dict(type='SegNetTaskHead', in_channels=WIDTHS[0],
                     num_classes=5, loss=dict(type='CrossEntropyLoss')),
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


def _xtc(**kw):
    kw.setdefault('views', (1,))
    return dict(type='XTC', num_classes=dict(sem_seg=5), feat_channels=8,
                mapper=dict(widths=(4, 8, 8, 8, 8)), **kw)


def _sample(h, w, labelled, seed):
    g = torch.Generator().manual_seed(seed)
    s = MultiTaskDataSample(metainfo=dict(
        label_flags={t: t in labelled for t in TASKS}, img_shape=(h, w),
        ori_shape=(h, w), tasks=TASKS))
    gts = dict(sem_seg=torch.randint(-1, 5, (1, h, w), generator=g),
               depth=torch.rand(1, h, w, generator=g) + 0.5,
               normal=F.normalize(torch.randn(3, h, w, generator=g), dim=0))
    for t in labelled:
        s.set_gt(t, gts[t])
    return s


def _data(h=30, w=40, two_views=False):
    g = torch.Generator().manual_seed(1)
    samples = [_sample(h, w, ['sem_seg'], 10), _sample(h, w, ['depth'], 11)]
    data = dict(inputs=[torch.rand(3, h, w, generator=g) for _ in range(2)],
                data_samples=samples)
    if two_views:
        h2, w2 = h - 4, w - 2
        data['inputs_view2'] = [torch.rand(3, h2, w2, generator=g)
                                for _ in range(2)]
        for s, labelled in zip(samples, (['sem_seg'], ['depth'])):
            s.set_field(_sample(h2, w2, labelled, 20), 'view2',
                        dtype=MultiTaskDataSample)
    return data


def _build(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_baseline_has_no_method_weights():
    model = _build(_cfg())
    assert len(model.methods) == 0
    assert not any(k.startswith('methods.') for k in model.state_dict())


def test_trained_with_xtc_predicts_like_plain_model():
    xtc_model = _build(_cfg([_xtc()]))
    # a training step changes the shared weights and BN statistics
    optim = torch.optim.Adam(xtc_model.parameters(), lr=1e-2)
    xtc_model.train()
    data = xtc_model.data_preprocessor(_data(), training=True)
    losses = xtc_model(**data, mode='loss')
    assert {'xtc.loss_con', 'xtc.loss_reg'} <= set(losses)
    sum(losses.values()).backward()
    optim.step()
    exported = {k: v for k, v in xtc_model.state_dict().items()
                if not k.startswith('methods.')}
    plain = _build(_cfg())
    assert set(exported) == set(plain.state_dict())
    plain.load_state_dict(exported, strict=True)
    xtc_model.eval()
    plain.eval()
    test = xtc_model.data_preprocessor(_data(), training=False)
    with torch.no_grad():
        raw_a = xtc_model(test['inputs'], mode='tensor')
        raw_b = plain(test['inputs'], mode='tensor')
        pred_a = xtc_model(**copy.deepcopy(test), mode='predict')
        pred_b = plain(**copy.deepcopy(test), mode='predict')
    for t in TASKS:
        assert torch.equal(raw_a[t], raw_b[t])
        for sa, sb in zip(pred_a, pred_b):
            assert torch.equal(sa.pred(t), sb.pred(t))


def test_publish_drop_prefix_gives_plain_state_dict(tmp_path):
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    sys.path.insert(0, osp.join(repo, 'tools'))
    from publish_model import publish
    model = _build(_cfg([_xtc()]))
    ckpt = tmp_path / 'iter_2.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    out = publish(str(ckpt), str(tmp_path / 'pub'), 'xtc',
                  drop_prefix=['methods.'])
    state = torch.load(out, weights_only=True)
    plain = _build(_cfg())
    assert set(state) == set(plain.state_dict())
    plain.load_state_dict(state, strict=True)


def test_methods_compose_and_keep_keys_apart():
    model = _build(_cfg([_xtc(), _xtc(name='xtc_b', loss_weight=1.0)]))
    model.train()
    data = model.data_preprocessor(_data(), training=True)
    losses = model(**data, mode='loss')
    for name in ('xtc', 'xtc_b'):
        assert {f'{name}.loss_con', f'{name}.loss_reg'} <= set(losses)
    assert {k.split('.loss_')[0] for k in losses} == set(TASKS) | {
        'xtc', 'xtc_b'}
    with pytest.raises(ValueError, match="two methods named 'xtc'"):
        _build(_cfg([_xtc(), _xtc()]))


def test_method_keys_must_carry_its_name():
    class Bad(BaseCrossTaskMethod):
        def loss(self, bundle):
            return {'loss_x': torch.zeros(())}
    with pytest.raises(KeyError, match="must start with 'method'"):
        Bad()(None)


def test_second_view_batched_and_given_to_xtc(monkeypatch):
    model = _build(_cfg([_xtc(views=(1, 2), joint_view_forward=False)]))
    model.train()
    data = model.data_preprocessor(_data(two_views=True), training=True)
    assert data['inputs_view2'].shape == (2, 3, 32, 64)
    view2 = data['data_samples'][1].view2
    assert view2.metainfo['batch_input_shape'] == (32, 64)
    assert view2.gt('depth').shape == (1, 32, 64)  # padded with 0
    assert view2.gt('depth')[0, 26:].eq(0).all()
    seen = []
    original = type(model.methods['xtc']).view_terms

    def spy(self, view, generator=None):
        seen.append(tuple(view.inputs.shape))
        return original(self, view, generator)
    monkeypatch.setattr(type(model.methods['xtc']), 'view_terms', spy)
    losses = model(**data, mode='loss')
    assert seen == [(2, 3, 32, 64), (2, 3, 32, 64)]
    assert torch.isfinite(sum(losses.values()))
    # a method on view 1 only: the model does not run on view 2
    seen.clear()
    model.methods['xtc'].needs_view2 = False
    model.methods['xtc'].views = (1,)
    model(**data, mode='loss')
    assert len(seen) == 1


def test_bundle_carries_iteration_from_message_hub(monkeypatch):
    from mmengine.logging import MessageHub
    model = _build(_cfg([_xtc()]))
    seen = []
    monkeypatch.setattr(type(model.methods['xtc']), 'loss',
                        lambda self, b: seen.append(b) or {})
    MessageHub.get_instance('test_methods_iter').update_info('iter', 7)
    model.train()
    model(**model.data_preprocessor(_data(), training=True), mode='loss')
    bundle = seen[0]
    assert bundle.iter == 7
    assert bundle.view1.label_flags.tolist() == [[True, False, False],
                                                 [False, True, False]]
    assert bundle.flags('depth').tolist() == [False, True]
    assert set(bundle.view1.task_feats) == set(TASKS)
    assert bundle.view2 is None


def test_config_gives_mapper_its_learning_rate():
    from mmengine.optim import build_optim_wrapper

    from mtpsl.apis.config import load_config
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = load_config(osp.join(
        repo, 'configs', 'xtc',
        'xtc_segnet_1xb8-40k_nyuv2-onelabel-288x384.py'))
    model = _build(_cfg([_xtc()]))
    # the constructor is registered in mtpsl's scope, as a Runner sets it
    from mmengine.registry import DefaultScope
    import mtpsl.engine  # noqa: F401
    with DefaultScope.overwrite_default_scope('mtpsl'):
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    # the release: only the FiLM gamma / beta at 1e-3, the mapper's convs
    # and BN with the network at 1e-4
    film = {id(model.methods['xtc'].mapper.film.weight)}
    lrs = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            lrs[id(p)] = group['lr']
    assert all(lrs[i] == pytest.approx(1e-3) for i in film)
    assert all(v == pytest.approx(1e-4) for k, v in lrs.items()
               if k not in film)


@MODELS.register_module(force=True)
class _TermMethod(BaseCrossTaskMethod):
    """A method with a per-task term (before the balancer) and a loss after
    it; both read ``value`` (a parameter, so gradients can be checked)."""
    default_name = 'termy'

    def __init__(self, tasks=(), value=3.0, **kw):
        super().__init__(**kw)
        self.value = torch.nn.Parameter(torch.tensor(float(value)))

    def loss(self, bundle):
        return {f'{self.name}.loss_after': 0.5 * self.value}

    def task_terms(self, bundle):
        return {'depth': {'loss_termy': self.value * 1.0}}


def test_task_terms_join_the_task_before_the_balancer():
    cfg = _cfg([dict(type='_TermMethod', value=3.0)])
    cfg['balancer'] = dict(type='UncertaintyWeighting', init_log_var=0.4)
    model = _build(cfg)
    model.train()
    data = model.data_preprocessor(_data(), training=True)
    losses = model(**data, mode='loss')
    # weighted like the task: 0.5 * exp(-s) * 3.0, logged under the task
    expected = 0.5 * torch.exp(torch.tensor(-0.4)) * 3.0
    assert losses['depth.loss_termy'].item() == pytest.approx(
        expected.item(), rel=1e-6)
    # the post-balancer loss is unweighted
    assert losses['termy.loss_after'].item() == pytest.approx(1.5)
    # the regulariser of the balancer still follows the SUPERVISED flags:
    # normal is unlabelled in this batch, so it has none
    assert 'depth.loss_uncertainty' in losses
    assert 'normal.loss_uncertainty' not in losses
    # the balancer's log-variance of depth gets a gradient from the term
    sum(v for k, v in losses.items() if k == 'depth.loss_termy').backward()
    assert model.balancer.log_vars.grad[1].item() == pytest.approx(
        -expected.item(), rel=1e-6)


def test_task_terms_must_name_tasks_and_losses():
    class Bad(_TermMethod):
        def task_terms(self, bundle):
            return {'edge': {'loss_x': self.value}}

    class BadKey(_TermMethod):
        def task_terms(self, bundle):
            return {'depth': {'x': self.value}}
    from mtpsl.models.methods.base import MethodBundle
    bundle = MethodBundle(tasks=TASKS, view1=None)
    with pytest.raises(KeyError, match="'edge' is not a task"):
        Bad().collect(bundle)
    with pytest.raises(KeyError, match="must start with 'loss_'"):
        BadKey().collect(bundle)


def test_method_generator_depends_on_seed_iter_rank_name_only():
    from mtpsl.models.methods.base import MethodBundle

    def draw(seed=0, it=5, rank=0, name='a'):
        b = MethodBundle(tasks=TASKS, view1=None, iter=it, seed=seed,
                         rank=rank)
        return torch.rand(4, generator=b.generator(name))
    torch.manual_seed(123)
    first = draw()
    torch.manual_seed(999)  # the global RNG plays no part
    assert torch.equal(draw(), first)
    for other in (draw(seed=1), draw(it=6), draw(rank=1), draw(name='b')):
        assert not torch.equal(other, first)
