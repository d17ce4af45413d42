"""Two iterations of MTL + XTC through tools/train.py on tiny data, with the
loss ramp-up hook; the checkpoint holds the mapper, the log its losses. The
same under torchrun with two processes (DDP, no find_unused_parameters)."""
import glob
import json
import os.path as osp
import sys

import pytest
import torch
from conftest import (REPO, assert_ranks_agree, run_checked, tiny_train_config,
                      torchrun)

XTC_DEMO = osp.join(REPO, 'configs', 'xtc',
                    'xtc_segnet-w16_1xb8-600it_procedural-onelabel-96x128.py')


def _xtc_config(data_root, tmp_path, batch_size=2):
    """A tiny XTC config (widths 4-8, 2 iterations, linear ramp-up)."""
    work = tmp_path / 'work'
    config = tiny_train_config(
        data_root, str(work), max_iters=2, batch_size=batch_size,
        checkpoint_interval=2, base=XTC_DEMO,
        methods="[dict(type='XTC', num_classes=dict(sem_seg=13), "
        'feat_channels=8, mapper=dict(widths=segnet_widths), '
        'loss_weight=2.0)]',
        custom_hooks=[dict(type='LossRampUpHook',
                           target='methods.xtc.loss_weight',
                           schedule='linear', end=2),
                      dict(type='RankAgreementHook')])
    return config, work


def test_train_two_iterations_with_xtc(tiny_procedural_root, tmp_path):
    config, work = _xtc_config(tiny_procedural_root, tmp_path)
    run_checked([sys.executable, 'tools/train.py', config])
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
    config, work = _xtc_config(tiny_procedural_root, tmp_path, batch_size=1)
    run_checked(torchrun('tools/train.py', config))
    # The ranks agree: each rank's parameters after training, bit for bit,
    # equal the other rank's and the checkpoint's (written by rank 0).
    assert_ranks_agree(work, 'methods.xtc.mapper.', iters=2)
