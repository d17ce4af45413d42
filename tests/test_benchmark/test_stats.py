"""Intervals over seeds: by hand, against scipy's t interval, and edges."""
import math

import pytest
from scipy import stats

from tools.benchmark.stats import mean_ci, paired_differences, verdict


def test_ci_by_hand_on_three_values():
    ci = mean_ci([1.0, 2.0, 3.0])
    # mean 2, s = 1; with 2 degrees of freedom the t quantile has a closed
    # form, t_p = (2p - 1) sqrt(2 / (4 p (1 - p))): 4.3026527 at p = 0.975
    p = 0.975
    t = (2 * p - 1) * math.sqrt(2 / (4 * p * (1 - p)))
    assert ci['mean'] == 2.0 and ci['sd'] == 1.0 and ci['n'] == 3
    assert ci['half'] == pytest.approx(t / math.sqrt(3), rel=1e-12)
    assert ci['half'] == pytest.approx(2.48413771, rel=1e-8)


def test_ci_equals_scipy_interval():
    vals = [22.94, 19.37, 19.84]
    ci = mean_ci(vals)
    lo, hi = stats.t.interval(0.95, 2, loc=sum(vals) / 3,
                              scale=stats.sem(vals))
    assert ci['mean'] - ci['half'] == pytest.approx(lo, rel=1e-12)
    assert ci['mean'] + ci['half'] == pytest.approx(hi, rel=1e-12)
    ci90 = mean_ci(vals, level=0.90)
    assert ci90['half'] < ci['half']


def test_ci_edges():
    one = mean_ci([5.0])
    assert one['mean'] == 5.0 and math.isnan(one['half'])
    assert mean_ci([4.0, 4.0])['half'] == 0.0
    with pytest.raises(ValueError, match='no values'):
        mean_ci([])
    with pytest.raises(ValueError, match='non-finite'):
        mean_ci([1.0, float('nan')])
    with pytest.raises(ValueError, match='level'):
        mean_ci([1.0, 2.0], level=95)


def test_paired_differences_use_common_seeds_only():
    assert paired_differences({0: 3.0, 1: 5.0, 2: 1.0},
                              {0: 1.0, 2: 2.0, 3: 9.0}) == {0: 2.0, 2: -1.0}
    assert paired_differences({0: 1.0}, {1: 1.0}) == {}


def test_verdict():
    up = mean_ci([1.0, 1.2, 1.1])
    assert verdict(up, higher_better=True) == 'better'
    assert verdict(up, higher_better=False) == 'worse'
    assert verdict(mean_ci([-1.0, 1.0, 0.5]), True) == 'within noise'
    assert verdict(mean_ci([2.0]), True) == 'one seed'
    assert verdict(None, True) == 'n/a'
