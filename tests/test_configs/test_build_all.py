"""Every shipped config builds: model, datasets, evaluator, and one loss
step on a real batch from its own pipeline (on tiny data in its layout).

Configs that differ only outside the model and the training pipeline
(label regime, data root, schedule, hooks: e.g. the onelabel / randomlabels
/ full variants of one method) share their model build and loss step: the
first of them (in path order) runs it, the others build their datasets,
evaluator and a batch, and check them against that model's tasks."""
import glob
import json
import os.path as osp

import pytest
import torch
from conftest import REPO

from mtpsl.apis.config import load_config

CONFIGS = sorted(p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                                      recursive=True)
                 if '_base_' not in p)
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
# model + training pipeline (as JSON) -> the tasks of the model built
_STEPPED = {}


def _step_key(cfg) -> str:
    """What the model build and the loss step depend on."""
    return json.dumps(dict(model=cfg.model.to_dict(),
                           pipeline=cfg.train_dataloader.dataset.get(
                               'pipeline')), sort_keys=True, default=str)


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


@pytest.fixture(scope='module')
def tiny_cityscapes_root(tmp_path_factory):
    """4x8 maps in the Cityscapes layout, with both index files."""
    import sys
    sys.path.insert(0, osp.join(REPO, 'tests', 'test_datasets'))
    from test_cityscapes import make_tiny_cityscapes
    root = tmp_path_factory.mktemp('cityscapes')
    make_tiny_cityscapes(root, n_train=4, n_test=2)
    (root / 'splits' / 'train.txt').write_text('0\n1\n2\n')
    return str(root)


@pytest.fixture(scope='module')
def tiny_pascal_root(tmp_path_factory):
    """The tiny PASCAL_MT tree (jpg / png / mat), with both index files."""
    import sys
    sys.path.insert(0, osp.join(REPO, 'tests', 'test_datasets'))
    from _tiny_pascal import TRAIN_IDS, make_tiny_pascal
    root = tmp_path_factory.mktemp('pascal')
    make_tiny_pascal(str(root))
    (root / 'splits').mkdir()
    (root / 'splits' / 'train.txt').write_text(
        ''.join(f'{i}\n' for i in TRAIN_IDS))
    (root / 'splits' / 'val.txt').write_text(f'{TRAIN_IDS[-1]}\n')
    return str(root)


def _dataset_kind(path: str) -> str:
    """The tiny tree a config trains on, from the dataset in its name."""
    name = osp.basename(path)
    for kind in ('nyuv2', 'cityscapes', 'pascal-context', 'procedural'):
        if f'_{kind}-' in name:
            return kind
    raise AssertionError(f'{name}: no known dataset in the config name')


def _stand_in_sam_maps(cfg, root: str) -> None:
    """For a config reading cached SAM maps (``LoadRegionMap`` with the
    ``sam`` source), write 2 x 2 patch maps where the tool would, for every
    training image of the tiny tree."""
    import os

    import numpy as np

    from mtpsl.regions import read_image_rgb, write_region_map
    from mtpsl.regions.sources import grid_ids
    sources = [t.get('source', {}) for t in cfg.train_dataloader.dataset.get(
        'pipeline', []) if t.get('type') == 'LoadRegionMap']
    if not any(s.get('type') in ('sam', 'SamRegions') for s in sources):
        return
    image_dir = osp.join(root, 'train', 'image')
    for name in sorted(os.listdir(image_dir)):
        out = osp.join(root, 'train', 'sam', osp.splitext(name)[0] + '.npy')
        if not osp.isfile(out):
            hw = read_image_rgb(osp.join(image_dir, name)).shape[:2]
            write_region_map(out, grid_ids(hw, (2, 2)).astype(np.int64))


