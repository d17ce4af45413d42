"""Two iterations of XTasC-Net through tools/train.py on tiny data: the
checkpoint holds the TTNets, the log the group terms; the same under
torchrun with two processes (DDP, no find_unused_parameters), whose ranks
end with the same weights."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from conftest import REPO, free_port

XTASC_NARROW = osp.join(
    REPO, 'configs', 'xtasc',
    'xtasc_resnet18-w16-unet_1xb8-600it_procedural-onelabel-96x128.py')

# each rank saves its own weights at the end of training
RANK_HOOK = '''
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mtpsl.registry import HOOKS


@HOOKS.register_module(force=True)
class _SaveRankWeights(Hook):
    def after_train(self, runner):
        model = getattr(runner.model, 'module', runner.model)
        torch.save({k: v.detach().cpu() for k, v in
                    model.state_dict().items()},
                   f'{runner.work_dir}/rank{get_rank()}.pth')
'''


def _config(data_root, tmp_path, batch_size=2):
    """A tiny XTasC config (widths 4-32, 2 iterations, onelabel)."""
    work = tmp_path / 'work'
    (tmp_path / '_xtasc_rank_hook.py').write_text(RANK_HOOK)
    taps = (4, 4, 8, 16, 32)
    lines = [
        f'_base_ = [{XTASC_NARROW!r}]',
        f'work_dir = {str(work)!r}',
        "custom_imports = dict(imports=['_xtasc_rank_hook'], "
        "allow_failed_imports=False)",
        "custom_hooks = [dict(type='_SaveRankWeights')]",
        'model = dict(backbone=dict(stem_channels=4, base_channels=4), '
        f'heads=dict(sem_seg=dict(in_channels={taps}, channels=8), '
        f'depth=dict(in_channels={taps}, channels=8)), methods=['
        "dict(type='XTasC', num_classes=13, loss_weight=0.01, "
        "down_channels=(4, 8, 8), up_channels=(8, 4, 4))])",
        'train_cfg = dict(max_iters=2, val_interval=2)',
        'default_hooks = dict(logger=dict(interval=1), '
        'checkpoint=dict(interval=2))',
    ]
    for loader, bs in (('train_dataloader', batch_size),
                       ('val_dataloader', 2), ('test_dataloader', 2)):
        lines.append(f'{loader} = dict(batch_size={bs}, num_workers=0, '
                     f'persistent_workers=False, dataset=dict('
                     f'data_root={data_root!r}))')
    config = tmp_path / 'xtasc_tiny.py'
    config.write_text('\n'.join(lines) + '\n')
    return str(config), work


def _run(cmd, tmp_path):
    env = dict(os.environ, PYTHONPATH=f'{REPO}{os.pathsep}{tmp_path}',
               OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]


def test_train_two_iterations_with_xtasc(tiny_procedural_root, tmp_path):
    config, work = _config(tiny_procedural_root, tmp_path)
    _run([sys.executable, 'tools/train.py', config], tmp_path)
    state = torch.load(work / 'iter_2.pth', weights_only=False)['state_dict']
    assert any(k.startswith('methods.xtasc.seg_to_depth.') for k in state)
    assert any(k.startswith('methods.xtasc.depth_to_seg.') for k in state)
    logs = glob.glob(str(work / '*' / 'vis_data' / 'scalars.json'))
    records = [json.loads(line) for line in open(logs[0])]
    train = [r for r in records if 'sem_seg.loss_xtasc' in r]
    assert len(train) == 2
    assert all(r['sem_seg.loss_xtasc'] > 0 and r['depth.loss_xtasc'] > 0
               for r in train)


@pytest.mark.slow
def test_train_xtasc_under_ddp_ranks_agree(tiny_procedural_root, tmp_path):
    config, work = _config(tiny_procedural_root, tmp_path, batch_size=1)
    _run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
          f'--master_port={free_port()}', '--master_addr=127.0.0.1',
          'tools/train.py', config, '--launcher', 'pytorch'], tmp_path)
    state = torch.load(work / 'iter_2.pth', weights_only=False)['state_dict']
    assert any(k.startswith('methods.xtasc.') for k in state)
    ranks = [torch.load(work / f'rank{r}.pth', weights_only=True)
             for r in (0, 1)]
    assert ranks[0].keys() == ranks[1].keys()
    params = {k for k, _ in _named_params(state)}
    for key in params:
        # the weights (BN running stats are per rank by design)
        assert torch.equal(ranks[0][key], ranks[1][key]), key
        # and they are the weights rank 0 checkpointed
        assert torch.equal(ranks[0][key], state[key]), key


def _named_params(state):
    """(key, value) of the learnt weights: BN running statistics left out."""
    skip = ('running_mean', 'running_var', 'num_batches_tracked')
    return [(k, v) for k, v in state.items() if not k.endswith(skip)]
