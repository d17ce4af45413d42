"""Aggregate a benchmark's records into a markdown table, a JSON summary
and plots, all written by this tool:

    python tools/benchmark/aggregate.py SUITE [--out DIR]

``DIR/table.md``, ``DIR/summary.json``, ``DIR/plot_<group>.png`` (per task
the primary metric of each method, mean and 95 % interval over seeds, the
seeds as dots) and ``DIR/val_curve_<group>.png`` (the validation curve of
the MTL baseline, every seed: is it converged?).
"""
import argparse
import json
import math
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

from tools.benchmark.record import read_records  # noqa: E402
from tools.benchmark.suite import load_suite  # noqa: E402
from tools.benchmark.summary import (DELTA, fmt, primary_keys,  # noqa: E402
                                     summarize)

DIGITS = {'depth/abs_err': 4}
LABELS = {'sem_seg/mIoU': 'mIoU (%)', 'depth/abs_err': 'depth abs err (m)',
          'normal/mean': 'normal mean (deg)', DELTA: 'Delta_MTL (%)'}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('suite')
    p.add_argument('--out', help="result dir (default: the suite's out)")
    return p.parse_args(argv)


def markdown(suite: dict, summary: dict) -> str:
    """The tables: one per (group, regime), one row per method."""
    lines = [f'# Benchmark {suite["name"]}', '',
             'Written by `tools/benchmark/aggregate.py` from the records in '
             '`records/` (one per run). Mean ± half width of the 95 % '
             'Student-t interval over seeds; "vs MTL": the per-seed paired '
             'difference method - MTL baseline (same seed, same regime '
             'draw), with its interval and whether it excludes zero. '
             'Delta_MTL: mean relative gain (%) on the primary metrics over '
             'the single-task references of the same regime and seed.', '']
    for group in suite['groups']:
        keys = primary_keys(group['tasks'])
        for regime, cells in summary[group['name']].items():
            lines += [f'## {group["name"]}, {regime}', '']
            head = ['method', 'seeds'] + [LABELS.get(k, k) for k in keys] + \
                [LABELS[DELTA], 'vs MTL: ' + LABELS[DELTA], 'verdict',
                 'records']
            lines += ['| ' + ' | '.join(head) + ' |',
                      '|' + '---|' * len(head)]
            for method, cell in cells.items():
                if cell['state'] in ('MISSING', 'not run'):
                    note = ('MISSING: no config on this branch' if
                            cell['state'] == 'MISSING' else 'not run yet')
                    lines.append(f'| {method} | - | {note} |' +
                                 ' |' * (len(head) - 3))
                    continue
                row = [method, ','.join(map(str, cell['seeds']))]
                for key in keys + [DELTA]:
                    row.append(fmt(cell['metrics'][key]['ci'],
                                   DIGITS.get(key, 2)))
                d = cell['metrics'][DELTA]
                row += [fmt(d['vs_mtl'], 2, sign=True), d['verdict'],
                        ' '.join(f'`{r}`' for r in cell['records'])]
                lines.append('| ' + ' | '.join(row) + ' |')
            lines.append('')
            lines += [f'Per task, vs MTL ({group["name"]}, {regime}):', '',
                      '| method | ' + ' | '.join(LABELS.get(k, k)
                                                 for k in keys) + ' |',
                      '|---|' + '---|' * len(keys)]
            for method, cell in cells.items():
                if cell['role'] != 'method' or not cell['seeds']:
                    continue
                metrics = cell['metrics']
                row = [method] + [
                    f'{fmt(metrics[k]["vs_mtl"], DIGITS.get(k, 2), True)}'
                    f' ({metrics[k]["verdict"]})' for k in keys]
                lines.append('| ' + ' | '.join(row) + ' |')
            lines.append('')
            seconds = [(m, c) for m, c in cells.items()
                       if c.get('after') and c['seeds']]
            if not seconds:
                continue
            lines += [f'Second stages vs the first stage they started from '
                      f'({group["name"]}, {regime}; paired by seed):', '',
                      '| method | after | ' + ' | '.join(
                          LABELS.get(k, k) for k in keys + [DELTA]) + ' |',
                      '|---|---|' + '---|' * (len(keys) + 1)]
            for method, cell in seconds:
                metrics = cell['metrics']
                row = [method, cell['after']] + [
                    fmt(metrics[k]['vs_first_stage'], DIGITS.get(k, 2), True)
                    + f' ({metrics[k]["first_stage_verdict"]})'
                    for k in keys + [DELTA]]
                lines.append('| ' + ' | '.join(row) + ' |')
            lines.append('')
    return '\n'.join(lines)


