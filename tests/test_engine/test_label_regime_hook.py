"""SaveLabelRegimeHook writes the training regime; a rerun reads it back."""
import os.path as osp

import numpy as np
from conftest import tiny_train_config

from mtpsl.apis.config import load_config
from mtpsl.datasets.regimes import load_regime
from mtpsl.engine.hooks.label_regime_hook import training_regime


def _train(config, experiment, label_regime):
    from mtpsl.engine import MTPSLRunner
    cfg = load_config(config)
    cfg.experiment_name = experiment
    cfg.custom_hooks = [dict(type='SaveLabelRegimeHook')]
    cfg.train_dataloader.dataset.label_regime = label_regime
    # the balanced sampler in a real run, as a config would use it
    cfg.train_dataloader.sampler = dict(type='PartialLabelSampler',
                                        batch_size=2, infinite=True)
    runner = MTPSLRunner.from_cfg(cfg)
    runner.train()
    return runner


def test_regime_file_written_and_reused(tiny_procedural_root, tmp_path):
    config = tiny_train_config(tiny_procedural_root, str(tmp_path / 'first'),
                               max_iters=2, checkpoint_interval=2)
    runner = _train(config, 'regime_hook_first',
                    dict(type='onelabel', seed=0))
    path = osp.join(str(tmp_path / 'first'), 'label_regime.json')
    assert osp.isfile(path)
    written = load_regime(path)
    dataset_regime = runner.train_dataloader.dataset.label_regime
    assert written == dataset_regime
    assert written.name == 'onelabel'
    assert set(written.labels_per_image()) == {0, 1, 2, 3}
    assert written.labels_per_image()[1] == len(written) == 12

    config2 = tiny_train_config(tiny_procedural_root,
                                str(tmp_path / 'second'), max_iters=2,
                                checkpoint_interval=2)
    runner2 = _train(config2, 'regime_hook_second',
                     dict(type='from_file', path=path))
    rerun = runner2.train_dataloader.dataset.label_regime
    assert rerun.params['type'] == 'from_file'
    assert rerun.image_ids == written.image_ids
    assert np.array_equal(rerun.flags, written.flags)
    again = load_regime(osp.join(str(tmp_path / 'second'),
                                 'label_regime.json'))
    assert np.array_equal(again.flags, written.flags)


def test_full_labels_give_a_full_regime(tiny_procedural_root):
    from mtpsl.registry import DATASETS
    ds = DATASETS.build(dict(
        type='NYUv2Dataset', data_root=tiny_procedural_root, split='train',
        index_file='splits/train.txt', pipeline=[]))
    regime = training_regime(ds)
    assert regime.name == 'full'
    assert regime.flags.all() and regime.flags.shape == (12, 3)
    assert list(regime.image_ids) == [ds.get_data_info(i)['img_id']
                                      for i in range(len(ds))]
