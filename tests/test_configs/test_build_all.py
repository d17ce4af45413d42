"""Every shipped config builds: model, datasets, evaluator, and one loss
step on a real batch from its own pipeline (on tiny data in its layout)."""
import glob
import os.path as osp

import pytest
import torch
from conftest import REPO

from mtpsl.apis.config import load_config

CONFIGS = sorted(p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                                      recursive=True)
                 if '_base_' not in p)
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def test_configs_found():
    assert len(CONFIGS) >= 5, CONFIGS


@pytest.fixture(scope='module')
def tiny_nyu_root(tmp_path_factory):
    import sys
    sys.path.insert(0, osp.join(REPO, 'tests', 'test_datasets'))
    from _tiny_nyu import make_tiny_nyu
    root = tmp_path_factory.mktemp('nyu')
    make_tiny_nyu(str(root), n_train=4, n_test=2, h=32, w=48)
    return str(root)


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_config_builds_and_trains_one_step(path, tiny_procedural_root,
                                           tiny_nyu_root):
    from mmengine.dataset import pseudo_collate

    from mtpsl.registry import DATASETS, METRICS, MODELS
    cfg = load_config(path)
    root = tiny_nyu_root if 'nyuv2' in osp.basename(path) else \
        tiny_procedural_root
    datasets = {}
    for loader in LOADERS:
        cfg[loader].dataset.data_root = root
        datasets[loader] = DATASETS.build(cfg[loader].dataset)
        assert len(datasets[loader]) > 0
    metrics = [METRICS.build(m) for m in cfg.val_evaluator]
    model = MODELS.build(cfg.model)
    model.init_weights()
    # the metrics cover exactly the tasks the model predicts
    assert sorted(m.task for m in metrics) == sorted(model.tasks)
    assert tuple(datasets['train_dataloader'].tasks) == tuple(
        t for t in cfg.train_dataloader.dataset.tasks)
    assert set(datasets['train_dataloader'].tasks) == set(model.tasks)

    train = datasets['train_dataloader']
    batch = pseudo_collate([train[0], train[1]])
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    # one '<task>.loss_<name>' entry (at least) per task of the model
    assert {k.split('.loss_')[0] for k in losses} == set(model.tasks)
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
