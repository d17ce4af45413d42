"""MTL + CCR through tools/train.py on tiny data with the linear ramp-up of
lambda_ctr; the same under torchrun with two processes (DDP, no
find_unused_parameters, unshared projectors of which CTS uses only some),
whose ranks end with equal parameters."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from conftest import REPO, free_port

CCR_DEMO = osp.join(REPO, 'configs', 'ccr',
                    'ccr_segnet-w16_1xb8-600it_procedural-onelabel-96x128.py')

DUMP_HOOK = '''
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mtpsl.registry import HOOKS


@HOOKS.register_module()
class RankParamsDump(Hook):
    """Each rank writes its parameters at the end of training."""

    def after_train(self, runner):
        model = getattr(runner.model, 'module', runner.model)
        torch.save({k: v.detach().cpu() for k, v in model.named_parameters()},
                   f'{runner.work_dir}/params_rank{get_rank()}.pth')
'''


def _ccr_config(data_root, tmp_path, batch_size=2, iters=2,
                sharing='Ts'):
    """A tiny CCR config (widths 4-8, linear ramp-up over 2 iterations)."""
    work = tmp_path / 'work'
    (tmp_path / 'ccr_rank_dump.py').write_text(DUMP_HOOK)
    lines = [
        f'_base_ = [{CCR_DEMO!r}]',
        f'work_dir = {str(work)!r}',
        "custom_imports = dict(imports=['ccr_rank_dump'], "
        'allow_failed_imports=False)',
        'w = (4, 8, 8, 8, 8)',
        "model = dict(backbone=dict(widths=w), heads=dict("
        "sem_seg=dict(in_channels=4), depth=dict(in_channels=4), "
        "normal=dict(in_channels=4)), methods=[dict(type='CCR', "
        f"feat_channels=4, proj_channels=8, feature_stride=2, "
        f"projector_sharing={sharing!r})])",
        f'train_cfg = dict(max_iters={iters}, val_interval={iters})',
        'default_hooks = dict(logger=dict(interval=1), '
        f'checkpoint=dict(interval={iters}))',
        "custom_hooks = [dict(type='LossRampUpHook', "
        "target='methods.ccr.loss_weight', schedule='linear', end=2), "
        "dict(type='RankParamsDump')]",
    ]
    for loader, bs in (('train_dataloader', batch_size),
                       ('val_dataloader', 2), ('test_dataloader', 2)):
        lines.append(f'{loader} = dict(batch_size={bs}, num_workers=0, '
                     f'persistent_workers=False, dataset=dict('
                     f'data_root={data_root!r}))')
    config = tmp_path / 'ccr_tiny.py'
    config.write_text('\n'.join(lines) + '\n')
    return str(config), work


def _run(cmd, tmp_path):
    env = dict(os.environ, PYTHONPATH=f'{REPO}{os.pathsep}{tmp_path}',
               OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=400)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]


def test_train_two_iterations_with_ccr(tiny_procedural_root, tmp_path):
    config, work = _ccr_config(tiny_procedural_root, tmp_path)
    _run([sys.executable, 'tools/train.py', config], tmp_path)
    state = torch.load(work / 'iter_2.pth', weights_only=False)['state_dict']
    assert any(k.startswith('methods.ccr.projectors.') for k in state)
    logs = glob.glob(str(work / '*' / 'vis_data' / 'scalars.json'))
    records = [json.loads(line) for line in open(logs[0])]
    train = [r for r in records if 'ccr.loss_ctr' in r]
    assert len(train) == 2
    # linear ramp over 2 iterations: weight 0 at iteration 0, 0.5 at 1
    assert train[0]['ccr.loss_ctr'] == 0.0
    assert train[1]['ccr.loss_ctr'] > 0.0


@pytest.mark.slow
def test_train_ccr_under_ddp_two_processes_ranks_agree(
        tiny_procedural_root, tmp_path):
    config, work = _ccr_config(tiny_procedural_root, tmp_path,
                               batch_size=1, iters=3, sharing='unshared')
    _run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
          f'--master_port={free_port()}', '--master_addr=127.0.0.1',
          'tools/train.py', config, '--launcher', 'pytorch'], tmp_path)
    state = torch.load(work / 'iter_3.pth', weights_only=False)['state_dict']
    assert sum(k.startswith('methods.ccr.projectors.') for k in state) > 0
    rank0 = torch.load(work / 'params_rank0.pth', weights_only=True)
    rank1 = torch.load(work / 'params_rank1.pth', weights_only=True)
    assert rank0.keys() == rank1.keys()
    assert any(k.startswith('methods.ccr.') for k in rank0)
    for key, value in rank0.items():
        assert torch.equal(value, rank1[key]), key
    # rank 0's checkpoint holds those same parameters
    for key, value in rank0.items():
        assert torch.equal(state[key], value), key
