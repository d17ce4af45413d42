"""GradNorm and DWA: golden values by hand, partial labels, resume."""
import math

import pytest
import torch

import mtpsl  # noqa: F401
from mtpsl.models.balancers import DynamicWeightAverage, GradNorm, dwa_weights
from mtpsl.registry import MODELS
from mtpsl.structures import MultiTaskDataSample

TASKS = ('sem_seg', 'depth')


def _losses(shared, scale=(3.0, 4.0)):
    """L_sem = 3 W0 (|dL/dW| = 3), L_depth = 4 W1 (|dL/dW| = 4)."""
    return {'sem_seg': {'loss_ce': scale[0] * shared[0]},
            'depth': {'loss_l1': scale[1] * shared[1]}}


def test_gradnorm_golden_and_gradient_routing():
    gn = GradNorm(TASKS, alpha=1.5)
    shared = torch.tensor([1.0, 2.0], requires_grad=True)
    both = dict.fromkeys(TASKS, True)
    # step 1: L(0) = (3, 8) recorded; r = (1, 1); G = (3, 4), target 3.5
    out = gn(_losses(shared), both, shared_params=[shared])
    assert gn.initial_losses.tolist() == [3.0, 8.0]
    assert out['sem_seg.loss_gradnorm'].item() == pytest.approx(0.5)
    assert out['depth.loss_gradnorm'].item() == pytest.approx(0.5)
    # step 2: W0 halved -> L = (1.5, 8); L/L(0) = (0.5, 1), r = (2/3, 4/3)
    shared = torch.tensor([0.5, 2.0], requires_grad=True)
    out = gn(_losses(shared), both, shared_params=[shared])
    target = [3.5 * (2 / 3) ** 1.5, 3.5 * (4 / 3) ** 1.5]
    assert out['sem_seg.loss_gradnorm'].item() == pytest.approx(
        abs(3 - target[0]), rel=1e-5)
    assert out['depth.loss_gradnorm'].item() == pytest.approx(
        abs(4 - target[1]), rel=1e-5)
    assert out['sem_seg.loss_ce'].item() == pytest.approx(1.5)
    sum(out.values()).backward()
    # the shared layer sees only w.detach() * L (w = 1): GradNorm's terms
    # do not leak into the network
    assert shared.grad.tolist() == pytest.approx([3.0, 4.0])
    # the weights see only d L_grad / d w = |dL_t/dW| * sign(G_t - target)
    assert gn.weights.grad.tolist() == pytest.approx([3.0, -4.0])


def test_gradnorm_renormalises_and_keeps_positive():
    gn = GradNorm(TASKS)
    with torch.no_grad():
        gn.weights.copy_(torch.tensor([3.0, -1.0]))
    shared = torch.tensor([1.0, 1.0], requires_grad=True)
    gn(_losses(shared), dict.fromkeys(TASKS, True), shared_params=[shared])
    w = gn.weights.detach()
    assert w.sum().item() == pytest.approx(2.0)
    assert (w > 0).all()


def test_gradnorm_task_absent_from_batch():
    gn = GradNorm(TASKS)
    shared = torch.tensor([1.0, 2.0], requires_grad=True)
    losses = _losses(shared)
    losses['depth'] = {'loss_l1': shared.sum() * 0.0}  # the graph zero
    out = gn(losses, dict(sem_seg=True, depth=False), shared_params=[shared])
    assert gn.initial_losses.tolist() == [3.0, 0.0]  # depth not recorded
    assert all(torch.isfinite(v) for v in out.values())
    # one labelled task: nothing to balance
    assert out['sem_seg.loss_gradnorm'].item() == 0.0
    assert out['depth.loss_gradnorm'].item() == 0.0
    sum(out.values()).backward()
    assert torch.isfinite(gn.weights.grad).all()
    # no task labelled at all
    out = gn({t: {'loss_x': shared.sum() * 0.0} for t in TASKS},
             dict.fromkeys(TASKS, False), shared_params=[shared])
    assert all(torch.isfinite(v) and v.item() == 0.0 for v in out.values())


def _segnet_model(balancer, shared_layer=None):
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='MultiTaskModel', balancer=balancer, shared_layer=shared_layer,
        data_preprocessor=dict(type='MultiTaskDataPreprocessor',
                               size_divisor=32),
        backbone=dict(type='SegNet', widths=(4, 4, 8, 8, 8)),
        heads=dict(sem_seg=dict(type='SegNetTaskHead', in_channels=4,
                                num_classes=3,
                                loss=dict(type='CrossEntropyLoss')),
                   depth=dict(type='SegNetTaskHead', in_channels=4,
                              loss=dict(type='MaskedL1Loss')))))
    model.init_weights()
    return model


def _sample(labelled, seed):
    g = torch.Generator().manual_seed(seed)
    s = MultiTaskDataSample(metainfo=dict(
        label_flags={t: t in labelled for t in TASKS}, img_shape=(32, 32),
        ori_shape=(32, 32)))
    if 'sem_seg' in labelled:
        s.set_gt('sem_seg', torch.randint(0, 3, (1, 32, 32), generator=g))
    if 'depth' in labelled:
        s.set_gt('depth', torch.rand(1, 32, 32, generator=g) + 0.5)
    return s


