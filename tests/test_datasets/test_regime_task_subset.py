"""task_subset: a single-task reference's labels are the column of the
multi-task draw (same regime, same seed); images without it stay, empty."""
import numpy as np
import pytest

import mtpsl.datasets  # noqa: F401 (registers the regimes)
from mtpsl.datasets.regimes import RegimeError
from mtpsl.registry import LABEL_REGIMES

IDS = [str(i) for i in range(10)]
TASKS = ('sem_seg', 'depth', 'normal')


def _build(cfg, tasks):
    return LABEL_REGIMES.build(cfg, default_args=dict(image_ids=IDS,
                                                      tasks=tasks))


@pytest.mark.parametrize('inner', [dict(type='onelabel', seed=3),
                                   dict(type='randomlabels', seed=1)])
def test_column_of_the_multi_task_draw(inner):
    full = _build(dict(inner), TASKS)
    sub = _build(dict(type='task_subset', over=TASKS, regime=dict(inner)),
                 ('depth', ))
    assert sub.tasks == ('depth', )
    assert np.array_equal(sub.flags[:, 0], full.flags[:, 1])
    assert sub.allow_empty
    if inner['type'] == 'onelabel':  # 10 images, 3 tasks: 3 or 4 each
        assert sub.counts()['depth'] in (3, 4)
        assert sub.num_empty() == 10 - sub.counts()['depth']


def test_bad_subsets_name_the_problem():
    with pytest.raises(RegimeError, match="'edge' is not in over"):
        _build(dict(type='task_subset', over=TASKS,
                    regime=dict(type='onelabel')), ('edge', ))
    with pytest.raises(RegimeError, match='regime must be a regime config'):
        _build(dict(type='task_subset', over=TASKS, regime='onelabel'),
               ('depth', ))
    with pytest.raises(RegimeError, match='unknown task'):
        _build(dict(type='task_subset', over=('sem_seg', 'dpeth'),
                    regime=dict(type='onelabel')), ('sem_seg', ))
