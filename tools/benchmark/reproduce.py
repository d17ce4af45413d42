"""Reproduce one model zoo row: train its run, check the metrics against
the row within the spread over seeds, publish the sha-named checkpoint.

    python tools/benchmark/reproduce.py NAME [--publish-dir DIR]

NAME is a ``Name`` of a metafile listed in ``model-index.yml``. The run is
the row's benchmark run (same config, regime, seed); each metric must lie
within the 95 % half width over seeds of the row's value (when the row has
a single seed, no spread is known: the differences are printed and the
check is reported as not made). The checkpoint is published with
tools/publish_model.py's ``publish`` (methods dropped) into DIR, and its
sha256 compared with the row's (equal only on an identical machine).
"""
import argparse
import os
import os.path as osp
import shutil
import sys
import tempfile

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

from mtpsl.apis.model_zoo import find_model  # noqa: E402
from tools.benchmark.record import read_record, sha256_file  # noqa: E402
from tools.benchmark.run_one import execute  # noqa: E402
from tools.benchmark.suite import expand, load_suite  # noqa: E402


def check_metrics(row: dict, metrics: dict) -> list:
    """``[(metric, row value, new value, tolerance or None, ok)]``."""
    expected = row['Results'][0]['Metrics']
    out = []
    for key, value in expected.items():
        spread = row.get('Seed Spread', {}).get(key, {})
        tol = spread.get('half_width_95')
        new = metrics[key]
        ok = None if tol is None else abs(new - value) <= tol
        out.append((key, value, new, tol, ok))
    return out


def find_suite(record: dict) -> str:
    """The suite file that defines the record's suite."""
    folder = osp.join(ROOT, 'tools', 'benchmark', 'suites')
    path = osp.join(folder, record['suite'] + '.py')
    if not osp.isfile(path):
        raise FileNotFoundError(f'no suite file {path} for suite '
                                f'{record["suite"]!r}')
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('name')
    p.add_argument('--publish-dir', default='work_dirs/zoo')
    p.add_argument('--work-root', default='work_dirs/reproduce')
    args = p.parse_args(argv)
    row = find_model(args.name)
    if 'Benchmark Record' not in row:
        raise SystemExit(f'{args.name}: the row has no benchmark record, '
                         'nothing to reproduce')
    record = read_record(osp.join(ROOT, row['Benchmark Record']))
    suite_path = find_suite(record)
    suite = load_suite(suite_path)
    run = {r.run_id: r for r in expand(suite, ROOT)}[record['run_id']]
    with tempfile.TemporaryDirectory() as out:
        new = execute(run, suite, out, args.work_root)
    checks = check_metrics(row, new['metrics'])
    for key, value, got, tol, ok in checks:
        verdict = 'no spread known (one seed): not checked' if ok is None \
            else ('within the seed spread' if ok else 'OUTSIDE the seed '
                  'spread')
        print(f'{key}: row {value:.4f}, reproduced {got:.4f}'
              + (f', tolerance {tol:.4f}' if tol is not None else '')
              + f': {verdict}')
    ckpt = osp.join(args.work_root, suite['name'], run.run_id, 'published',
                    new['checkpoint']['file'])
    os.makedirs(args.publish_dir, exist_ok=True)
    shutil.copy2(ckpt, args.publish_dir)
    sha = sha256_file(ckpt)
    same = sha == row['Checkpoint SHA256']
    print(f'published {osp.join(args.publish_dir, osp.basename(ckpt))} '
          f'(sha256 {sha[:16]}: '
          f'{"identical to" if same else "differs from"} the row\'s)')
    return 1 if any(ok is False for *_, ok in checks) else 0


if __name__ == '__main__':
    sys.exit(main())
