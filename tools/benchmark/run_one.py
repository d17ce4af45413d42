"""Train and test one run of a benchmark suite and write its record.

``python tools/benchmark/run_one.py SUITE RUN_ID --out DIR`` (run_suite.py
calls it in a fresh process per run, so that the peak memory is the run's).
"""
import argparse
import os
import os.path as osp
import platform
import resource
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

from tools.benchmark.record import (RECORD_FORMAT, RECORD_VERSION,  # noqa
                                    git_commit, sha256_file, write_record)
from tools.benchmark.suite import Run, expand, load_suite  # noqa: E402

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('suite')
    p.add_argument('run_id')
    p.add_argument('--out', required=True, help='result dir (records/)')
    p.add_argument('--work-root', default='work_dirs/benchmark')
    return p.parse_args(argv)


def set_regime(cfg, regime_cfg: dict) -> None:
    """Put the run's label regime into the training dataset's config.

    A ``task_subset`` regime (a single-task reference drawn over all the
    tasks) keeps its wrapper and gets the run's regime inside it."""
    dataset = cfg.train_dataloader.dataset
    current = dataset.get('label_regime')
    if current is not None and current.get('type') == 'task_subset':
        current['regime'] = dict(regime_cfg)
    else:
        dataset['label_regime'] = dict(regime_cfg)


def run_config(run: Run, suite: dict, work_dir: str):
    """The run's config: its file with the suite's data, seed, regime and
    overrides, a single final checkpoint and its work dir."""
    from mtpsl.apis.config import check_config_types, load_config
    cfg = load_config(run.config)
    for loader in LOADERS:
        cfg[loader].dataset.data_root = suite['dataset']['root']
    cfg.randomness = dict(seed=run.seed)
    set_regime(cfg, run.regime_cfg)
    if run.cfg_options:
        cfg.merge_from_dict(dict(run.cfg_options))
    cfg.work_dir = work_dir
    iters = cfg.train_cfg.max_iters
    cfg.default_hooks.checkpoint.interval = iters
    cfg.default_hooks.checkpoint.max_keep_ckpts = 1
    check_config_types(cfg, run.config)
    return cfg


# the variables of a second-stage config that name its first stage
STAGE_VARS = ('stage1_config', 'stage1_checkpoint', 'pseudo_dir')


def _rebind(node, old_to_new: dict):
    """``node`` with every value equal to a key of ``old_to_new`` (a
    string) replaced by its value, through dicts and lists."""
    if isinstance(node, dict):
        return type(node)({k: _rebind(v, old_to_new) for k, v in node.items()})
    if isinstance(node, (list, tuple)):
        return type(node)(_rebind(v, old_to_new) for v in node)
    if isinstance(node, str) and node in old_to_new:
        return old_to_new[node]
    return node


