"""Region contrast through tools/train.py on tiny data with oracle regions
and the loss ramp-up; under torchrun with two processes (DDP) the ranks end
with the same bank and weights. A model trained with it predicts like the
plain model (the method never runs at inference)."""
import copy
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from conftest import REPO, free_port

RC_DEMO = osp.join(REPO, 'configs', 'region_contrast',
                   'rc-oracle_segnet-w16_1xb8-600it_procedural-onelabel-'
                   '96x128.py')
DUMP_HOOK = '''
import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mtpsl.registry import HOOKS


@HOOKS.register_module(force=True)
class DumpRankState(Hook):
    def after_train(self, runner):
        model = getattr(runner.model, 'module', runner.model)
        rank = dist.get_rank() if dist.is_initialized() else 0
        rc = model.methods.rc
        torch.save(dict(bank=rc.bank.state_dict(),
                        film=rc.mapper.film.weight.detach().clone()),
                   f'{runner.work_dir}/rank_{rank}.pt')
'''


def _config(data_root, tmp_path, batch_size=2):
    work = tmp_path / 'work'
    (tmp_path / 'rank_dump.py').write_text(DUMP_HOOK)
    lines = [
        f'_base_ = [{RC_DEMO!r}]',
        f'work_dir = {str(work)!r}',
        "custom_imports = dict(imports=['rank_dump'], "
        'allow_failed_imports=False)',
        'w = (4, 8, 8, 8, 8)',
        "model = dict(backbone=dict(widths=w), heads=dict("
        "sem_seg=dict(in_channels=4), depth=dict(in_channels=4), "
        "normal=dict(in_channels=4)), methods=[dict(type='RegionContrast', "
        "num_classes=dict(sem_seg=13), mapper=dict(widths=(4, 4, 8, 8), "
        "convs_per_stage=1), bank_size=64, loss_weight=0.075)])",
        'train_cfg = dict(max_iters=2, val_interval=2)',
        'default_hooks = dict(logger=dict(interval=1), '
        'checkpoint=dict(interval=2))',
        "custom_hooks = [dict(type='LossRampUpHook', "
        "target='methods.rc.loss_weight', schedule='linear', end=2), "
        "dict(type='DumpRankState')]",
    ]
    for loader, bs in (('train_dataloader', batch_size),
                       ('val_dataloader', 2), ('test_dataloader', 2)):
        lines.append(f'{loader} = dict(batch_size={bs}, num_workers=0, '
                     f'persistent_workers=False, dataset=dict('
                     f'data_root={data_root!r}))')
    config = tmp_path / 'rc_tiny.py'
    config.write_text('\n'.join(lines) + '\n')
    return str(config), work


def _run(cmd, tmp_path):
    env = dict(os.environ, PYTHONPATH=f'{REPO}{os.pathsep}{tmp_path}',
               OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]


def test_train_two_iterations_with_region_contrast(tiny_procedural_root,
                                                   tmp_path):
    config, work = _config(tiny_procedural_root, tmp_path)
    _run([sys.executable, 'tools/train.py', config], tmp_path)
    state = torch.load(work / 'iter_2.pth', weights_only=False)['state_dict']
    assert any(k.startswith('methods.rc.mapper.') for k in state)
    assert int(state['methods.rc.bank.filled']) > 0     # the bank is saved
    logs = glob.glob(str(work / '*' / 'vis_data' / 'scalars.json'))
    train = [json.loads(line) for line in open(logs[0])]
    train = [r for r in train if 'rc.loss_rc' in r]
    assert len(train) == 2
    assert train[0]['rc.loss_rc'] == 0.0    # linear ramp: weight 0 first
    assert train[1]['rc.loss_rc'] > 0.0


@pytest.mark.slow
def test_train_region_contrast_under_ddp_ranks_agree(tiny_procedural_root,
                                                     tmp_path):
    config, work = _config(tiny_procedural_root, tmp_path, batch_size=1)
    _run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
          f'--master_port={free_port()}', '--master_addr=127.0.0.1',
          'tools/train.py', config, '--launcher', 'pytorch'], tmp_path)
    a, b = (torch.load(work / f'rank_{r}.pt') for r in (0, 1))
    assert int(a['bank']['filled']) > 0
    for key in a['bank']:
        assert torch.equal(a['bank'][key], b['bank'][key]), key
    assert torch.equal(a['film'], b['film'])
    state = torch.load(work / 'iter_2.pth', weights_only=False)['state_dict']
    assert torch.equal(state['methods.rc.bank.mean'], a['bank']['mean'])


def test_trained_with_region_contrast_predicts_like_plain_model():
    sys.path.insert(0, osp.dirname(__file__))
    from test_method_interface import _build, _cfg, _data
    rc = dict(type='RegionContrast', num_classes=dict(sem_seg=5),
              mapper=dict(widths=(4, 4, 8, 8), convs_per_stage=1),
              extraction='patch', bank_size=8)
    model = _build(_cfg([rc]))
    optim = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    data = model.data_preprocessor(_data(), training=True)
    losses = model(**data, mode='loss')
    assert losses['rc.loss_rc'].item() > 0
    sum(losses.values()).backward()
    optim.step()
    exported = {k: v for k, v in model.state_dict().items()
                if not k.startswith('methods.')}
    plain = _build(_cfg())
    plain.load_state_dict(exported, strict=True)
    model.eval()
    plain.eval()
    test = model.data_preprocessor(_data(), training=False)
    with torch.no_grad():
        raw_a = model(test['inputs'], mode='tensor')
        raw_b = plain(test['inputs'], mode='tensor')
        pred_a = model(**copy.deepcopy(test), mode='predict')
        pred_b = plain(**copy.deepcopy(test), mode='predict')
    for t in raw_a:
        assert torch.equal(raw_a[t], raw_b[t])
        for sa, sb in zip(pred_a, pred_b):
            assert torch.equal(sa.pred(t), sb.pred(t))
