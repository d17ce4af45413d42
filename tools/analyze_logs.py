"""Plot training curves and validation metrics of one or several work dirs.

``python tools/analyze_logs.py WORK_DIR [WORK_DIR ...] --out curves.png``
draws one panel per key (losses and lr of training, per-task metrics of
validation) with one line per work dir, so methods compare at a glance.
``--keys`` picks keys by name or shell pattern (``'*loss*' 'sem_seg/*'``).
"""
import argparse
import fnmatch
import math
import os
import os.path as osp
import re
import sys
from typing import Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mtpsl.utils.cli import run_tool  # noqa: E402

from mtpsl.utils.log_parsing import Series, parse_work_dir, run_name  # noqa


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('work_dirs', nargs='+', help='work dirs of tools/train.py')
    p.add_argument('--keys', nargs='+', default=None,
                   help='keys or shell patterns to plot (default: every '
                   'loss, lr, and every validation metric but per-class '
                   'ones)')
    p.add_argument('--names', nargs='+', default=None,
                   help='legend names, one per work dir (default: folder '
                   'names)')
    p.add_argument('--out', default='curves.png', help='PNG to write')
    p.add_argument('--columns', type=int, default=3)
    return p.parse_args(argv)


def default_key(phase: str, key: str) -> bool:
    """Training losses and lr, and every validation metric except
    per-class ones (``sem_seg/IoU.bed``)."""
    if phase == 'val':  # 'IoU.bed' is per class, 'within_11.25' is not
        return re.search(r'\.\D', key.split('/')[-1]) is None
    return 'loss' in key or key == 'lr' or key.endswith('lr')


def select_panels(runs: Dict[str, Series], keys: Optional[Sequence[str]]
                  ) -> List[Tuple[str, str]]:
    """``(phase, key)`` of each panel, training first, in first-seen
    order."""
    panels: List[Tuple[str, str]] = []
    for phase in ('train', 'val'):
        for series in runs.values():
            for key in series[phase]:
                wanted = (any(fnmatch.fnmatchcase(key, k) for k in keys)
                          if keys else default_key(phase, key))
                if wanted and (phase, key) not in panels:
                    panels.append((phase, key))
    if not panels:
        raise ValueError(f'no key to plot (asked for {list(keys or [])}; '
                         'keys found: ' + ', '.join(sorted(
                             {k for s in runs.values() for p in s.values()
                              for k in p})) + ')')
    return panels


def plot_runs(runs: Dict[str, Series], out: str,
              keys: Optional[Sequence[str]] = None, columns: int = 3) -> str:
    """Write the comparison figure of ``{name: series}`` to ``out``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    panels = select_panels(runs, keys)
    ncol = max(1, min(columns, len(panels)))
    nrow = math.ceil(len(panels) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.3 * nrow),
                             squeeze=False)
    colors = plt.rcParams['axes.prop_cycle'].by_key()['color']
    for ax, (phase, key) in zip(axes.flat, panels):
        for i, (name, series) in enumerate(runs.items()):
            if key not in series[phase]:
                continue
            steps, values = series[phase][key]
            # validation points are few, and a single point has no line
            marked = phase == 'val' or len(steps) == 1
            ax.plot(steps, values, label=name, color=colors[i % len(colors)],
                    marker='o' if marked else None, markersize=3,
                    linewidth=1.2)
        ax.set_title(f'{key} ({phase})', fontsize=10)
        ax.set_xlabel('iteration')
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if key == 'lr' or key.endswith('lr'):
            ax.ticklabel_format(axis='y', style='sci', scilimits=(-2, 2))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis('off')
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def load_runs(work_dirs: Sequence[str], names: Optional[Sequence[str]] = None
              ) -> Dict[str, Series]:
    """``{legend name: series}``; names default to the folder names."""
    if names is not None and len(names) != len(work_dirs):
        raise ValueError(f'--names: {len(names)} names for {len(work_dirs)} '
                         'work dirs')
    names = list(names) if names else [run_name(w) for w in work_dirs]
    if len(set(names)) != len(names):  # same folder name in two places
        names = [osp.normpath(w) for w in work_dirs]
    return {n: parse_work_dir(w) for n, w in zip(names, work_dirs)}


def main(argv=None):
    args = parse_args(argv)
    runs = load_runs(args.work_dirs, args.names)
    out = plot_runs(runs, args.out, args.keys, args.columns)
    print(out)
    return out


if __name__ == '__main__':
    run_tool(main)
