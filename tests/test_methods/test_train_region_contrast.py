"""Region contrast through tools/train.py on tiny data with oracle regions
and the loss ramp-up; under torchrun with two processes (DDP) the ranks end
with the same bank and weights. A model trained with it predicts like the
plain model (the method never runs at inference)."""
import copy
import glob
import json
import os.path as osp
import sys

import pytest
import torch
from conftest import (REPO, assert_ranks_agree, run_checked, tiny_train_config,
                      torchrun)

RC_DEMO = osp.join(REPO, 'configs', 'region_contrast',
                   'rc-oracle_segnet-w16_1xb8-600it_procedural-onelabel-'
                   '96x128.py')


def _config(data_root, tmp_path, batch_size=2):
    work = tmp_path / 'work'
    config = tiny_train_config(
        data_root, str(work), max_iters=2, batch_size=batch_size,
        checkpoint_interval=2, base=RC_DEMO,
        methods="[dict(type='RegionContrast', num_classes=dict(sem_seg=13), "
        'mapper=dict(widths=(4, 4, 8, 8), convs_per_stage=1), '
        'bank_size=64, loss_weight=0.075)]',
        custom_hooks=[dict(type='LossRampUpHook',
                           target='methods.rc.loss_weight',
                           schedule='linear', end=2),
                      # the gathered bank must be the same on every rank
                      dict(type='RankAgreementHook',
                           buffers=('methods.rc.bank.', ))])
    return config, work


def test_train_two_iterations_with_region_contrast(tiny_procedural_root,
                                                   tmp_path):
    config, work = _config(tiny_procedural_root, tmp_path)
    run_checked([sys.executable, 'tools/train.py', config])
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
    run_checked(torchrun('tools/train.py', config))
    # weights and the gathered bank equal on both ranks and in rank 0's
    # checkpoint
    state = assert_ranks_agree(work, 'methods.rc.bank.', iters=2)
    assert int(state['methods.rc.bank.filled']) > 0
    assert any(k.startswith('methods.rc.mapper.') for k in state)


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