def fit_tiny_tree(cfg, pseudo_dir):
    """Adapt a config whose data_root points at a tiny tree: a few-shot
    regime gets 1 labelled image (the trees have 3-12 training images), a
    HiTTs stage-2 pipeline a folder of pseudo supervision, a pipeline
    reading cached SAM maps stand-in maps."""
    regime = cfg.train_dataloader.dataset.get('label_regime')
    if regime is not None and regime.get('type') == 'fewshot':
        regime.num_labelled = 1
    if regime is not None:
        # 3 images cannot label each of PASCAL's 5 tasks once (onelabel)
        regime.allow_unlabelled_tasks = True
    _write_pseudo_supervision(cfg, pseudo_dir)
    _stand_in_sam_maps(cfg, cfg.train_dataloader.dataset.data_root)


def _write_pseudo_supervision(cfg, out_dir):
    """Point the config's LoadPseudoSupervision (HiTTs stage 2) at a folder
    of zero features and no pseudo labels for its (tiny) training images."""
    import numpy as np

    from mtpsl.datasets import pseudo_store
    from mtpsl.registry import DATASETS
    steps = [t for t in cfg.train_dataloader.dataset.pipeline
             if t['type'] == 'LoadPseudoSupervision']
    if not steps:
        return
    ds_cfg = cfg.train_dataloader.dataset.copy()
    ds_cfg.pipeline = cfg.train_dataloader.dataset.pipeline[:1]
    ds = DATASETS.build(ds_cfg)
    for step in steps:
        step.pseudo_dir = str(out_dir)
        stride = step.get('stride', 4)
        width = step.get('feat_channels', 64)
        for i in range(len(ds)):
            h, w = ds[i]['img'].shape[:2]
            size = (-(-h // stride), -(-w // stride))
            arrays = {}
            if step.get('features', True):
                for task in step.tasks:
                    arrays[f'feat_{task}'] = np.zeros((width,) + size,
                                                      np.float16)
                    arrays[f'conf_{task}'] = np.ones((1,) + size, np.float16)
            pseudo_store.write_entry(str(out_dir),
                                     str(ds.get_data_info(i)['img_id']),
                                     arrays)


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_config_builds_and_trains_one_step(path, tmp_path,
                                           tiny_procedural_root,
                                           tiny_nyu_root,
                                           tiny_cityscapes_root,
                                           tiny_pascal_root):
    from mmengine.dataset import pseudo_collate

    from mtpsl.registry import DATASETS, METRICS, MODELS
    cfg = load_config(path)
    root = {'nyuv2': tiny_nyu_root, 'cityscapes': tiny_cityscapes_root,
            'pascal-context': tiny_pascal_root,
            'procedural': tiny_procedural_root}[_dataset_kind(path)]
    for loader in LOADERS:
        cfg[loader].dataset.data_root = root
    fit_tiny_tree(cfg, tmp_path / 'pseudo')
    datasets = {}
    for loader in LOADERS:
        datasets[loader] = DATASETS.build(cfg[loader].dataset)
        assert len(datasets[loader]) > 0
    metrics = [METRICS.build(m) for m in cfg.val_evaluator]
    train = datasets['train_dataloader']
    batch = pseudo_collate([train[0], train[1]])
    assert tuple(train.tasks) == tuple(cfg.train_dataloader.dataset.tasks)
    key = _step_key(cfg)
    if key in _STEPPED:
        # the same model and training pipeline built and stepped already
        tasks = _STEPPED[key]
        assert sorted(m.task for m in metrics) == sorted(tasks)
        assert set(train.tasks) == set(tasks)
        assert len(batch['data_samples']) == 2
        return
    model = MODELS.build(cfg.model)
    model.init_weights()
    # the metrics cover exactly the tasks the model predicts
    assert sorted(m.task for m in metrics) == sorted(model.tasks)
    assert set(train.tasks) == set(model.tasks)
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    # one '<task>.loss_<name>' entry (at least) per task of the model, and
    # '<method>.loss_<what>' entries for its cross-task methods (a method
    # whose terms all join the task groups, e.g. XTasC, adds none)
    prefixes = {k.split('.loss_')[0] for k in losses}
    assert set(model.tasks) <= prefixes <= set(model.tasks) | set(
        model.methods.keys())
    for name, method in model.methods.items():
        assert name in prefixes or any(
            k.endswith(f'.loss_{name}') for k in losses), name
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    _STEPPED[key] = tuple(model.tasks)
