"""MTL + CCR through tools/train.py on tiny data with the linear ramp-up of
lambda_ctr; the same under torchrun with two processes (DDP, no
find_unused_parameters, unshared projectors of which CTS uses only some),
whose ranks end with equal parameters."""
import glob
import json
import os.path as osp
import sys

import pytest
import torch
from conftest import (REPO, assert_ranks_agree, run_checked, tiny_train_config,
                      torchrun)

CCR_DEMO = osp.join(REPO, 'configs', 'ccr',
                    'ccr_segnet-w16_1xb8-600it_procedural-onelabel-96x128.py')


def _ccr_config(data_root, tmp_path, batch_size=2, iters=2,
                sharing='Ts'):
    """A tiny CCR config (widths 4-8, linear ramp-up over 2 iterations)."""
    work = tmp_path / 'work'
    config = tiny_train_config(
        data_root, str(work), max_iters=iters, batch_size=batch_size,
        checkpoint_interval=iters, base=CCR_DEMO,
        methods="[dict(type='CCR', feat_channels=4, proj_channels=8, "
        f"feature_stride=2, projector_sharing={sharing!r})]",
        custom_hooks=[dict(type='LossRampUpHook',
                           target='methods.ccr.loss_weight',
                           schedule='linear', end=2),
                      dict(type='RankAgreementHook')])
    return config, work


def test_train_two_iterations_with_ccr(tiny_procedural_root, tmp_path):
    config, work = _ccr_config(tiny_procedural_root, tmp_path)
    run_checked([sys.executable, 'tools/train.py', config])
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
    run_checked(torchrun('tools/train.py', config))
    # the ranks end with the same parameters, rank 0 checkpointed them
    state = assert_ranks_agree(work, 'methods.ccr.projectors.', iters=3)
    assert sum(k.startswith('methods.ccr.projectors.') for k in state) > 0
