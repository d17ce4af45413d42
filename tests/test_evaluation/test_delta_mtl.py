"""Delta_MTL: golden values of both variants, validation, the evaluator."""
import pytest
import torch
from mmengine.registry import DefaultScope

import mtpsl  # noqa: F401
from mtpsl.evaluation import (DeltaMTL, MultiTaskEvaluator, delta_mtl,
                              format_metrics_table)
from mtpsl.registry import EVALUATOR
from mtpsl.structures import MultiTaskDataSample

METRICS = {'sem_seg/mIoU': 44.0, 'sem_seg/pixel_acc': 57.0,
           'sem_seg/IoU.0': 12.0, 'depth/abs_err': 0.45, 'depth/rmse': 0.88,
           'normal/mean': 27.5, 'normal/median': 20.0}
REFERENCES = dict(sem_seg={'mIoU': 40.0, 'pixel_acc': 60.0},
                  depth={'abs_err': 0.5, 'rmse': 0.8},
                  normal={'mean': 25.0})


def test_delta_mtl_golden_three_tasks():
    out = delta_mtl(METRICS, REFERENCES)
    # primary: mIoU +10 %, abs err (lower is better) +10 %, mean -10 %
    assert out['primary'] == pytest.approx((10 + 10 - 10) / 3)
    # all: sem_seg (+10 - 5) / 2, depth (+10 - 10) / 2, normal -10
    assert out['all'] == pytest.approx((2.5 + 0 - 10) / 3)


def test_delta_mtl_equal_to_references_is_zero_and_primary_override():
    metrics = {'depth/abs_err': 0.5, 'depth/rmse': 0.8}
    assert delta_mtl(metrics, dict(depth=REFERENCES['depth'])) == \
        pytest.approx(dict(primary=0.0, all=0.0))
    out = delta_mtl(METRICS, dict(depth=REFERENCES['depth']),
                    primary=dict(depth='rmse'))
    assert out['primary'] == pytest.approx(-10.0)


def test_delta_mtl_nyu_release_baselines():
    # The MTPSL release's NYUv2 full single-task numbers against HiTTs full
    refs = dict(sem_seg={'mIoU': 37.45}, depth={'abs_err': 0.6079},
                normal={'mean': 25.94})
    hitts = {'sem_seg/mIoU': 45.47, 'depth/abs_err': 0.4763,
             'normal/mean': 25.72}
    expected = ((45.47 - 37.45) / 37.45 - (0.4763 - 0.6079) / 0.6079 -
                (25.72 - 25.94) / 25.94) / 3 * 100
    out = DeltaMTL(refs, source='MTPSL release, SegNet, NYUv2 full')(hitts)
    assert out['delta_mtl/primary'] == pytest.approx(expected)
    assert out['delta_mtl/primary'] == pytest.approx(14.63, abs=0.01)


def test_delta_mtl_errors():
    with pytest.raises(KeyError, match='depth/rmse'):
        delta_mtl({'depth/abs_err': 0.4}, dict(depth=REFERENCES['depth']))
    with pytest.raises(ValueError, match='source'):
        DeltaMTL(REFERENCES, source='')
    with pytest.raises(ValueError, match='unknown metric'):
        DeltaMTL(dict(depth={'abs_err': 1.0, 'bogus': 1.0}), source='x')
    with pytest.raises(ValueError, match='non-zero'):
        DeltaMTL(dict(depth={'abs_err': 0.0}), source='x')
    with pytest.raises(ValueError, match='primary metric'):
        DeltaMTL(dict(depth={'rmse': 1.0}), source='x')
    with pytest.raises(KeyError, match='unknown task'):
        DeltaMTL(dict(height={'abs_err': 1.0}), source='x')


def _samples():
    out = []
    for i in range(3):
        s = MultiTaskDataSample(metainfo=dict(img_path=f'{i}.npy'))
        gt = torch.full((1, 2, 2), 2.0)
        s.set_gt('depth', gt)
        s.set_pred('depth', gt + 0.5 * (i + 1))   # errors .5, 1, 1.5
        label = torch.tensor([[[0, 1], [1, 1]]])
        s.set_gt('sem_seg', label)
        s.set_pred('sem_seg', label)
        out.append(s)
    return out