def chain_stage(cfg, run: Run, suite: dict, work_root: str,
                runs: dict) -> dict:
    """Point a second-stage run at ITS first stage: the run of
    ``run.after`` with the same regime and seed (its config as that run
    trained it, its final checkpoint) and a pseudo-supervision folder in
    this run's work dir. The config names its first stage with the
    variables ``stage1_config``, ``stage1_checkpoint`` and ``pseudo_dir``;
    every use of them is rebound. Returns what was rebound."""
    missing = [v for v in STAGE_VARS if v not in cfg]
    if missing:
        raise KeyError(f'{run.config}: a run with after={run.after!r} needs '
                       f'the variables {STAGE_VARS}; missing {missing}')
    first = runs[run.after_id]
    first_dir = osp.join(work_root, suite['name'], first.run_id)
    first_cfg = run_config(first, suite, first_dir)
    ckpt = osp.join(first_dir, f'iter_{first_cfg.train_cfg.max_iters}.pth')
    if not osp.isfile(ckpt):
        raise FileNotFoundError(
            f'{run.run_id}: the checkpoint of its first stage '
            f'{first.run_id} is missing: {ckpt} (work dirs are not part of '
            f'the results; train the first stage again with `python '
            f'tools/benchmark/run_one.py SUITE {first.run_id} --out '
            f'<another results dir> --work-root {work_root}` and compare '
            f'its checkpoint sha256 with the first stage\'s record)')
    new = dict(stage1_config=first_cfg.to_dict(), stage1_checkpoint=ckpt,
               pseudo_dir=osp.join(cfg.work_dir, 'pseudo'))
    old_to_new = {cfg[v]: new[v] for v in STAGE_VARS}
    for key in list(cfg.keys()):
        cfg[key] = _rebind(cfg[key], old_to_new)
    return dict(after=first.run_id, stage1_checkpoint=ckpt,
                pseudo_dir=new['pseudo_dir'])


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its waited-for
    children (data loader workers) so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def peak_memory_mib() -> dict:
    """Peak resident memory of this process (and CUDA's peak allocation)."""
    import torch
    peak = dict(rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if torch.cuda.is_available():
        peak['cuda'] = torch.cuda.max_memory_allocated() / 2**20
    return peak


def val_curve(work_dir: str) -> list:
    """``[{'iter': i, metric: value, ...}]`` of the validation points."""
    from mtpsl.utils.log_parsing import parse_work_dir
    by_iter = {}
    for key, (steps, values) in parse_work_dir(work_dir)['val'].items():
        for step, value in zip(steps, values):
            by_iter.setdefault(step, {'iter': step})[key] = value
    return [by_iter[i] for i in sorted(by_iter)]


def execute(run: Run, suite: dict, out_dir: str, work_root: str,
            runs: dict = None) -> dict:
    """Train, publish, test; the run's record (written to ``out_dir``)."""
    import torch

    from mtpsl.engine import MTPSLRunner
    from tools.publish_model import publish
    work_dir = osp.join(work_root, suite['name'], run.run_id)
    cfg = run_config(run, suite, work_dir)
    chained = chain_stage(cfg, run, suite, work_root, runs or {}) \
        if run.after else None
    commit = git_commit(ROOT)  # the code the run starts with
    load = os.getloadavg()
    start, cpu0 = time.time(), cpu_seconds()
    cfg.experiment_name = f'{run.run_id}_train'
    MTPSLRunner.from_cfg(cfg.copy()).train()
    t_train, cpu_train = time.time() - start, cpu_seconds() - cpu0
    iters = cfg.train_cfg.max_iters
    final = osp.join(work_dir, f'iter_{iters}.pth')
    name = osp.splitext(osp.basename(run.config))[0]
    # methods never run at inference: the published model is the network
    published = publish(final, osp.join(work_dir, 'published'), name,
                        drop_prefix=('methods.', ),
                        # the run's own training checkpoint, made above
                        trust_checkpoint=True)
    test_cfg = cfg.copy()
    test_cfg.model.pop('methods', None)
    test_cfg.experiment_name = f'{run.run_id}_test'
    test_cfg.load_from = published
    start_test, cpu0 = time.time(), cpu_seconds()
    metrics = MTPSLRunner.from_cfg(test_cfg).test()
    t_test, cpu_test = time.time() - start_test, cpu_seconds() - cpu0
    record = dict(
        format=RECORD_FORMAT, version=RECORD_VERSION, suite=suite['name'],
        run_id=run.run_id, group=run.group, method=run.method,
        role=run.role, task=run.task, config=osp.relpath(run.config, ROOT),
        commit=commit, seed=run.seed,
        regime=dict(name=run.regime, cfg=run.regime_cfg),
        iterations=iters,
        wall_time_s=dict(train=round(t_train, 2), test=round(t_test, 2)),
        # CPU seconds of this process and its finished children: unlike the
        # wall time, not inflated by a paused or crowded machine
        cpu_time_s=dict(train=round(cpu_train, 2), test=round(cpu_test, 2),
                        threads=torch.get_num_threads()),
        peak_memory_mib={k: round(v, 1) for k, v in
                         peak_memory_mib().items()},
        metrics={k: float(v) for k, v in metrics.items()
                 if isinstance(v, (int, float))},
        val_curve=val_curve(work_dir),
        checkpoint=dict(file=osp.basename(published),
                        sha256=sha256_file(published)),
        cfg_options={k: repr(v) for k, v in run.cfg_options.items()},
        machine=dict(node=platform.node(), cpus=os.cpu_count(),
                     torch=torch.__version__,
                     cuda=torch.cuda.get_device_name(0)
                     if torch.cuda.is_available() else None,
                     torch_threads=torch.get_num_threads(),
                     loadavg_start=[round(x, 2) for x in load],
                     loadavg_end=[round(x, 2) for x in os.getloadavg()],
                     malloc_env={k: v for k, v in os.environ.items()
                                 if k.startswith('MALLOC_')}))
    if chained is not None:
        record['after'] = chained['after']
        record['pseudo_quality'] = pseudo_quality(
            chained['pseudo_dir'], suite['dataset']['root'])
    write_record(out_dir, record)
    return record


def pseudo_quality(pseudo_dir: str, data_root: str) -> dict:
    """Share of pixels kept per task and their accuracy against the GT
    the training never loaded (``tools/analysis/pseudo_label_quality.py``).
    """
    from tools.analysis.pseudo_label_quality import quality
    # strict JSON: a task with no kept pixel has no accuracy (null)
    return {task: {k: (None if isinstance(v, float) and v != v else v)
                   for k, v in q.items()}
            for task, q in quality(pseudo_dir, data_root).items()}


def main(argv=None):
    args = parse_args(argv)
    suite = load_suite(args.suite)
    runs = {r.run_id: r for r in expand(suite, ROOT)}
    if args.run_id not in runs:
        raise SystemExit(f'{args.suite}: no run {args.run_id!r}')
    run = runs[args.run_id]
    if run.missing:
        raise SystemExit(f'{run.run_id}: config {run.config} does not exist')
    record = execute(run, suite, args.out, args.work_root, runs)
    print(f'[benchmark] {run.run_id}: ' + ', '.join(
        f'{k}={v:.4g}' for k, v in sorted(record['metrics'].items())
        if k.split('/')[-1] in ('mIoU', 'abs_err', 'mean')))


if __name__ == '__main__':
    main()
