"""A method's parameters on their own learning-rate schedule."""
import pytest
import torch
import torch.nn as nn
from mmengine.optim import build_optim_wrapper

from mtpsl.registry import PARAM_SCHEDULERS


class _Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(2, 2)
        self.methods = nn.ModuleDict(dict(xtc=nn.Linear(2, 1)))


def _wrapper(model, constructor='NamedParamGroupsConstructor'):
    from mmengine.registry import init_default_scope
    init_default_scope('mtpsl')  # as a Runner does for the configs
    return build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4),
        constructor=constructor,
        paramwise_cfg=dict(custom_keys={'methods.xtc': dict(lr_mult=10.)})))


def _lrs(optim):
    return {g['param_names'][0].split('.')[0]: g['lr']
            for g in optim.param_groups}


def test_network_and_mapper_halve_on_their_own_steps():
    optim = _wrapper(_Model()).optimizer
    assert _lrs(optim) == {'backbone': 1e-4, 'methods': 1e-3}
    net = PARAM_SCHEDULERS.build(dict(
        type='GroupStepLR', optimizer=optim, step_size=4, gamma=0.5,
        by_epoch=False, prefixes=['methods.'], exclude=True))
    mapper = PARAM_SCHEDULERS.build(dict(
        type='GroupStepLR', optimizer=optim, step_size=3, gamma=0.5,
        by_epoch=False, prefixes=['methods.']))
    seen = []
    for _ in range(6):
        optim.step()
        net.step()
        mapper.step()
        lrs = _lrs(optim)
        seen.append((lrs['backbone'], lrs['methods']))
    # iterations 1..6: network halves at 4, mapper at 3 and 6
    expected = [(1e-4, 1e-3), (1e-4, 1e-3), (1e-4, 5e-4),
                (5e-5, 5e-4), (5e-5, 5e-4), (5e-5, 2.5e-4)]
    assert [v for pair in seen for v in pair] == pytest.approx(
        [v for pair in expected for v in pair])


def test_schedules_built_on_the_wrapper_as_a_runner_does():
    # the Runner gives schedulers the OptimWrapper, whose param_groups end
    # with MMEngine's parameter-less base group: it follows the network
    wrapper = _wrapper(_Model())
    net = PARAM_SCHEDULERS.build(dict(
        type='GroupStepLR', optimizer=wrapper, step_size=2, gamma=0.5,
        by_epoch=False, prefixes=['methods.'], exclude=True))
    mapper = PARAM_SCHEDULERS.build(dict(
        type='GroupStepLR', optimizer=wrapper, step_size=1, gamma=0.5,
        by_epoch=False, prefixes=['methods.']))
    for _ in range(2):
        wrapper.optimizer.step()
        net.step()
        mapper.step()
    assert wrapper.param_groups[-1]['param_names'] == ['<base>']
    assert [g['lr'] for g in wrapper.param_groups] == pytest.approx(
        [5e-5, 5e-5, 2.5e-4, 2.5e-4, 5e-5])


def test_groups_without_names_are_a_clear_error():
    optim = _wrapper(_Model(), 'DefaultOptimWrapperConstructor').optimizer
    with pytest.raises(KeyError, match='NamedParamGroupsConstructor'):
        PARAM_SCHEDULERS.build(dict(
            type='GroupStepLR', optimizer=optim, step_size=1, by_epoch=False,
            prefixes=['methods.']))


def test_mixed_group_is_refused():
    model = _Model()
    optim = torch.optim.Adam(model.parameters(), lr=1.0)
    optim.param_groups[0]['param_names'] = [n for n, _ in
                                            model.named_parameters()]
    with pytest.raises(ValueError, match='mixes'):
        PARAM_SCHEDULERS.build(dict(
            type='GroupStepLR', optimizer=optim, step_size=1, by_epoch=False,
            prefixes=['methods.']))
