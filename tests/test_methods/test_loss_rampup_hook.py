"""LossRampUpHook: schedules by hand, the target check, statelessness."""
import math
from types import SimpleNamespace

import pytest
import torch

import mtpsl  # noqa: F401
from mtpsl.engine.hooks import LossRampUpHook
from mtpsl.engine.hooks.loss_rampup_hook import rampup_factor
from mtpsl.models.methods import BaseCrossTaskMethod


def test_linear_by_hand():
    assert rampup_factor(0, 'linear', 0, 10) == 0.0
    assert rampup_factor(5, 'linear', 0, 10) == 0.5
    assert rampup_factor(10, 'linear', 0, 10) == 1.0
    assert rampup_factor(99, 'linear', 0, 10) == 1.0
    assert rampup_factor(3, 'linear', 4, 8) == 0.0      # before begin
    assert rampup_factor(6, 'linear', 4, 8) == 0.5


def test_sigmoid_by_hand():
    # exp(-5 (1 - t)^2): t=0 -> e^-5, t=0.5 -> e^-1.25, t=1 -> 1
    assert rampup_factor(0, 'sigmoid', 0, 10) == pytest.approx(
        0.006737947, abs=1e-9)
    assert rampup_factor(5, 'sigmoid', 0, 10) == pytest.approx(
        math.exp(-1.25))                                # 0.2865048
    assert rampup_factor(10, 'sigmoid', 0, 10) == 1.0
    assert rampup_factor(2, 'sigmoid', 5, 10) == 0.0


def test_step_by_hand():
    assert rampup_factor(9, 'step', 0, 10) == 0.0
    assert rampup_factor(10, 'step', 0, 10) == 1.0


def test_bad_arguments():
    with pytest.raises(ValueError, match='unknown schedule'):
        LossRampUpHook('methods.xtc.loss_weight', schedule='cosine')
    with pytest.raises(ValueError, match='must be greater'):
        LossRampUpHook('methods.xtc.loss_weight', begin=5, end=5)


def _runner(weight=2.0, it=0):
    from mmengine.model import ModuleDict
    model = torch.nn.Module()
    model.methods = ModuleDict({'xtc': BaseCrossTaskMethod(
        name='xtc', loss_weight=weight)})
    return SimpleNamespace(model=model, iter=it)


def test_sets_weight_from_iteration_only():
    hook = LossRampUpHook('methods.xtc.loss_weight', schedule='linear',
                          begin=0, end=100)
    runner = _runner(weight=2.0)
    hook.before_train(runner)                  # full weight: the config's 2.0
    for it, expected in ((0, 0.0), (50, 1.0), (25, 0.5), (100, 2.0)):
        runner.iter = it
        hook.before_train_iter(runner, 0)
        assert runner.model.methods['xtc'].loss_weight == pytest.approx(
            expected)
    # a "resumed" run: a fresh hook and model at iteration 25
    resumed, runner2 = LossRampUpHook('methods.xtc.loss_weight',
                                      schedule='linear', end=100), _runner()
    resumed.before_train(runner2)
    runner2.iter = 25
    resumed.before_train_iter(runner2, 0)
    assert runner2.model.methods['xtc'].loss_weight == pytest.approx(0.5)


def test_explicit_max_weight_and_nested_path():
    runner = _runner(weight=9.0, it=10)
    runner.model = SimpleNamespace(module=runner.model)  # not a wrapper
    hook = LossRampUpHook('module.methods.xtc.loss_weight', schedule='step',
                          end=10, max_weight=3.0)
    hook.before_train(runner)
    hook.before_train_iter(runner, 0)
    assert runner.model.module.methods['xtc'].loss_weight == 3.0


def test_missing_target_named_in_error():
    hook = LossRampUpHook('methods.ccr.loss_weight')
    with pytest.raises(AttributeError,
                       match=r"'methods.ccr.loss_weight'.*no 'methods.ccr'"):
        hook.before_train(_runner())
    hook = LossRampUpHook('methods.xtc.weight')
    with pytest.raises(AttributeError,
                       match=r"'methods.xtc.weight'.*no attribute 'weight'"):
        hook.before_train(_runner())
