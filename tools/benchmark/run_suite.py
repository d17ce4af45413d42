"""Run a benchmark suite: every selected (method, regime, seed) run that has
no record yet is trained and tested in its own process.

    python tools/benchmark/run_suite.py SUITE [--out DIR] [--only GLOB ...]
        [--shard i/n] [--list] [--estimate] [--dry-run]

Finished runs (a record exists) are skipped, so the command resumes where a
sitting stopped; ``--shard i/n`` takes every n-th run of the grid starting at
i (the n shards partition it: run them on n machines, then ``merge.py``).
Runs whose config does not exist yet are reported as MISSING.
"""
import argparse
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

from tools.benchmark.record import read_records, record_path  # noqa: E402
from tools.benchmark.suite import (expand, load_suite, parse_shard,  # noqa
                                   select)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('suite')
    p.add_argument('--out', help='result dir (default: the suite\'s out)')
    p.add_argument('--only', nargs='+', default=[],
                   help='run-id or method globs, e.g. "*mtl*" "*__s0"')
    p.add_argument('--shard', help='i/n: this slice of the grid')
    p.add_argument('--work-root', default='work_dirs/benchmark')
    p.add_argument('--list', action='store_true',
                   help='print the selected runs and their state')
    p.add_argument('--estimate', action='store_true',
                   help='compute estimate from the measured run times')
    p.add_argument('--lanes', type=int, default=1,
                   help='runs side by side (one per core or GPU) for the '
                   'wall-time estimate')
    p.add_argument('--dry-run', action='store_true')
    return p.parse_args(argv)


def state(run, out_dir: str) -> str:
    """'done' (record exists), 'missing' (no config yet) or 'todo'."""
    if osp.isfile(record_path(out_dir, run.run_id)):
        return 'done'
    return 'missing' if run.missing else 'todo'


