"""The training step of every method of a benchmark suite's group, side by
side: what a run of each costs next to the MTL baseline's (the suite's
``relative_cost``, until records measure it).

Each method's config as the suite runs it (its ``cfg_options``, the suite's
data root and ``cfg_options``, the group's first regime drawn with seed 0),
built in its own child process with the config's own training pipeline and
data loader: ``--warmup + --steps`` batches are loaded first, then the
steps (forward, backward, optimiser update: ``model.train_step``) are
timed, so that data loading is not in the figure. Loss weights are the
configs' (a ramp-up hook would start at 0; here every term is computed).
Second stages (``after``) need their first stage's checkpoint and are
left out. Methods alternate over ``--rounds``; prints the median step of
each, its ratio to the baseline's and peak RSS.

    python tools/benchmarks/bench_suite_steps.py \\
        tools/benchmark/suites/procedural-48x64.py [--group 3task] \\
        [--methods mtl xtc ...] [--steps 10] [--rounds 2] [--threads 1]
"""
import argparse
import json
import os
import os.path as osp
import resource
import statistics
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)


def suite_runs(suite_path, group, methods=None):
    """``{method: Run}`` of the group's first regime, seed 0 (first stages
    only), in the suite's order; the baseline first."""
    from tools.benchmark.suite import expand, load_suite
    suite = load_suite(suite_path)
    runs = [r for r in expand(suite, REPO) if r.group == group]
    if not runs:
        raise SystemExit(f'{suite_path}: no group {group!r}')
    regime, seed = runs[0].regime, min(r.seed for r in runs)
    chosen = {r.method: r for r in runs if r.regime == regime
              and r.seed == seed and r.after is None and not r.missing}
    unknown = sorted(set(methods or ()) - set(chosen))
    if unknown:
        raise SystemExit(f'{suite_path}: group {group!r} has no runnable '
                         f'method {unknown} (have {sorted(chosen)})')
    mtl = next(g['mtl'] for g in suite['groups'] if g['name'] == group)
    names = [mtl] + [m for m in chosen if m != mtl and (
        not methods or m in methods)]
    return suite, {m: chosen[m] for m in names}


def child(args):
    import torch
    from mmengine.runner import Runner

    from tools.benchmark.run_one import run_config
    torch.set_num_threads(args.threads)
    suite, runs = suite_runs(args.suite, args.group)
    with tempfile.TemporaryDirectory() as work:
        cfg = run_config(runs[args.mode], suite, work)
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
            cfg[loader].num_workers = 0
            cfg[loader].persistent_workers = False
        cfg.log_level = 'WARNING'
        runner = Runner.from_cfg(cfg)
        model = runner.model
        optim = runner.build_optim_wrapper(cfg.optim_wrapper)
        it = iter(runner.build_dataloader(cfg.train_dataloader))
        batches = [next(it) for _ in range(args.warmup + args.steps)]
        model.train()
        times = []
        for batch in batches:
            t = time.perf_counter()
            model.train_step(batch, optim)
            times.append(time.perf_counter() - t)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print('RESULT ' + json.dumps(dict(times=times[args.warmup:],
                                      peak_rss_mib=peak)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('suite')
    p.add_argument('--group', default='3task')
    p.add_argument('--methods', nargs='*', default=None,
                   help='these only (the baseline always)')
    p.add_argument('--mode', help=argparse.SUPPRESS)
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--rounds', type=int, default=2)
    p.add_argument('--threads', type=int, default=1)
    args = p.parse_args(argv)
    if args.mode:
        return child(args)
    suite, runs = suite_runs(args.suite, args.group, args.methods)
    modes = list(runs)
    load0 = os.getloadavg()[0]
    times = {m: [] for m in modes}
    peaks = {m: 0.0 for m in modes}
    for _ in range(args.rounds):
        for mode in modes:
            cmd = [sys.executable, osp.abspath(__file__), args.suite,
                   '--group', args.group, '--mode', mode,
                   '--steps', str(args.steps), '--warmup', str(args.warmup),
                   '--threads', str(args.threads)]
            env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
                       MKL_NUM_THREADS=str(args.threads), PYTHONPATH=REPO)
            out = subprocess.run(cmd, env=env, capture_output=True,
                                 text=True, cwd=REPO)
            if out.returncode:
                raise SystemExit(f'{mode}: the step child failed:\n'
                                 f'{out.stderr[-3000:]}')
            res = json.loads([x for x in out.stdout.splitlines()
                              if x.startswith('RESULT ')][-1][7:])
            times[mode] += res['times']
            peaks[mode] = max(peaks[mode], res['peak_rss_mib'])
            print(f'  {mode}: steps {[round(t, 3) for t in res["times"]]} s',
                  flush=True)
    med = {m: statistics.median(v) for m, v in times.items()}
    base = modes[0]
    print(f'{suite["name"]} group {args.group}, regime '
          f'{runs[base].regime} seed {runs[base].seed}, {args.threads} '
          f'thread(s), {args.rounds} rounds x {args.steps} steps (+'
          f'{args.warmup} warm-up), 1-min load {load0:.2f} -> '
          f'{os.getloadavg()[0]:.2f}')
    width = max(len(m) for m in modes)
    for m in modes:
        print(f'{m:>{width}}: median step {med[m]:.4f} s, '
              f'{med[m] / med[base]:.2f}x {base}, peak RSS {peaks[m]:.0f} '
              'MiB')
    return med


if __name__ == '__main__':
    main()
