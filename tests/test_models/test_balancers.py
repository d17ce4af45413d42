"""Loss balancers: fixed weights and uncertainty weighting under partial
labels."""
import math

import pytest
import torch

import mtpsl  # noqa: F401
from mtpsl.models.balancers import FixedWeights, UncertaintyWeighting

TASKS = ('sem_seg', 'depth', 'normal')


def _task_losses(values, requires_grad=False):
    return {t: {f'loss_{t}': torch.tensor(v, requires_grad=requires_grad)}
            for t, v in zip(TASKS, values)}


def test_fixed_weights_values():
    balancer = FixedWeights(TASKS, weights=dict(depth=2.0, normal=0.0))
    out = balancer(_task_losses([1.5, 0.25, 4.0]), dict.fromkeys(TASKS, True))
    assert set(out) == {'sem_seg.loss_sem_seg', 'depth.loss_depth',
                        'normal.loss_normal'}
    assert out['sem_seg.loss_sem_seg'].item() == 1.5  # default weight 1
    assert out['depth.loss_depth'].item() == 0.5
    assert out['normal.loss_normal'].item() == 0.0


def test_fixed_weights_errors():
    with pytest.raises(KeyError, match='edge'):
        FixedWeights(TASKS, weights=dict(edge=1.0))
    with pytest.raises(ValueError, match='depth'):
        FixedWeights(TASKS, weights=dict(depth=-1.0))


def test_uncertainty_matches_formula():
    balancer = UncertaintyWeighting(TASKS)
    # The release's initial log-variance.
    assert torch.all(balancer.log_vars.detach() == -0.5)
    s = [0.2, -0.3, 1.0]
    with torch.no_grad():
        balancer.log_vars.copy_(torch.tensor(s))
    losses = [2.0, 0.5, 0.8]
    out = balancer(_task_losses(losses), dict.fromkeys(TASKS, True))
    for t, st, lt in zip(TASKS, s, losses):
        assert out[f'{t}.loss_{t}'].item() == pytest.approx(
            math.exp(-st) / 2 * lt, rel=1e-6)
        assert out[f'{t}.loss_uncertainty'].item() == pytest.approx(st / 2)
    total = sum(out.values())
    assert total.item() == pytest.approx(
        sum(math.exp(-st) / 2 * lt + st / 2 for st, lt in zip(s, losses)),
        rel=1e-6)


def test_uncertainty_regulariser_absent_for_unlabelled_task():
    balancer = UncertaintyWeighting(TASKS)
    s = [0.2, -0.3, 1.0]
    with torch.no_grad():
        balancer.log_vars.copy_(torch.tensor(s))
    # normal unlabelled: its loss is the exact graph zero of the losses.
    pred = torch.randn(3, requires_grad=True)
    task_losses = _task_losses([2.0, 0.5, 0.0])
    task_losses['normal'] = {'loss_normal': pred.sum() * 0.0}
    labelled = dict(sem_seg=True, depth=True, normal=False)
    out = balancer(task_losses, labelled)
    assert set(out) == {'sem_seg.loss_sem_seg', 'sem_seg.loss_uncertainty',
                        'depth.loss_depth', 'depth.loss_uncertainty',
                        'normal.loss_normal'}
    sum(out.values()).backward()
    grad = balancer.log_vars.grad
    # d/ds [exp(-s)/2 * L + s/2] = -exp(-s)/2 * L + 1/2
    assert grad[0].item() == pytest.approx(-math.exp(-0.2) / 2 * 2.0 + 0.5,
                                           rel=1e-6)
    assert grad[1].item() == pytest.approx(-math.exp(0.3) / 2 * 0.5 + 0.5,
                                           rel=1e-6)
    assert grad[2].item() == 0.0
