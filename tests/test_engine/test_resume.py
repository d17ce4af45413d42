"""Resume after an interruption ends where an uninterrupted run ends."""
import os.path as osp

import pytest
import torch
from conftest import RESUME_METHODS, tiny_train_config
from mmengine.hooks import Hook

from mtpsl.apis.config import load_config
from mtpsl.registry import HOOKS


@HOOKS.register_module(force=True)
class _InterruptAt(Hook):
    """Simulates a crash: raises before the given iteration runs."""

    def __init__(self, at_iter: int) -> None:
        self.at_iter = at_iter

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.at_iter:
            raise KeyboardInterrupt(f'simulated interruption at {self.at_iter}')


def _train(config, experiment, resume=False, hooks=None):
    from mtpsl.engine import MTPSLRunner
    cfg = load_config(config)
    cfg.experiment_name = experiment
    cfg.resume = resume
    if hooks:  # added to the config's own (e.g. a loss ramp-up)
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + hooks
    MTPSLRunner.from_cfg(cfg).train()
    return cfg.work_dir


def _state(path):
    return torch.load(path, map_location='cpu', weights_only=False)


@pytest.mark.parametrize('method', sorted(RESUME_METHODS))
def test_resume_matches_uninterrupted_run(tiny_procedural_root, tmp_path,
                                          method):
    base, methods, *model = RESUME_METHODS[method]
    model = model[0] if model else ''
    straight = tiny_train_config(tiny_procedural_root,
                                 str(tmp_path / 'straight'), base=base,
                                 methods=methods, model=model)
    _train(straight, 'straight')
    broken = tiny_train_config(tiny_procedural_root, str(tmp_path / 'broken'),
                               base=base, methods=methods, model=model)
    with pytest.raises(KeyboardInterrupt):
        _train(broken, 'broken_1',
               hooks=[dict(type='_InterruptAt', at_iter=4)])
    wd = str(tmp_path / 'broken')
    assert osp.isfile(osp.join(wd, 'iter_3.pth'))
    assert not osp.isfile(osp.join(wd, 'iter_6.pth'))
    _train(broken, 'broken_2', resume=True)

    # the default hooks write the label regime of every training run
    from mtpsl.datasets.regimes import load_regime
    regime = load_regime(str(tmp_path / 'straight' / 'label_regime.json'))
    if method == 'baseline':
        assert regime.name == 'full' and regime.flags.all()
    else:
        assert regime.name == 'onelabel' and (regime.flags.sum(1) == 1).all()
    a = _state(tmp_path / 'straight' / 'iter_6.pth')
    b = _state(tmp_path / 'broken' / 'iter_6.pth')
    assert a['meta']['iter'] == b['meta']['iter'] == 6
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][key]), key
    # the optimiser state is carried over too (Adam's step count)
    steps_a = [s['step'] for s in a['optimizer']['state'].values()]
    steps_b = [s['step'] for s in b['optimizer']['state'].values()]
    assert [float(s) for s in steps_a] == [float(s) for s in steps_b] == \
        [6.0] * len(steps_a)
    # and the run moved away from its initial weights
    first = _state(tmp_path / 'straight' / 'iter_3.pth')['state_dict']
    assert any(not torch.equal(first[k], v) for k, v in
               a['state_dict'].items())


def test_resume_with_nothing_to_resume_says_so(tiny_procedural_root,
                                               tmp_path):
    config = tiny_train_config(tiny_procedural_root, str(tmp_path / 'empty'))
    with pytest.raises(FileNotFoundError, match='no checkpoint to resume'):
        _train(config, 'empty', resume=True)


def test_checkpoint_that_does_not_fit_lists_keys(tiny_procedural_root,
                                                 tmp_path):
    from mtpsl.engine import MTPSLRunner
    config = tiny_train_config(tiny_procedural_root, str(tmp_path / 'misfit'))
    cfg = load_config(config)
    cfg.experiment_name = 'misfit'
    runner = MTPSLRunner.from_cfg(cfg)
    state = {k: v for k, v in runner.model.state_dict().items()
             if not k.startswith('heads.depth.')}
    state['heads.extra.weight'] = torch.zeros(1)
    path = str(tmp_path / 'misfit.pth')
    torch.save(state, path)
    with pytest.raises(RuntimeError) as err:
        runner.load_checkpoint(path)
    msg = str(err.value)
    assert 'heads.extra.weight' in msg and 'unexpected' in msg
    assert 'heads.depth.cls.weight' in msg and 'missing' in msg