@pytest.mark.parametrize('labelled', [(TASKS, TASKS), (('sem_seg',), ())])
def test_gradnorm_in_model_watches_shared_layer(labelled):
    model = _segnet_model(dict(type='GradNorm'), 'backbone.decoder.0')
    params = model.shared_params()
    assert all(p is q for p, q in zip(
        params, model.backbone.decoder[0].parameters()))
    # default: the last convolution registered in the backbone
    model.shared_layer = None
    assert model.shared_params()[0] is model.backbone.decoder[4][-1][0].weight
    model.shared_layer = 'backbone.decoder.0'
    g = torch.Generator().manual_seed(0)
    data = model.data_preprocessor(dict(
        inputs=[torch.rand(3, 32, 32, generator=g) for _ in range(2)],
        data_samples=[_sample(labelled[0], 1), _sample(labelled[1], 2)]),
        True)
    losses = model(**data, mode='loss')
    assert {k for k in losses if 'gradnorm' in k} == {
        f'{t}.loss_gradnorm' for t in model.tasks}
    sum(losses.values()).backward()
    assert torch.isfinite(model.balancer.weights.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in params)


def test_dwa_golden():
    dwa = DynamicWeightAverage(TASKS, temperature=2.0, window=1)
    both = dict.fromkeys(TASKS, True)

    def step(a, b):
        return dwa({'sem_seg': {'loss_ce': torch.tensor(a)},
                    'depth': {'loss_l1': torch.tensor(b)}}, both)

    out = step(2.0, 4.0)                       # no history: weights 1
    assert out['sem_seg.loss_ce'].item() == 2.0
    out = step(1.0, 4.0)                       # one window known: still 1
    assert out['depth.loss_l1'].item() == 4.0
    # r = (1/2, 4/4): w = 2 exp(r/2) / sum exp(r/2)
    w_sem = 2 * math.exp(0.25) / (math.exp(0.25) + math.exp(0.5))
    w = dwa.current_weights()
    assert w.tolist() == pytest.approx([w_sem, 2 - w_sem], rel=1e-6)
    out = step(3.0, 5.0)
    assert out['sem_seg.loss_ce'].item() == pytest.approx(3.0 * w_sem)


def test_dwa_window_average_partial_labels_and_zero_history():
    dwa = DynamicWeightAverage(TASKS, window=2)
    for a, b, lab_b in ((2.0, 9.0, False), (4.0, 6.0, True)):
        dwa({'sem_seg': {'loss_ce': torch.tensor(a)},
             'depth': {'loss_l1': torch.tensor(b if lab_b else 0.0)}},
            dict(sem_seg=True, depth=lab_b))
    # averages over labelled iterations only: (2 + 4) / 2 and 6 / 1
    assert dwa.history[0].tolist() == [3.0, 6.0]
    assert torch.isnan(dwa.history[1]).all()
    # a window where depth was never labelled: unknown average, ratio 1
    w = dwa_weights(torch.tensor([1.0, float('nan')]),
                    torch.tensor([2.0, 6.0]), 2.0)
    assert w.tolist() == pytest.approx(
        [2 * math.exp(0.25) / (math.exp(0.25) + math.exp(0.5)),
         2 * math.exp(0.5) / (math.exp(0.25) + math.exp(0.5))])
    # zero losses in the history: finite, neutral
    w = dwa_weights(torch.zeros(2), torch.zeros(2), 2.0)
    assert w.tolist() == [1.0, 1.0]
    w = dwa_weights(torch.tensor([0.0, 5.0]), torch.tensor([0.0, 1e-30]), 2.)
    assert torch.isfinite(w).all() and w.sum().item() == pytest.approx(2.0)


def test_dwa_history_survives_resume():
    dwa = DynamicWeightAverage(TASKS, window=1)
    for a, b in ((2.0, 4.0), (1.0, 4.0)):
        dwa({'sem_seg': {'loss_ce': torch.tensor(a)},
             'depth': {'loss_l1': torch.tensor(b)}}, dict.fromkeys(TASKS,
                                                                  True))
    fresh = DynamicWeightAverage(TASKS, window=1)
    assert fresh.current_weights().tolist() == [1.0, 1.0]
    fresh.load_state_dict(dwa.state_dict())
    assert torch.equal(fresh.current_weights(), dwa.current_weights())
    assert set(dwa.state_dict()) == {'history', 'window_sum',
                                     'window_count', 'window_iter'}


def test_balancers_registered_with_errors():
    for cfg in (dict(type='GradNorm'), dict(type='DynamicWeightAverage')):
        assert MODELS.build(dict(cfg, tasks=TASKS)).tasks == TASKS
    with pytest.raises(ValueError, match='temperature'):
        DynamicWeightAverage(TASKS, temperature=0)
    with pytest.raises(ValueError, match='alpha'):
        GradNorm(TASKS, alpha=-1)
