"""A regime that leaves a task with 0 labelled images is refused (naming the
task and the regime) unless allowed; an unsupervised task's loss is left out
of the log for that step instead of showing 0."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from conftest import REPO, tiny_train_config

from mtpsl.datasets.regimes import RegimeError
from mtpsl.engine.hooks.unsupervised_loss_hook import (UnsupervisedLossLogHook,
                                                       unsupervised_tasks)
from mtpsl.registry import LABEL_REGIMES
from mtpsl.structures import MultiTaskDataSample

IDS = [str(i) for i in range(10)]
TASKS = ['sem_seg', 'depth', 'normal']


@pytest.mark.parametrize('cfg,task', [
    (dict(type='fractions', fractions=dict(depth=0.0)), 'depth'),
    (dict(type='fractions', fractions=dict(normal=0.04)), 'normal'),
    (dict(type='fewshot', task='sem_seg', num_labelled=0), 'sem_seg'),
])
def test_regime_with_an_unlabelled_task_is_refused(cfg, task):
    with pytest.raises(RegimeError, match=f"{cfg['type']}.*'{task}'.*0 "
                       'labelled training images.*allow_unlabelled_tasks'):
        LABEL_REGIMES.build(cfg, default_args=dict(image_ids=IDS,
                                                   tasks=TASKS))


def test_allowed_with_a_warning_and_unchanged_otherwise():
    cfg = dict(type='fractions', fractions=dict(depth=0.0),
               allow_unlabelled_tasks=True)
    with pytest.warns(UserWarning, match="'depth'"):
        regime = LABEL_REGIMES.build(cfg, default_args=dict(
            image_ids=IDS, tasks=TASKS))
    assert regime.counts() == {'sem_seg': 10, 'depth': 0, 'normal': 10}
    ok = LABEL_REGIMES.build(dict(type='fractions', fractions=dict(
        depth=0.1)), default_args=dict(image_ids=IDS, tasks=TASKS))
    assert ok.counts()['depth'] == 1


def _sample(flags):
    s = MultiTaskDataSample()
    s.set_metainfo(dict(label_flags=flags))
    for task, on in flags.items():
        if on:
            s.set_gt(task, torch.zeros(3 if task == 'normal' else 1, 2, 2))
    return s


def test_hook_drops_only_unsupervised_tasks():
    samples = [_sample(dict(sem_seg=True, depth=False, normal=False)),
               _sample(dict(sem_seg=False, depth=False, normal=True))]
    assert unsupervised_tasks(samples, TASKS) == ['depth']
    outputs = {'loss': torch.tensor(1.), 'sem_seg.loss_ce': torch.tensor(1.),
               'depth.loss_l1': torch.tensor(0.), 'depth.loss_x': 0.0,
               'normal.loss_cos': torch.tensor(.5), 'xtc.loss_con': 0.1}
    UnsupervisedLossLogHook().after_train_iter(
        None, 0, dict(data_samples=samples), outputs)
    assert sorted(outputs) == ['loss', 'normal.loss_cos', 'sem_seg.loss_ce',
                               'xtc.loss_con']


def test_hook_keeps_method_terms_of_an_unsupervised_task():
    """A method's term in the task's group (XTasC's consistency) needs no
    label of the task: it stays in the log."""
    from types import SimpleNamespace
    samples = [_sample(dict(sem_seg=True, depth=False, normal=False))]
    model = SimpleNamespace(method_term_keys=frozenset({'depth.loss_xtasc'}))
    runner = SimpleNamespace(model=SimpleNamespace(module=model))
    outputs = {'sem_seg.loss_ce': 1.0, 'depth.loss_l1': 0.0,
               'depth.loss_xtasc': 0.3, 'normal.loss_cos': 0.0}
    UnsupervisedLossLogHook().after_train_iter(
        runner, 0, dict(data_samples=samples), outputs)
    assert sorted(outputs) == ['depth.loss_xtasc', 'sem_seg.loss_ce']


@pytest.mark.slow
def test_training_log_has_no_zero_for_an_unlabelled_task(
        tiny_procedural_root, tmp_path):
    work = tmp_path / 'w'
    config = tiny_train_config(tiny_procedural_root, str(work), max_iters=2)
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    regime = ('train_dataloader.dataset.label_regime.type=fewshot',
              'train_dataloader.dataset.label_regime.task=depth',
              'train_dataloader.dataset.label_regime.num_labelled=0')
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), config,
           '--cfg-options', *regime]
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=400)
    assert out.returncode == 2
    assert "'depth'" in out.stderr and 'fewshot' in out.stderr
    out = subprocess.run(
        cmd + ['train_dataloader.dataset.label_regime.'
               'allow_unlabelled_tasks=True'],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=400)
    assert out.returncode == 0, out.stderr[-3000:]
    scalars = glob.glob(str(work / '*' / 'vis_data' / 'scalars.json'))
    train = [json.loads(line) for line in open(scalars[0])]
    train = [r for r in train if 'sem_seg.loss_ce' in r]
    assert len(train) == 2
    assert all('depth.loss_l1' not in r for r in train)
    assert all(r['normal.loss_cos'] > 0 for r in train)
