"""The aggregate on hand-made records: Delta_MTL against the single-task
references of the same seed, paired differences to the MTL baseline and
their verdicts, the table's cells, the plot files."""
import math

import pytest
from conftest import REPO

from tools.benchmark.aggregate import markdown, plot, plot_val_curves
from tools.benchmark.record import RECORD_FORMAT
from tools.benchmark.stats import mean_ci
from tools.benchmark.summary import summarize

SUITE = dict(
    name='t', out='unused', dataset=dict(root='x'), regime_seed='run',
    regimes=dict(onelabel=dict(type='onelabel')),
    groups=[dict(name='g', tasks=('sem_seg', 'depth'), seeds=(0, 1, 2),
                 regimes=('onelabel', ), mtl='mtl',
                 stl=dict(sem_seg='stl_s', depth='stl_d'),
                 methods=dict(stl_s=dict(config='a.py'),
                              stl_d=dict(config='a.py'),
                              mtl=dict(config='a.py'),
                              m=dict(config='a.py'),
                              absent=dict(config='nope/*.py')))])


def _rec(method, seed, **metrics):
    return dict(format=RECORD_FORMAT, run_id=f'g__{method}__onelabel__s{seed}',
                group='g', method=method, seed=seed,
                regime=dict(name='onelabel'), metrics=metrics,
                val_curve=[dict(iter=1, **metrics), dict(iter=2, **metrics)])


STL_S, STL_D = [20.0, 25.0, 30.0], [0.5, 0.4, 0.8]
MTL = [(22.0, 0.55), (24.0, 0.44), (33.0, 0.8)]
M = [(24.0, 0.5), (23.0, 0.39), (33.0, 0.76)]


def _records():
    recs = []
    for s in range(3):
        recs.append(_rec('stl_s', s, **{'sem_seg/mIoU': STL_S[s]}))
        recs.append(_rec('stl_d', s, **{'depth/abs_err': STL_D[s]}))
        for name, vals in (('mtl', MTL), ('m', M)):
            if name == 'm' and s == 2:
                continue  # the method has seeds 0 and 1 only: partial
            recs.append(_rec(name, s, **{'sem_seg/mIoU': vals[s][0],
                                         'depth/abs_err': vals[s][1]}))
    return recs


def _delta(vals, s):
    """Delta_MTL by hand: mean of +gain mIoU and -gain abs err."""
    return ((vals[s][0] - STL_S[s]) / STL_S[s] -
            (vals[s][1] - STL_D[s]) / STL_D[s]) / 2 * 100


def test_delta_and_paired_differences_by_hand(tmp_path):
    (tmp_path / 'a.py').write_text('')
    out = summarize(SUITE, _records(), str(tmp_path))['g']['onelabel']
    mtl, m = out['mtl'], out['m']
    assert mtl['state'] == 'done' and m['state'] == 'partial'
    assert out['absent']['state'] == 'MISSING'
    deltas = [_delta(MTL, s) for s in range(3)]
    assert mtl['metrics']['delta_mtl']['by_seed'] == pytest.approx(
        dict(enumerate(deltas)))
    # seed 0 by hand: (+10 % - 10 %) / 2 = 0
    assert deltas[0] == pytest.approx(0.0, abs=1e-12)
    ci = mtl['metrics']['delta_mtl']['ci']
    assert ci['mean'] == pytest.approx(sum(deltas) / 3)
    assert ci['half'] == pytest.approx(mean_ci(deltas)['half'])
    # paired: method - MTL over the common seeds 0 and 1
    diff = m['metrics']['sem_seg/mIoU']['vs_mtl']
    assert diff['values'] == [2.0, -1.0]
    # n = 2: t_{0.975, 1} = 12.706 x sd 2.121 / sqrt 2 holds zero
    assert diff['half'] == pytest.approx(12.7062047 * 1.5, rel=1e-6)
    assert m['metrics']['sem_seg/mIoU']['verdict'] == 'within noise'
    d_abs = m['metrics']['depth/abs_err']['vs_mtl']['values']
    assert d_abs == pytest.approx([-0.05, -0.05])
    assert m['metrics']['depth/abs_err']['verdict'] == 'better'  # lower
    d_delta = m['metrics']['delta_mtl']['vs_mtl']['values']
    assert d_delta == pytest.approx([_delta(M, s) - _delta(MTL, s)
                                     for s in range(2)])
    assert mtl['metrics']['delta_mtl']['verdict'] == 'n/a'
    # a reference has no Delta_MTL of its own
    assert out['stl_s']['metrics']['delta_mtl']['ci'] is None


def test_table_and_plots(tmp_path):
    (tmp_path / 'a.py').write_text('')
    records = _records()
    summary = summarize(SUITE, records, str(tmp_path))
    table = markdown(SUITE, summary)
    ci = mean_ci([v for v, _ in MTL])
    assert f'| mtl | 0,1,2 | {ci["mean"]:.2f} ± {ci["half"]:.2f} |' in table
    assert '| absent | - | MISSING: no config on this branch |' in table
    assert '`g__m__onelabel__s1`' in table
    assert '-0.0500 ± 0.0000 (better)' in table
    assert '+0.50 ± 19.06 (within noise)' in table
    paths = plot(SUITE, summary, str(tmp_path)) + plot_val_curves(
        SUITE, records, str(tmp_path))
    assert [p.rsplit('/', 1)[1] for p in paths] == ['plot_g.png',
                                                   'val_curve_g.png']
    assert all(math.isfinite(len(open(p, 'rb').read())) for p in paths)


def test_second_stage_paired_with_its_first_stage(tmp_path):
    """A method with ``after`` gets its paired difference to the first
    stage (over the seeds both have), with a verdict, in the summary and
    in the table; the others get none."""
    import copy
    (tmp_path / 'a.py').write_text('')
    suite = copy.deepcopy(SUITE)
    suite['groups'][0]['methods']['m2'] = dict(config='a.py', after='m')
    m2 = [(25.0, 0.45), (26.0, 0.38)]  # seeds 0, 1 (m has 0 and 1)
    records = _records() + [
        _rec('m2', s, **{'sem_seg/mIoU': m2[s][0], 'depth/abs_err': m2[s][1]})
        for s in range(2)]
    summary = summarize(suite, records, str(tmp_path))
    out = summary['g']['onelabel']
    assert out['m2']['after'] == 'm' and 'after' not in out['m']
    miou = out['m2']['metrics']['sem_seg/mIoU']
    # by hand: 25 - 24 = 1, 26 - 23 = 3; mean 2, sd sqrt 2, t 12.706
    assert miou['vs_first_stage']['values'] == [1.0, 3.0]
    assert miou['vs_first_stage']['half'] == pytest.approx(12.7062047,
                                                           rel=1e-6)
    assert miou['first_stage_verdict'] == 'within noise'
    absd = out['m2']['metrics']['depth/abs_err']
    assert absd['vs_first_stage']['values'] == pytest.approx([-0.05, -0.01])
    delta = out['m2']['metrics']['delta_mtl']['vs_first_stage']['values']
    assert delta == pytest.approx([_delta(m2, s) - _delta(M, s)
                                   for s in range(2)])
    assert 'vs_first_stage' not in out['m']['metrics']['sem_seg/mIoU']
    table = markdown(suite, summary)
    assert 'Second stages vs the first stage they started from' in table
    assert '| m2 | m | +2.00 ± 12.71 (within noise) |' in table
    assert 'Second stages' not in markdown(SUITE, summarize(
        SUITE, _records(), str(tmp_path)))