def test_multitask_evaluator_from_config_appends_delta():
    cfg = dict(type='MultiTaskEvaluator',
               metrics=[dict(type='SemSegMetric', num_classes=2),
                        dict(type='DepthMetric')],
               delta_mtl=dict(references=dict(sem_seg={'mIoU': 80.0},
                                              depth={'abs_err': 1.25}),
                              source='hand-made'))
    with DefaultScope.overwrite_default_scope('mtpsl'):
        evaluator = EVALUATOR.build(cfg)
    assert isinstance(evaluator, MultiTaskEvaluator)
    evaluator.process(_samples())
    m = evaluator.evaluate(3)
    assert m['depth/abs_err'] == pytest.approx(1.0)
    assert m['sem_seg/mIoU'] == pytest.approx(100.0)
    # (+25 % on mIoU, +20 % on abs err) / 2
    assert m['delta_mtl/primary'] == pytest.approx(22.5)
    assert m['delta_mtl/all'] == pytest.approx(22.5)
    table = format_metrics_table(m)
    row = next(r.split() for r in table.splitlines() if 'primary' in r)
    assert row[:2] == ['delta_mtl', 'primary'] and row[-1] == 'higher'


def test_multitask_evaluator_without_delta():
    evaluator = MultiTaskEvaluator([dict(type='DepthMetric')])
    evaluator.process(_samples())
    assert set(evaluator.evaluate(3)) == {
        'depth/abs_err', 'depth/rel_err', 'depth/rmse', 'depth/log_rmse',
        'depth/delta1', 'depth/delta2', 'depth/delta3'}


CONFIG = '''
val_evaluator = dict(
    type='MultiTaskEvaluator',
    metrics=[dict(type='SemSegMetric', num_classes=13),
             dict(type='DepthMetric'), dict(type='NormalMetric')],
    delta_mtl=dict(references=dict(sem_seg={'mIoU': 37.45},
                                   depth={'abs_err': 0.6079},
                                   normal={'mean': 25.94}),
                   source='MTPSL release, SegNet, NYUv2 full'))
test_evaluator = val_evaluator
'''


def test_documented_config_builds_as_the_runner_builds_it(tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner
    path = tmp_path / 'eval_cfg.py'
    path.write_text(CONFIG)
    cfg = Config.fromfile(str(path))
    with DefaultScope.overwrite_default_scope('mtpsl'):
        # Runner.build_evaluator does not use the runner itself
        evaluator = Runner.build_evaluator(None, cfg.test_evaluator)
    assert isinstance(evaluator, MultiTaskEvaluator)
    assert [type(m).__name__ for m in evaluator.metrics] == [
        'SemSegMetric', 'DepthMetric', 'NormalMetric']
    assert evaluator.delta_mtl.references['depth'] == {'abs_err': 0.6079}


def test_documented_config_passes_the_config_check(tmp_path):
    from mtpsl.apis.config import load_config
    path = tmp_path / 'eval_cfg.py'
    path.write_text(CONFIG)
    load_config(str(path))


def test_every_metric_name_has_a_direction():
    from mtpsl.evaluation import (DepthMetric, EdgeMetric, NormalMetric,
                                  SaliencyMetric, SemSegMetric,
                                  higher_is_better)
    s = MultiTaskDataSample(metainfo=dict(img_path='a.npy'))
    label = torch.tensor([[[0, 1], [1, 0]]])
    for task in ('sem_seg', 'saliency', 'edge'):
        s.set_gt(task, label)
        s.set_pred(task, label)
    s.set_gt('depth', torch.ones(1, 2, 2))
    s.set_pred('depth', torch.ones(1, 2, 2))
    s.set_gt('normal', torch.ones(3, 2, 2))
    s.set_pred('normal', torch.ones(3, 2, 2))
    names = set()
    for metric in (SemSegMetric(num_classes=2), DepthMetric(),
                   NormalMetric(), SaliencyMetric(), EdgeMetric()):
        metric.process(None, [s.to_dict()])
        names |= set(metric.compute_metrics(metric.results))
    assert len(names) == 19  # rmse and mIoU are shared names
    assert [n for n in names if higher_is_better(n) is None] == []
