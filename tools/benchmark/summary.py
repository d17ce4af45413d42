"""Aggregate benchmark records: per (group, method, regime) the mean and
95 % interval over seeds of each task's primary metric and of Delta_MTL
against the single-task references of the same regime and seed, and the
per-seed paired differences method - MTL baseline with their interval."""
from __future__ import annotations

import math
from typing import Dict, List, Optional

from mtpsl.evaluation.delta_mtl import PRIMARY_METRICS, delta_mtl
from mtpsl.evaluation.report import higher_is_better

from .stats import mean_ci, paired_differences, verdict
from .suite import expand


def _relative(path: str, root: str) -> str:
    import os.path as osp
    return osp.relpath(path, root) if osp.isabs(path) else path

DELTA = 'delta_mtl'


def primary_keys(tasks) -> List[str]:
    """``task/metric`` of each task's primary metric."""
    return [f'{t}/{PRIMARY_METRICS[t]}' for t in tasks]


def _by_seed(records: List[dict], group: str, method: str,
             regime: str) -> Dict[int, dict]:
    """The records of one cell, by seed (two of one seed is an error)."""
    out: Dict[int, dict] = {}
    for rec in records:
        if (rec['group'], rec['method'], rec['regime']['name']) == \
                (group, method, regime):
            if rec['seed'] in out:
                raise ValueError(f'two records of {rec["run_id"]}')
            out[rec['seed']] = rec
    return out


def _ci(by_seed: Dict[int, float]) -> Optional[dict]:
    """mean_ci of the values with the seeds they came from."""
    if not by_seed:
        return None
    return dict(mean_ci(list(by_seed.values())), seeds=sorted(by_seed),
                values=[by_seed[s] for s in sorted(by_seed)])


def summarize(suite: dict, records: List[dict], root: str = '.') -> dict:
    """``{group: {regime: {method: cell}}}`` with, per cell, its state
    (done / partial / not run / MISSING), and per metric (each primary
    metric and 'delta_mtl'): the interval over seeds ('ci') and that of the
    paired difference to the MTL baseline ('vs_mtl') with its verdict; a
    second stage (a method with ``after``) also has the paired difference
    to its first stage ('vs_first_stage', 'first_stage_verdict')."""
    runs = expand(suite, root)
    out: Dict[str, dict] = {}
    for group in suite['groups']:
        keys = primary_keys(group['tasks'])
        out[group['name']] = {}
        for regime in group['regimes']:
            cells = {}
            stl = {task: _by_seed(records, group['name'], method, regime)
                   for task, method in group['stl'].items()}
            for method in group['methods']:
                cell_runs = [r for r in runs if r.key ==
                             (group['name'], method, regime)]
                if not cell_runs:  # the method is not run in this regime
                    continue
                recs = _by_seed(records, group['name'], method, regime)
                values: Dict[str, Dict[int, float]] = {k: {} for k in keys}
                values[DELTA] = {}
                for seed, rec in recs.items():
                    for key in keys:
                        if key in rec['metrics']:
                            values[key][seed] = rec['metrics'][key]
                    refs = {t: {PRIMARY_METRICS[t]: stl[t][seed]['metrics'][
                        f'{t}/{PRIMARY_METRICS[t]}']}
                        for t in group['stl'] if seed in stl[t]}
                    if len(refs) == len(group['stl']) and all(
                            k in rec['metrics'] for k in keys):
                        values[DELTA][seed] = delta_mtl(
                            rec['metrics'], refs)['primary']
                state = ('MISSING' if cell_runs and cell_runs[0].missing
                         else 'not run' if not recs else
                         'done' if len(recs) == len(cell_runs) else
                         'partial')
                cells[method] = dict(
                    state=state, seeds=sorted(recs),
                    role=cell_runs[0].role if cell_runs else 'method',
                    # relative to the repository: the summary is committed
                    config=_relative(cell_runs[0].config, root)
                    if cell_runs else None,
                    records=[recs[s]['run_id'] for s in sorted(recs)],
                    metrics={k: dict(ci=_ci(v), by_seed=v)
                             for k, v in values.items()})
            mtl = cells[group['mtl']]['metrics']
            for method, cell in cells.items():
                for key, entry in cell['metrics'].items():
                    if method == group['mtl'] or not entry['by_seed']:
                        entry['vs_mtl'] = None
                        entry['verdict'] = 'n/a'
                        continue
                    diff = paired_differences(entry['by_seed'],
                                              mtl[key]['by_seed'])
                    entry['vs_mtl'] = _ci(diff)
                    better = True if key == DELTA else \
                        bool(higher_is_better(key.split('/')[1]))
                    entry['verdict'] = verdict(entry['vs_mtl'], better)
            # a second stage (``after``) against the first stage it started
            # from, paired by seed: the claim of self-training itself
            for method, cell in cells.items():
                first = group['methods'][method].get('after')
                if first not in cells:
                    continue
                cell['after'] = first
                for key, entry in cell['metrics'].items():
                    diff = paired_differences(
                        entry['by_seed'], cells[first]['metrics'][key][
                            'by_seed'])
                    entry['vs_first_stage'] = _ci(diff)
                    better = True if key == DELTA else \
                        bool(higher_is_better(key.split('/')[1]))
                    entry['first_stage_verdict'] = verdict(
                        entry['vs_first_stage'], better)
            out[group['name']][regime] = cells
    return out


def fmt(ci: Optional[dict], digits: int = 2, sign: bool = False) -> str:
    """'m ± h' (or 'm (n=1)'); '' when there is nothing."""
    if ci is None:
        return ''
    spec = f'{"+" if sign else ""}.{digits}f'
    if ci['n'] < 2 or math.isnan(ci['half']):
        return f'{ci["mean"]:{spec}} (n=1)'
    return f'{ci["mean"]:{spec}} ± {ci["half"]:.{digits}f}'