def claim(lock: str):
    """Take the run's lock file (created exclusively, holding host and
    pid), so that two runners sharing a result folder (two shards, two
    sittings, two machines on one file system) never train the same run at
    once. A lock left by a process of this host that is gone is taken
    over. Returns the lock's path, or None with the holder when held."""
    import socket
    me = f'{socket.gethostname()} {os.getpid()}'
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                with open(lock) as f:
                    holder = f.read().strip()
            except FileNotFoundError:   # released in between: try again
                continue
            host, _, pid = holder.partition(' ')
            if host == socket.gethostname() and pid.isdigit() and \
                    not _alive(int(pid)):
                os.remove(lock)         # its runner died: take it over
                continue
            return None, holder
        with os.fdopen(fd, 'w') as f:
            f.write(me)
        return lock, me
    return None, 'unknown (the lock file changed twice)'


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_env(suite: dict) -> dict:
    """The environment of a run: the suite's ``cpu_env`` on a machine
    without CUDA (allocator settings measured on the CPU), nothing added
    for CUDA users."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep +
               os.environ.get('PYTHONPATH', ''))
    import torch
    if not torch.cuda.is_available():
        env.update({k: str(v) for k, v in suite.get('cpu_env', {}).items()})
    return env


def run_seconds(rec: dict) -> float:
    """Seconds one lane spends on a recorded run (train + test): its CPU
    seconds over its threads where recorded (a pause or a crowded machine
    does not count), else its wall time."""
    cpu = rec.get('cpu_time_s')
    if cpu:
        return (cpu['train'] + cpu['test']) / max(1, cpu.get('threads', 1))
    wall = rec['wall_time_s']
    return wall['train'] + wall['test']


def estimate(runs, out_dir: str, suite: dict, lanes: int = 1) -> str:
    """Compute of the selected runs from the records' times
    (:func:`run_seconds`): a method measured uses its mean; one not
    measured, its group's MTL baseline (else the median of the measured
    methods) times its ``relative_cost`` (suite file, default 1)."""
    records = read_records(out_dir) if osp.isdir(
        osp.join(out_dir, 'records')) else []
    per_method = {}
    for rec in records:
        per_method.setdefault((rec['group'], rec['method']), []).append(
            run_seconds(rec))
    means = {k: statistics.mean(v) for k, v in per_method.items()}
    if not means:
        return 'estimate: no records yet, nothing measured'
    median = statistics.median(means.values())
    costs, base = {}, {}
    for group in suite['groups']:
        base[group['name']] = means.get((group['name'], group['mtl']),
                                        median)
        for name, spec in group['methods'].items():
            costs[(group['name'], name)] = spec.get('relative_cost', 1.0)
    lines, total, todo = [], 0.0, 0.0
    for key in sorted({(r.group, r.method) for r in runs}):
        n = sum(1 for r in runs if (r.group, r.method) == key)
        left = sum(1 for r in runs if (r.group, r.method) == key and
                   state(r, out_dir) != 'done')
        each = means.get(key, base[key[0]] * costs.get(key, 1.0))
        how = 'measured' if key in means else \
            f'MTL x {costs.get(key, 1.0)}'
        total += n * each
        todo += left * each
        lines.append(f'  {key[0]}/{key[1]}: {n} runs x {each / 60:.1f} min '
                     f'({how}), {left} left')
    loads = [r['machine']['loadavg_start'][0] for r in records
             if r.get('machine')]
    lines.append(f'total {total / 3600:.2f} h for {len(runs)} runs; '
                 f'{todo / 3600:.2f} h left; wall time with {lanes} lane(s) '
                 f'side by side: {total / 3600 / lanes:.2f} h in all, '
                 f'{todo / 3600 / lanes:.2f} h left')
    if loads:
        lines.append(f'(measured at 1-min load averages '
                     f'{min(loads):.1f} to {max(loads):.1f})')
    n_cpu = sum(1 for r in records if r.get('cpu_time_s'))
    lines.append(f'({n_cpu} of {len(records)} records with CPU times; the '
                 f'others by wall time, which counts pauses and crowding)')
    return 'estimate (train + test per run, one lane):\n' + \
        '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    suite = load_suite(args.suite)
    out_dir = args.out or suite.get('out') or osp.join(
        'benchmark_results', suite['name'])
    shard = parse_shard(args.shard) if args.shard else None
    runs = select(expand(suite, ROOT), args.only, shard)
    if not runs:
        raise SystemExit('no run matches the selection')
    states = {r.run_id: state(r, out_dir) for r in runs}
    if args.list or args.estimate:
        if args.list:
            for run in runs:
                print(f'{states[run.run_id]:8s} {run.run_id}  '
                      f'{osp.relpath(run.config, ROOT)}')
        if args.estimate:
            print(estimate(runs, out_dir, suite, args.lanes))
        return 0
    from mtpsl.datasets.procedural import generate_dataset
    data = suite['dataset']
    if 'preset' in data:  # the procedural data, generated when incomplete
        generate_dataset(data['root'], preset=data['preset'],
                         height=data.get('height'), width=data.get('width'),
                         seed=data.get('seed', 0))
    elif not osp.isdir(data['root']):
        raise SystemExit(f'dataset root {data["root"]} does not exist')
    env = run_env(suite)
    failed, waiting = [], []
    for k, run in enumerate(runs):
        where = f'[{k + 1}/{len(runs)}] {run.run_id}'
        if states[run.run_id] == 'done':
            print(f'{where}: done (record exists), skipped', flush=True)
            continue
        if states[run.run_id] == 'missing':
            print(f'{where}: MISSING config {osp.relpath(run.config, ROOT)}'
                  ' (method not on this branch yet)', flush=True)
            continue
        if run.after_id and not osp.isfile(record_path(out_dir,
                                                       run.after_id)):
            # its first stage failed or was not selected: nothing to start
            waiting.append(run.run_id)
            print(f'{where}: WAITING for its first stage {run.after_id} '
                  '(no record yet), skipped', flush=True)
            continue
        if args.dry_run:
            print(f'{where}: would run', flush=True)
            continue
        os.makedirs(osp.join(out_dir, 'locks'), exist_ok=True)
        lock, holder = claim(osp.join(out_dir, 'locks',
                                      run.run_id + '.lock'))
        if lock is None:
            print(f'{where}: RUNNING elsewhere ({holder}), skipped',
                  flush=True)
            continue
        try:
            if osp.isfile(record_path(out_dir, run.run_id)):
                # finished by another runner since this one started
                print(f'{where}: done meanwhile (record exists), skipped',
                      flush=True)
                continue
            log = osp.join(args.work_root, suite['name'],
                           run.run_id + '.log')
            os.makedirs(osp.dirname(log), exist_ok=True)
            start = time.time()
            with open(log, 'w') as f:
                code = subprocess.run(
                    [sys.executable, osp.join(ROOT, 'tools', 'benchmark',
                                              'run_one.py'),
                     args.suite, run.run_id, '--out', out_dir,
                     '--work-root', args.work_root],
                    stdout=f, stderr=subprocess.STDOUT, env=env).returncode
        finally:
            os.remove(lock)
        took = time.time() - start
        if code != 0:
            failed.append(run.run_id)
            print(f'{where}: FAILED (exit {code}) after {took:.0f} s, see '
                  f'{log}', flush=True)
        else:
            print(f'{where}: finished in {took:.0f} s', flush=True)
    missing = [r for r in runs if states[r.run_id] == 'missing']
    print(f'{len(runs)} runs selected: '
          f'{sum(s == "done" for s in states.values())} done before, '
          f'{len(missing)} MISSING a config, {len(failed)} failed, '
          f'{len(waiting)} waiting for a first stage')
    return 1 if failed or waiting else 0


if __name__ == '__main__':
    sys.exit(main())
