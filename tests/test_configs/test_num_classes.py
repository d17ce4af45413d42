"""``num_classes`` reaches metrics from the dataset's meta and methods from
the model's heads; every shipped config agrees with its dataset."""
import pytest
import torch
from test_build_all import (CONFIGS, _dataset_kind, tiny_cityscapes_root,  # noqa: F401
                            tiny_nyu_root, tiny_pascal_root)

from mtpsl.apis.config import load_config
from mtpsl.registry import DATASETS, METRICS, MODELS
from mtpsl.structures import classes_from_meta


def test_classes_from_meta():
    meta = dict(classes=tuple('abcd'), human_part_classes=tuple('xyz'))
    assert classes_from_meta(meta, 'sem_seg') == 4
    assert classes_from_meta(meta, 'human_parts') == 3
    assert classes_from_meta(meta, 'edge') == 2
    assert classes_from_meta(dict(num_classes=dict(sem_seg=9)),
                             'sem_seg') == 9
    assert classes_from_meta({}, 'sem_seg') is None


def test_metric_takes_num_classes_from_the_meta():
    metric = METRICS.build(dict(type='SemSegMetric'))
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    assert metric.num_classes == 3
    pred = torch.tensor([[[0, 1, 2, 2]]])
    gt = torch.tensor([[[0, 1, 2, 1]]])
    # confusion: rows GT, cols prediction
    assert metric.image_stats(pred, gt).reshape(3, 3).tolist() == [
        [1, 0, 0], [0, 1, 1], [0, 0, 1]]
    with pytest.raises(ValueError, match='num_classes unknown'):
        METRICS.build(dict(type='SemSegMetric')).image_stats(pred, gt)
    explicit = METRICS.build(dict(type='SemSegMetric', num_classes=4))
    with pytest.raises(ValueError, match='dataset has 3 classes'):
        explicit.dataset_meta = dict(classes=('a', 'b', 'c'))


def _model_cfg(xtc):
    return dict(
        type='MultiTaskModel', backbone=dict(type='SegNet',
                                             widths=(4, 8, 8, 8, 8)),
        heads=dict(sem_seg=dict(type='SegNetTaskHead', in_channels=4,
                                num_classes=6,
                                loss=dict(type='CrossEntropyLoss')),
                   depth=dict(type='SegNetTaskHead', in_channels=4,
                              loss=dict(type='MaskedL1Loss'))),
        methods=[xtc])


def test_method_takes_num_classes_from_the_heads():
    xtc = dict(type='XTC', feat_channels=8, mapper=dict(widths=(4, 8, 8, 8, 8)))
    model = MODELS.build(_model_cfg(xtc))
    assert model.methods['xtc'].num_classes == dict(sem_seg=6)
    # the mapper's sem_seg input has one channel per class
    explicit = MODELS.build(_model_cfg(dict(xtc, num_classes=dict(
        sem_seg=6))))
    assert explicit.methods['xtc'].num_classes == dict(sem_seg=6)
    with pytest.raises(ValueError, match='no entry for label task'):
        MODELS.build(dict(xtc, tasks=('sem_seg', 'depth')))


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[p.split('configs/')[-1] for p in CONFIGS])
def test_shipped_metrics_agree_with_their_dataset(path, tiny_procedural_root,
                                                  tiny_nyu_root,
                                                  tiny_cityscapes_root,
                                                  tiny_pascal_root):
    cfg = load_config(path)
    root = {'nyuv2': tiny_nyu_root, 'cityscapes': tiny_cityscapes_root,
            'pascal-context': tiny_pascal_root,
            'procedural': tiny_procedural_root}[_dataset_kind(path)]
    cfg.val_dataloader.dataset.data_root = root
    meta = DATASETS.build(cfg.val_dataloader.dataset).metainfo
    for metric_cfg in cfg.val_evaluator:
        metric = METRICS.build(metric_cfg)
        metric.dataset_meta = meta   # raises on a contradiction
        if hasattr(metric, 'num_classes'):
            assert metric.num_classes == classes_from_meta(meta, metric.task)
