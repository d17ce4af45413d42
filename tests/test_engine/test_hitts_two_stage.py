"""HiTTs' two stages through the runner: stage 2 makes its pseudo supervision
with the hook when missing, reuses it when the manifest matches, refuses a
changed stage-1 checkpoint naming both hashes, resumes bit for bit, and both
stages run under 2 processes."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from conftest import REPO, free_port

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from _hitts_tiny import (NAIVE1, NAIVE2, STAGE1, STAGE2,  # noqa: E402
                         stage2_extra, write_config)

from mtpsl.apis.config import load_config  # noqa: E402
from mtpsl.datasets import pseudo_store as store  # noqa: E402

pytestmark = pytest.mark.slow


def _train(config, experiment, resume=False, hooks=None, workers=0):
    from mtpsl.engine import MTPSLRunner
    cfg = load_config(config)
    cfg.experiment_name = experiment
    if workers:
        cfg.train_dataloader.update(num_workers=workers,
                                    persistent_workers=False)
    cfg.resume = resume
    if hooks:
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + hooks
    runner = MTPSLRunner.from_cfg(cfg)
    runner.train()
    return runner


@pytest.fixture(scope='module')
def stage1(tiny_procedural_root, tmp_path_factory):
    d = tmp_path_factory.mktemp('hitts_two_stage')
    cfg = write_config(str(d / 's1.py'), STAGE1, tiny_procedural_root,
                       str(d / 's1'), max_iters=4)
    _train(cfg, 's1')
    return cfg, str(d / 's1' / 'iter_4.pth'), str(d / 's1' / 'iter_2.pth'), d


def _stage2(d, root, name, stage1_cfg, ckpt, pseudo, features=True,
            base=STAGE2, joint=True, max_iters=4):
    return write_config(str(d / f'{name}.py'), base, root, str(d / name),
                        max_iters=max_iters, joint=joint,
                        extra=stage2_extra(stage1_cfg, ckpt, pseudo,
                                           features))


def _scalars(work_dir):
    import glob
    import json
    path = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                     'scalars.json')))[-1]
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_stage2_makes_then_reuses_then_refuses(stage1, tiny_procedural_root):
    cfg1, ckpt, other, d = stage1
    pseudo = str(d / 'pseudo')
    cfg2 = _stage2(d, tiny_procedural_root, 's2', cfg1, ckpt, pseudo)
    _train(cfg2, 's2')
    manifest = store.read_manifest(pseudo)
    assert manifest['checkpoint_sha256'] == store.file_sha256(ckpt)
    assert manifest['stride'] == 4
    rows = [r for r in _scalars(str(d / 's2')) if 'loss' in r]
    keys = set().union(*rows)
    assert {'hitts.loss_feat', 'sem_seg.loss_pseudo_ce',
            'depth.loss_pseudo_bin_ce', 'depth.loss_pseudo_l1',
            'normal.loss_pseudo_angle'} <= keys
    assert all(torch.isfinite(torch.tensor(r['loss'])) for r in rows)
    # a second stage-2 run reuses the folder: no entry is rewritten
    stamps = {p: os.stat(osp.join(pseudo, p)).st_mtime_ns
              for p in os.listdir(pseudo)}
    cfg2b = _stage2(d, tiny_procedural_root, 's2b', cfg1, ckpt, pseudo)
    _train(cfg2b, 's2b')
    assert stamps == {p: os.stat(osp.join(pseudo, p)).st_mtime_ns
                      for p in os.listdir(pseudo)}
    # another stage-1 checkpoint with the same folder: an error naming both
    cfg2c = _stage2(d, tiny_procedural_root, 's2c', cfg1, other, pseudo)
    with pytest.raises(ValueError) as err:
        _train(cfg2c, 's2c')
    assert store.file_sha256(ckpt) in str(err.value)
    assert store.file_sha256(other) in str(err.value)


def test_stage2_with_loader_workers_makes_its_data_first(
        stage1, tiny_procedural_root):
    """With loader workers, the pseudo supervision exists before the
    training loop starts them: MMEngine's loop starts its iterator (and
    its workers' first reads) when it is built, before ``before_run``; a
    fresh folder then failed on the first batch ("no pseudo supervision
    for image ...", the benchmark's first HiTTs stage-2 run)."""
    cfg1, ckpt, _, d = stage1
    pseudo = str(d / 'pseudo_workers')
    cfg2 = _stage2(d, tiny_procedural_root, 's2w', cfg1, ckpt, pseudo,
                   max_iters=2)
    _train(cfg2, 's2w', workers=2)
    assert store.read_manifest(pseudo)['checkpoint_sha256'] == \
        store.file_sha256(ckpt)
    assert osp.isfile(osp.join(str(d / 's2w'), 'iter_2.pth'))


def test_naive_pseudo_labels_stage2_trains(tiny_procedural_root, tmp_path):
    cfg1 = write_config(str(tmp_path / 'n1.py'), NAIVE1,
                        tiny_procedural_root, str(tmp_path / 'n1'),
                        max_iters=2, joint=False)
    _train(cfg1, 'n1')
    pseudo = str(tmp_path / 'pseudo')
    cfg2 = _stage2(tmp_path, tiny_procedural_root, 'n2', cfg1,
                   str(tmp_path / 'n1' / 'iter_2.pth'), pseudo,
                   features=False, base=NAIVE2, joint=False, max_iters=2)
    _train(cfg2, 'n2')
    assert store.read_manifest(pseudo)['stride'] is None
    entry = next(iter(sorted(os.listdir(pseudo))))
    assert not [k for k in store.read_entry(pseudo, entry[:-4])
                if k.startswith('feat_')]


@pytest.mark.parametrize('ablation', ['lp_only', 'lf_only'])
def test_loss_ablations_train_a_step(stage1, tiny_procedural_root, ablation):
    cfg1, ckpt, _, d = stage1
    pseudo = str(d / 'pseudo_ablation')
    flags = (dict(pseudo_labels=True, features=False) if ablation ==
             'lp_only' else dict(pseudo_labels=False, features=True))
    cfg2 = _stage2(d, tiny_procedural_root, ablation, cfg1, ckpt, pseudo,
                   max_iters=1)
    with open(cfg2, 'a') as f:  # model.methods[0] flags, merged into base
        f.write(f'model.update(methods=[dict(type="HiTTsPseudoSupervision", '
                f'losses={{{{_base_.task_losses}}}}, bins=dict(depth='
                f'{{{{_base_.depth_bins}}}}, normal={{{{_base_.normal_bins}}}}'
                f'), pseudo_labels={flags["pseudo_labels"]}, '
                f'features={flags["features"]})])\n')
    _train(cfg2, ablation)
    keys = set().union(*[r for r in _scalars(str(d / ablation))
                         if 'loss' in r])
    assert ('sem_seg.loss_pseudo_ce' in keys) == (ablation == 'lp_only')


def test_stage2_resumes_bit_for_bit(stage1, tiny_procedural_root, tmp_path):
    from test_resume import _InterruptAt  # noqa: F401 (registers the hook)
    cfg1, ckpt, _, d = stage1
    pseudo = str(d / 'pseudo_resume')
    straight = _stage2(tmp_path, tiny_procedural_root, 'straight', cfg1,
                       ckpt, pseudo, max_iters=6)
    _train(straight, 'straight')
    broken = _stage2(tmp_path, tiny_procedural_root, 'broken', cfg1, ckpt,
                     pseudo, max_iters=6)
    with pytest.raises(KeyboardInterrupt):
        _train(broken, 'broken_1', hooks=[dict(type='_InterruptAt',
                                               at_iter=4)])
    _train(broken, 'broken_2', resume=True)
    a = torch.load(tmp_path / 'straight' / 'iter_6.pth', map_location='cpu',
                   weights_only=False)['state_dict']
    b = torch.load(tmp_path / 'broken' / 'iter_6.pth', map_location='cpu',
                   weights_only=False)['state_dict']
    assert a.keys() == b.keys()
    assert any(k.startswith('joint_stage.') for k in a)
    for k in a:
        assert torch.equal(a[k], b[k]), k


def _run(args, nproc):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    cmd = [sys.executable, '-m', 'torch.distributed.run',
           f'--nproc_per_node={nproc}', f'--master_port={free_port()}',
           '--master_addr=127.0.0.1'] + args + ['--launcher', 'pytorch']
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout + out.stderr


def test_both_stages_under_two_processes(tiny_procedural_root, tmp_path):
    train = osp.join(REPO, 'tools', 'train.py')
    cfg1 = write_config(str(tmp_path / 'd1.py'), STAGE1,
                        tiny_procedural_root, str(tmp_path / 'd1'),
                        max_iters=2)
    _run([train, cfg1], nproc=2)
    ckpt = str(tmp_path / 'd1' / 'iter_2.pth')
    pseudo = str(tmp_path / 'pseudo')
    cfg2 = _stage2(tmp_path, tiny_procedural_root, 'd2', cfg1, ckpt, pseudo,
                   max_iters=2)
    log = _run([train, cfg2], nproc=2)
    assert osp.isfile(tmp_path / 'd2' / 'iter_2.pth')
    # every rank made its shard; together they cover the training set
    from mmengine.registry import init_default_scope

    from mtpsl.engine.pseudo_supervision import stage1_dataset
    init_default_scope('mtpsl')
    ds = stage1_dataset(load_config(cfg1))
    ids = [str(ds.get_data_info(i)['img_id']) for i in range(len(ds))]
    assert not store.missing_ids(pseudo, ids)
    # rank 0 (the one that logs) made only its half
    assert "'shard': '0/2'" in log
    assert f"'images': {len(ids[0::2])}" in log
