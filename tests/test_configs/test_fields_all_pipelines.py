"""A field declared as a copy of a task's GT comes out of every shipped
training pipeline (and the data preprocessor) equal to that GT: labels
exactly, depth and normals to float tolerance, in both views of two-view
pipelines. The copy is taken right after loading, so every geometric
transform, the depth-target change, the packers and the padding of the
preprocessor act on it by its kind alone."""
import copy

import numpy as np
import pytest
import torch
from mmcv.transforms import BaseTransform
from test_build_all import (CONFIGS, _dataset_kind, fit_tiny_tree,  # noqa: F401
                            tiny_cityscapes_root, tiny_nyu_root,
                            tiny_pascal_root)

from mtpsl.apis.config import load_config
from mtpsl.registry import DATASETS, MODELS, TRANSFORMS
from mtpsl.structures import task_field

KIND = {t: task_field(t).kind for t in ('sem_seg', 'human_parts', 'edge',
                                        'saliency', 'depth', 'normal')}


@TRANSFORMS.register_module(force=True)
class _CopyGTToFields(BaseTransform):
    """``results['copy_<task>'] = gt_maps[task]`` for every loaded task."""

    def transform(self, results):
        for task, gt in results['gt_maps'].items():
            results[f'copy_{task}'] = gt.copy()
        return results


def _with_copies(pipeline):
    """The pipeline with the declaration and the copy after loading."""
    pipeline = copy.deepcopy(list(pipeline))
    n = 0
    while n < len(pipeline) and pipeline[n]['type'].startswith('Load'):
        n += 1
    assert n > 0, pipeline
    declare = dict(type='DeclareFields', fields={
        f'copy_{t}': dict(kind=k, channels=3 if k == 'normal' else 1)
        for t, k in KIND.items()})
    return [declare] + pipeline[:n] + [dict(type='_CopyGTToFields')] + \
        pipeline[n:]


def _check_sample(sample):
    tasks = [k[3:] for k in sample.keys() if k.startswith('gt_')]
    copies = [k[5:] for k in sample.keys() if k.startswith('copy_')]
    assert sorted(copies) == sorted(tasks)   # no copy of an unloaded GT
    for task in tasks:
        gt = sample.gt(task)
        copied = sample.get(f'copy_{task}').data
        assert copied.shape == gt.shape, task
        if KIND[task] == 'label':
            assert copied.dtype == gt.dtype and torch.equal(copied, gt), task
        else:
            assert torch.allclose(copied, gt, atol=1e-6), task
    return len(tasks)


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[p.split('configs/')[-1] for p in CONFIGS])
def test_gt_copy_survives_the_training_pipeline(path, tmp_path,
                                                tiny_procedural_root,
                                                tiny_nyu_root,
                                                tiny_cityscapes_root,
                                                tiny_pascal_root):
    cfg = load_config(path)
    root = {'nyuv2': tiny_nyu_root, 'cityscapes': tiny_cityscapes_root,
            'pascal-context': tiny_pascal_root,
            'procedural': tiny_procedural_root}[_dataset_kind(path)]
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = root
    fit_tiny_tree(cfg, tmp_path / 'pseudo')
    ds_cfg.pipeline = _with_copies(ds_cfg.pipeline)
    dataset = DATASETS.build(ds_cfg)
    pre = MODELS.build(cfg.model.data_preprocessor)
    checked = 0
    for seed in range(3):   # several draws of crop, zoom and flip
        np.random.seed(seed)
        items = [dataset[i] for i in range(min(4, len(dataset)))]
        for item in items:
            sample = item['data_samples']
            checked += _check_sample(sample)
            if sample.get('view2') is not None:
                checked += _check_sample(sample.view2)
        batch = dict(inputs=[i['inputs'] for i in items],
                     data_samples=[i['data_samples'] for i in items])
        if 'inputs_view2' in items[0]:
            batch['inputs_view2'] = [i['inputs_view2'] for i in items]
        out = pre(batch, training=True)
        for sample in out['data_samples']:
            checked += _check_sample(sample)
    assert checked > 0
