"""Two iterations of MTL + XTC through tools/train.py on tiny data, with the
loss ramp-up hook; the checkpoint holds the mapper, the log its losses. The
same under torchrun with two processes (DDP, no find_unused_parameters)."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from conftest import REPO, free_port

XTC_DEMO = osp.join(REPO, 'configs', 'xtc',
                    'xtc_segnet-w16_1xb8-600it_procedural-onelabel-96x128.py')


def _xtc_config(data_root, tmp_path, batch_size=2, extra_hooks=''):
    """A tiny XTC config (widths 4-8, 2 iterations, linear ramp-up)."""
    work = tmp_path / 'work'
    lines = [
        f'_base_ = [{XTC_DEMO!r}]',
        f'work_dir = {str(work)!r}',
        'w = (4, 8, 8, 8, 8)',
        "model = dict(backbone=dict(widths=w), heads=dict("
        "sem_seg=dict(in_channels=4), depth=dict(in_channels=4), "
        "normal=dict(in_channels=4)), methods=[dict(type='XTC', "
        "num_classes=dict(sem_seg=13), feat_channels=8, "
        "mapper=dict(widths=w), loss_weight=2.0)])",
        'train_cfg = dict(max_iters=2, val_interval=2)',
        'default_hooks = dict(logger=dict(interval=1), '
        'checkpoint=dict(interval=2))',
        "custom_hooks = [dict(type='LossRampUpHook', "
        "target='methods.xtc.loss_weight', schedule='linear', end=2)"
        f"{extra_hooks}]",
    ]
    for loader, bs in (('train_dataloader', batch_size),
                       ('val_dataloader', 2), ('test_dataloader', 2)):
        lines.append(f'{loader} = dict(batch_size={bs}, num_workers=0, '
                     f'persistent_workers=False, dataset=dict('
                     f'data_root={data_root!r}))')
    config = tmp_path / 'xtc_tiny.py'
    config.write_text('\n'.join(lines) + '\n')
    return str(config), work


def _run(cmd):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1',
               MKL_NUM_THREADS='1')
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]


def test_train_two_iterations_with_xtc(tiny_procedural_root, tmp_path):
    config, work = _xtc_config(tiny_procedural_root, tmp_path)
    _run([sys.executable, 'tools/train.py', config])
    state = torch.load(work / 'iter_2.pth', weights_only=False)['state_dict']
    assert any(k.startswith('methods.xtc.mapper.') for k in state)
    logs = glob.glob(str(work / '*' / 'vis_data' / 'scalars.json'))
    records = [json.loads(line) for line in open(logs[0])]
    train = [r for r in records if 'xtc.loss_con' in r]
    assert len(train) == 2
    # linear ramp over 2 iterations: weight 0 at iteration 0, 1.0 at 1
    assert train[0]['xtc.loss_con'] == 0.0
    assert train[1]['xtc.loss_con'] > 0.0


@pytest.mark.slow
def test_train_xtc_under_ddp_two_processes(tiny_procedural_root, tmp_path):
    config, work = _xtc_config(tiny_procedural_root, tmp_path, batch_size=1,
                               extra_hooks=", dict(type='RankAgreementHook')")
    _run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
          f'--master_port={free_port()}', '--master_addr=127.0.0.1',
          'tools/train.py', config, '--launcher', 'pytorch'])
    state = torch.load(work / 'iter_2.pth', weights_only=False)['state_dict']
    assert any(k.startswith('methods.xtc.mapper.') for k in state)
    # The ranks agree: each rank's parameters after training, bit for bit,
    # equal the other rank's and the checkpoint's (written by rank 0).
    from mtpsl.engine.hooks.rank_agreement_hook import tensor_digests
    ranks = [json.load(open(work / f'param_digests_rank{r}.json'))
             for r in (0, 1)]
    assert ranks[0] == ranks[1]
    saved = tensor_digests({name: state[name] for name in ranks[0]})
    assert any(k.startswith('methods.xtc.mapper.') for k in ranks[0])
    assert saved == ranks[0]
