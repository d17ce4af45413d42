"""The config check covers dataloaders, datasets, samplers and regimes, and
``--cfg-options`` (unknown top-level keys, file variables, dict values,
wrong types); ``--data-root`` reaches every dataloader."""
import os
import os.path as osp
import subprocess
import sys

import pytest
from conftest import DEMO_CONFIG, REPO, tiny_train_config

from mtpsl.apis import ConfigError, load_config
from mtpsl.apis.config import accepted_keys


@pytest.mark.parametrize('option,message', [
    ('train_dataloader.batch_sizee=3',
     "train_dataloader does not take the key 'batch_sizee'"),
    ('test_dataloader.dataset.tyop=1', "does not take the key 'tyop' "
     r'\(at test_dataloader.dataset.tyop\)'),
    ('val_dataloader.sampler.shufle=True', "DefaultSampler does not take "
     "the key 'shufle'"),
    ('model.heads.depth.in_channels=abc',
     r"in_channels is a number .* \(16\), got str 'abc'"),
    ("model.backbone={'widths':1}", 'dict values are not accepted'),
    ('model.backbone=dict(widths=1)', 'dict values are not accepted'),
    ('model.backbone=3', 'model.backbone is a dict'),
    ('data_rot=/x', "unknown top-level key 'data_rot'"),
    ('data_root=/x', "'data_root' is a variable .* pass --data-root"),
    ('train_cfg.by_epoch=3', "unknown|does not take|True/False"),
])
def test_bad_option_fails_naming_key(option, message):
    with pytest.raises(ConfigError, match=message):
        load_config(DEMO_CONFIG, [option])


def test_regime_keys_are_checked():
    opts = ['train_dataloader.dataset.label_regime.type=fractions',
            'train_dataloader.dataset.label_regime.fractionz=1']
    with pytest.raises(ConfigError, match="fractions does not take the key "
                       "'fractionz'.*it takes: fractions, seed"):
        load_config(DEMO_CONFIG, opts)
    # the builder's injected arguments are not config keys
    assert 'image_ids' not in accepted_keys(
        __import__('mtpsl.registry', fromlist=['LABEL_REGIMES'])
        .LABEL_REGIMES.get('fractions'))


def test_good_options_pass():
    cfg = load_config(DEMO_CONFIG, [
        'train_cfg.max_iters=7', 'work_dir=/tmp/x', 'load_from=None',
        'train_dataloader.batch_size=2', 'model.heads.depth.in_channels=16',
        'test_dataloader.dataset.split=test'])
    assert cfg.train_cfg.max_iters == 7 and cfg.work_dir == '/tmp/x'


def test_data_root_reaches_every_dataloader(tmp_path):
    cfg = load_config(DEMO_CONFIG, data_root=str(tmp_path))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[key].dataset.data_root == str(tmp_path), key
    with pytest.raises(FileNotFoundError, match='--data-root'):
        load_config(DEMO_CONFIG, data_root=str(tmp_path / 'nope'))


def test_test_dataloader_typo_fails_before_training(tiny_procedural_root,
                                                     tmp_path):
    config = tiny_train_config(tiny_procedural_root, str(tmp_path / 'w'),
                               max_iters=1)
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    out = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'train.py'), config,
         '--cfg-options', 'test_dataloader.dataset.splitt=test'],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2
    assert "splitt" in out.stderr and config in out.stderr
    assert 'Traceback' not in out.stderr
    assert not osp.exists(tmp_path / 'w')  # nothing was built or written
