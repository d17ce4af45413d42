"""Means with Student-t confidence intervals over seeds, and paired
differences between two methods trained with the same seeds."""
from __future__ import annotations

import math
from typing import Dict, Mapping, Optional, Sequence

from scipy import stats as _st


def mean_ci(values: Sequence[float], level: float = 0.95) -> Dict[str, float]:
    """``{'mean', 'half', 'n', 'sd'}``: the mean of ``values`` and the half
    width of its two-sided ``level`` interval, t_{(1+level)/2, n-1} s /
    sqrt(n) with the sample standard deviation s (ddof 1); ``half`` and
    ``sd`` are NaN for a single value (no spread is known)."""
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError('mean_ci: no values')
    if not all(math.isfinite(v) for v in vals):
        raise ValueError(f'mean_ci: non-finite value in {vals}')
    if not 0 < level < 1:
        raise ValueError(f'mean_ci: level={level} must be in (0, 1)')
    n = len(vals)
    mean = sum(vals) / n
    if n == 1:
        return dict(mean=mean, half=math.nan, sd=math.nan, n=1)
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1))
    half = _st.t.ppf((1 + level) / 2, n - 1) * sd / math.sqrt(n)
    return dict(mean=mean, half=float(half), sd=sd, n=n)


def paired_differences(values: Mapping[int, float],
                       reference: Mapping[int, float]) -> Dict[int, float]:
    """``{seed: value - reference}`` over the seeds both have."""
    return {s: float(values[s]) - float(reference[s])
            for s in sorted(set(values) & set(reference))}


def verdict(ci: Optional[Dict[str, float]], higher_better: bool) -> str:
    """'better' / 'worse' when the interval of a difference excludes 0,
    'within noise' when it holds 0, 'one seed' when there is no interval."""
    if ci is None:
        return 'n/a'
    if ci['n'] < 2 or math.isnan(ci['half']):
        return 'one seed'
    lo, hi = ci['mean'] - ci['half'], ci['mean'] + ci['half']
    if lo <= 0 <= hi:
        return 'within noise'
    return 'better' if (lo > 0) == higher_better else 'worse'