def plot(suite: dict, summary: dict, out_dir: str) -> list:
    """One PNG per group: rows regimes, columns tasks (and Delta_MTL)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    paths = []
    for group in suite['groups']:
        keys = primary_keys(group['tasks']) + [DELTA]
        regimes = list(summary[group['name']])
        fig, axes = plt.subplots(len(regimes), len(keys), squeeze=False,
                                 figsize=(3.6 * len(keys),
                                          3.2 * len(regimes)))
        for i, regime in enumerate(regimes):
            cells = summary[group['name']][regime]
            for j, key in enumerate(keys):
                ax = axes[i][j]
                names = [m for m, c in cells.items()
                         if c['metrics'][key]['ci'] is not None]
                for x, method in enumerate(names):
                    ci = cells[method]['metrics'][key]['ci']
                    half = 0 if math.isnan(ci['half']) else ci['half']
                    color = 'C0' if cells[method]['role'] == 'mtl' else \
                        'C7' if cells[method]['role'] == 'stl' else 'C1'
                    ax.errorbar([x], [ci['mean']], yerr=[half], fmt='o',
                                color=color, capsize=4)
                    ax.plot([x] * len(ci['values']), ci['values'], '.',
                            color='k', alpha=0.4)
                ax.set_xticks(range(len(names)))
                ax.set_xticklabels(names, rotation=45, ha='right',
                                   fontsize=8)
                ax.set_title(f'{LABELS.get(key, key)}, {regime}', fontsize=9)
                ax.grid(alpha=0.3)
        fig.suptitle(f'{suite["name"]}, {group["name"]}: mean and 95 % '
                     'interval over seeds (dots: seeds; blue MTL, grey '
                     'STL, orange methods)', fontsize=9)
        fig.tight_layout()
        path = osp.join(out_dir, f'plot_{group["name"]}.png')
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths


def plot_val_curves(suite: dict, records: list, out_dir: str) -> list:
    """The MTL baseline's validation curves (every seed and regime)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    paths = []
    for group in suite['groups']:
        recs = [r for r in records if r['group'] == group['name'] and
                r['method'] == group['mtl'] and r['val_curve']]
        if not recs:
            continue
        keys = primary_keys(group['tasks'])
        fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.2),
                                 squeeze=False)
        for j, key in enumerate(keys):
            ax = axes[0][j]
            for rec in recs:
                pts = [(p['iter'], p[key]) for p in rec['val_curve']
                       if key in p]
                ax.plot(*zip(*pts), marker='o', markersize=3,
                        label=f'{rec["regime"]["name"]} s{rec["seed"]}')
            ax.set_xlabel('iteration')
            ax.set_title(f'validation {LABELS.get(key, key)}', fontsize=9)
            ax.grid(alpha=0.3)
        axes[0][0].legend(fontsize=7)
        fig.suptitle(f'{suite["name"]}, {group["name"]}: MTL baseline '
                     '(validation split, 40 images)', fontsize=9)
        fig.tight_layout()
        path = osp.join(out_dir, f'val_curve_{group["name"]}.png')
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths


def main(argv=None):
    args = parse_args(argv)
    suite = load_suite(args.suite)
    out_dir = args.out or suite.get('out') or osp.join(
        'benchmark_results', suite['name'])
    records = read_records(out_dir)
    if not records:
        raise SystemExit(f'{out_dir}/records: no records to aggregate')
    summary = summarize(suite, records, ROOT)
    with open(osp.join(out_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=1, sort_keys=True)
    with open(osp.join(out_dir, 'table.md'), 'w') as f:
        f.write(markdown(suite, summary) + '\n')
    written = plot(suite, summary, out_dir) + \
        plot_val_curves(suite, records, out_dir)
    print(f'{len(records)} records -> {out_dir}/table.md, summary.json, ' +
          ', '.join(osp.basename(p) for p in written))


if __name__ == '__main__':
    main()
