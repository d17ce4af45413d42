"""Plain-text tables of multi-task metrics."""
from __future__ import annotations

import math
from typing import Dict, Mapping

# Whether a higher value is better, for the arrows in the table.
HIGHER_IS_BETTER = {'mIoU': True, 'pixel_acc': True, 'abs_err': False,
                    'rel_err': False, 'rmse': False, 'mean': False,
                    'median': False, 'within_11.25': True,
                    'within_22.5': True, 'within_30': True}


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
    grouped = group_by_task(metrics)
    if not grouped:
        return '(no metrics)'
    rows = [('task', 'metric', 'value', 'better')]
    for task, values in grouped.items():
        for name, v in values.items():
            better = {True: 'higher', False: 'lower'}.get(
                HIGHER_IS_BETTER.get(name), '')
            rows.append((task, name, _fmt(v), better))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ['  '.join(c.ljust(w) if i != 2 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in rows]
    lines.insert(1, '-' * len(lines[0]))
    return '\n'.join(lines)
