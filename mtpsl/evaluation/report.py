"""Plain-text tables of multi-task metrics."""
from __future__ import annotations

import math
from typing import Dict, Mapping, Optional

# Whether a higher value is better, for the arrows in the table and the
# sign in Delta_MTL.
HIGHER_IS_BETTER = {
    # sem_seg, human_parts, saliency
    'mIoU': True, 'pixel_acc': True, 'fg_IoU': True, 'maxF': True,
    # depth
    'abs_err': False, 'rel_err': False, 'rmse': False, 'log_rmse': False,
    'delta1': True, 'delta2': True, 'delta3': True,
    # normal (rmse as depth)
    'mean': False, 'median': False, 'within_11.25': True,
    'within_22.5': True, 'within_30': True,
    # edge
    'odsF': True,
    # delta_mtl
    'primary': True, 'all': True}


def higher_is_better(name: str) -> Optional[bool]:
    """Which way metric ``name`` is better; None if unknown."""
    if name.startswith('IoU.'):
        return True
    return HIGHER_IS_BETTER.get(name)


def group_by_task(metrics: Mapping[str, float]) -> Dict[str, Dict[str, float]]:
    """``{'task/name': v}`` -> ``{task: {name: v}}`` (per-class IoU left out)."""
    out: Dict[str, Dict[str, float]] = {}
    for key, value in metrics.items():
        task, _, name = key.partition('/')
        if not name or name.startswith('IoU.'):
            continue
        out.setdefault(task, {})[name] = value
    return out


def _fmt(v) -> str:
    if isinstance(v, float) and math.isnan(v):
        return 'nan'
    if isinstance(v, (int, float)):
        return f'{v:.4f}' if abs(v) < 10 else f'{v:.2f}'
    return str(v)


def format_metrics_table(metrics: Mapping[str, float]) -> str:
    """One row per (task, metric) with its value and which way is better."""
    return format_comparison_table({'value': metrics})


def format_comparison_table(columns: Mapping[str, Mapping[str, float]]
                            ) -> str:
    """Rows (task, metric), one value column per named set of metrics."""
    names = list(columns)
    grouped = {n: group_by_task(m) for n, m in columns.items()}
    keys = []
    for g in grouped.values():
        for task, values in g.items():
            keys += [(task, k) for k in values if (task, k) not in keys]
    if not keys:
        return '(no metrics)'
    rows = [['task', 'metric'] + names + ['better']]
    for task, name in keys:
        cells = [_fmt(grouped[n].get(task, {}).get(name, float('nan')))
                 for n in names]
        better = {True: 'higher', False: 'lower'}.get(
            higher_is_better(name), '')
        rows.append([task, name] + cells + [better])
    ncol = len(rows[0])
    widths = [max(len(r[i]) for r in rows) for i in range(ncol)]
    numeric = range(2, 2 + len(names))
    lines = ['  '.join(c.rjust(w) if i in numeric else c.ljust(w)
                       for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in rows]
    lines.insert(1, '-' * max(len(x) for x in lines))
    return '\n'.join(lines)
