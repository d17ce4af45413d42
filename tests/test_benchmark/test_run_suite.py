"""A 2-run grid end to end on tiny data: a single-task reference and the
MTL baseline trained, tested and recorded; a second call skips both; the
aggregate's table holds the records' numbers and Delta_MTL by hand; a
method without a config is reported MISSING."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from conftest import REPO, tiny_train_config

from tools.benchmark.record import read_records, sha256_file

STL_DEPTH = osp.join(REPO, 'configs', 'baseline', 'stl-depth_segnet-w16_'
                     '1xb8-600it_procedural-onelabel-96x128.py')


def _tiny_stl(root, tmp_path):
    """The shipped single-task depth config, narrowed to widths 4..8."""
    lines = [f'_base_ = [{STL_DEPTH!r}]',
             "model = dict(backbone=dict(widths=(4, 8, 8, 8, 8)), "
             "heads=dict(depth=dict(in_channels=4)))",
             'train_cfg = dict(max_iters=2, val_interval=2)']
    for loader, bs in (('train_dataloader', 2), ('val_dataloader', 2),
                       ('test_dataloader', 2)):
        lines.append(f'{loader} = dict(batch_size={bs}, num_workers=0, '
                     f'persistent_workers=False, dataset=dict('
                     f'data_root={root!r}))')
    path = tmp_path / 'stl_depth_tiny.py'
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def _suite(tmp_path, root):
    mtl = tiny_train_config(root, str(tmp_path / 'mtl_work'), max_iters=2,
                            checkpoint_interval=2)
    stl = _tiny_stl(root, tmp_path)
    text = f'''
name = 'tiny'
out = {str(tmp_path / 'results')!r}
dataset = dict(root={root!r})
regimes = dict(onelabel=dict(type='onelabel'))
cfg_options = {{'train_cfg.val_interval': 1}}
groups = [dict(name='g', tasks=('sem_seg', 'depth', 'normal'), seeds=(0, ),
               regimes=('onelabel', ), mtl='mtl', stl=dict(depth='stl_depth'),
               methods=dict(stl_depth=dict(config={stl!r}),
                            mtl=dict(config={mtl!r}),
                            later=dict(config='configs/later/*.py')))]
'''
    path = tmp_path / 'suite.py'
    path.write_text(text)
    return str(path)


def _run(*args):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    out = subprocess.run([sys.executable, *args], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)
    return out.returncode, out.stdout + out.stderr


@pytest.mark.slow
def test_two_run_grid_end_to_end(tiny_procedural_root, tmp_path):
    suite = _suite(tmp_path, tiny_procedural_root)
    work = str(tmp_path / 'work')
    code, log = _run('tools/benchmark/run_suite.py', suite,
                     '--work-root', work)
    assert code == 0, log[-3000:]
    assert 'g__later__onelabel__s0: MISSING config configs/later/*.py' in log
    results = str(tmp_path / 'results')
    records = {r['method']: r for r in read_records(results)}
    assert sorted(records) == ['mtl', 'stl_depth']
    mtl, stl = records['mtl'], records['stl_depth']
    assert mtl['iterations'] == 2 and mtl['seed'] == 0
    assert mtl['regime'] == dict(name='onelabel',
                                 cfg=dict(type='onelabel', seed=0))
    assert mtl['role'] == 'mtl' and stl['role'] == 'stl'
    assert stl['task'] == 'depth'
    assert set(stl['metrics']) >= {'depth/abs_err'}
    assert not any(k.startswith('sem_seg/') for k in stl['metrics'])
    assert {'sem_seg/mIoU', 'depth/abs_err', 'normal/mean'} <= set(
        mtl['metrics'])
    assert [p['iter'] for p in mtl['val_curve']] == [1, 2]
    cpu = mtl['cpu_time_s']
    assert cpu['train'] > 0 and cpu['test'] > 0 and cpu['threads'] >= 1
    ckpt = osp.join(work, 'tiny', mtl['run_id'], 'published',
                    mtl['checkpoint']['file'])
    assert sha256_file(ckpt) == mtl['checkpoint']['sha256']
    assert mtl['checkpoint']['file'].endswith(
        mtl['checkpoint']['sha256'][:8] + '.pth')
    # the regime of the single-task reference is the multi-task draw's
    # depth column (task_subset over the three tasks, same seed)
    regimes = [json.load(open(osp.join(work, 'tiny', r['run_id'],
                                       'label_regime.json')))
               for r in (mtl, stl)]
    assert regimes[0]['tasks'] == ['sem_seg', 'depth', 'normal']
    assert regimes[1]['tasks'] == ['depth']
    depth = [{i for i, tasks in r['labels'].items() if 'depth' in tasks}
             for r in regimes]
    assert depth[0] == depth[1] and 0 < len(depth[0]) < 12

    # resumable: the second call trains nothing
    paths = [osp.join(results, 'records', f'{r["run_id"]}.json')
             for r in (mtl, stl)]
    mtimes = [os.stat(p).st_mtime_ns for p in paths]
    code, log = _run('tools/benchmark/run_suite.py', suite,
                     '--work-root', work)
    assert code == 0, log[-3000:]
    assert log.count('done (record exists), skipped') == 2
    assert [os.stat(p).st_mtime_ns for p in paths] == mtimes
    code, log = _run('tools/benchmark/run_suite.py', suite, '--list',
                     '--shard', '1/3')
    # grid order stl_depth, mtl, later: shard 1/3 is the MTL run alone
    assert code == 0 and len(log.strip().splitlines()) == 1
    assert log.split()[:2] == ['done', 'g__mtl__onelabel__s0']

    code, log = _run('tools/benchmark/run_suite.py', suite, '--estimate',
                     '--lanes', '2')
    assert code == 0, log[-3000:]
    assert 'g/mtl: 1 runs x' in log and '(measured), 0 left' in log
    assert 'g/later: 1 runs x' in log and '(MTL x 1.0), 1 left' in log
    assert '(2 of 2 records with CPU times' in log

    code, log = _run('tools/benchmark/aggregate.py', suite)
    assert code == 0, log[-3000:]
    table = open(osp.join(results, 'table.md')).read()
    m, s = mtl['metrics']['depth/abs_err'], stl['metrics']['depth/abs_err']
    delta = -(m - s) / s * 100  # Delta_MTL over depth only, lower better
    assert f'{m:.4f} (n=1)' in table and f'{delta:.2f} (n=1)' in table
    assert '| later | - | MISSING: no config on this branch |' in table
    assert f'`{mtl["run_id"]}`' in table
    for name in ('plot_g.png', 'val_curve_g.png', 'summary.json'):
        assert os.path.getsize(osp.join(results, name)) > 1000


@pytest.mark.parametrize('suite_name', ['procedural-48x64',
                                        'procedural-96x128'])
@pytest.mark.parametrize('run_id,first_id', [
    ('3task__hitts_stage2__randomlabels__s1',
     '3task__hitts_stage1__randomlabels__s1'),
    ('3task__naive_stage2__onelabel__s2', '3task__mtl_binned__onelabel__s2')])
def test_second_stage_is_pointed_at_its_own_first_stage(tmp_path, run_id,
                                                        first_id, suite_name):
    """A shipped second stage (``after``): every use of its stage variables
    is rebound to the first stage's run of the same regime and seed, its
    config as that run trained it, and a pseudo folder in the second
    stage's own work dir."""
    from tools.benchmark.run_one import chain_stage, run_config
    from tools.benchmark.suite import expand, load_suite
    suite = load_suite(osp.join(REPO, 'tools', 'benchmark', 'suites',
                                suite_name + '.py'))
    runs = {r.run_id: r for r in expand(suite, REPO)}
    run = runs[run_id]
    work_root = str(tmp_path / 'work')
    cfg = run_config(run, suite, osp.join(work_root, suite['name'], run_id))
    with pytest.raises(FileNotFoundError, match=first_id) as err:
        chain_stage(cfg, run, suite, work_root, runs)
    # it says how to make the checkpoint again
    assert f'run_one.py SUITE {first_id} --out' in str(err.value)
    assert f'--work-root {work_root}' in str(err.value)
    iters = {'procedural-48x64': 2400, 'procedural-96x128': 600}[suite_name]
    ckpt = osp.join(work_root, suite['name'], first_id, f'iter_{iters}.pth')
    os.makedirs(osp.dirname(ckpt))
    open(ckpt, 'wb').close()
    chained = chain_stage(cfg, run, suite, work_root, runs)
    pseudo = osp.join(work_root, suite['name'], run_id, 'pseudo')
    assert chained == dict(after=first_id, stage1_checkpoint=ckpt,
                           pseudo_dir=pseudo)
    hook, = [h for h in cfg.custom_hooks
             if h['type'] == 'HiTTsPseudoLabelHook']
    assert hook['checkpoint'] == ckpt and hook['pseudo_dir'] == pseudo
    loaders = [t for t in cfg.train_dataloader.dataset.pipeline
               if t['type'] == 'LoadPseudoSupervision']
    assert [t['pseudo_dir'] for t in loaders] == [pseudo]
    # the first stage as its run trained it: the suite's seed, regime, data
    stage1 = hook['stage1_config']
    seed = runs[first_id].seed
    assert isinstance(stage1, dict) and stage1['randomness'] == dict(
        seed=seed)
    assert stage1['train_dataloader']['dataset']['label_regime'] == dict(
        type=runs[first_id].regime, seed=seed)
    assert stage1['train_dataloader']['dataset']['data_root'] == \
        suite['dataset']['root']
    # nothing still names the file's own stage-1 paths
    assert 'work_dirs/hitts-stage1' not in repr(cfg.to_dict()) and \
        'work_dirs/mtl-binned' not in repr(cfg.to_dict())


def test_claim_is_exclusive_and_takes_over_a_dead_runner(tmp_path):
    """Two runners on one result folder: the second finds the first's lock
    (host and pid named) and skips; a lock whose process is gone is taken
    over; a released lock can be claimed again."""
    import socket

    from tools.benchmark.run_suite import claim
    lock = str(tmp_path / 'g__mtl__onelabel__s0.lock')
    got, me = claim(lock)
    assert got == lock and me == f'{socket.gethostname()} {os.getpid()}'
    assert open(lock).read() == me
    again, holder = claim(lock)
    assert again is None and holder == me
    # a runner of this host that has exited
    dead = subprocess.run([sys.executable, '-c', 'import os; '
                           'print(os.getpid())'], capture_output=True,
                          text=True).stdout.strip()
    with open(lock, 'w') as f:
        f.write(f'{socket.gethostname()} {dead}')
    assert claim(lock)[0] == lock and open(lock).read() == me
    # another host's lock is never taken over from here
    with open(lock, 'w') as f:
        f.write('elsewhere 1')
    assert claim(lock) == (None, 'elsewhere 1')
    os.remove(lock)
    assert claim(lock)[0] == lock


def test_a_locked_run_is_skipped_and_not_trained(tiny_procedural_root,
                                                 tmp_path):
    suite = _suite(tmp_path, tiny_procedural_root)
    locks = tmp_path / 'results' / 'locks'
    locks.mkdir(parents=True)
    (locks / 'g__mtl__onelabel__s0.lock').write_text('elsewhere 4242')
    (locks / 'g__stl_depth__onelabel__s0.lock').write_text('elsewhere 4243')
    code, log = _run('tools/benchmark/run_suite.py', suite)
    assert 'g__mtl__onelabel__s0: RUNNING elsewhere (elsewhere 4242), ' \
        'skipped' in log, log
    assert 'g__stl_depth__onelabel__s0: RUNNING elsewhere' in log, log
    assert not (tmp_path / 'results' / 'records').exists()


def test_run_seconds_prefers_cpu_time_over_threads():
    """A paused run's wall time counts the pause; its CPU seconds do not.
    Records from before CPU times were kept fall back to the wall time."""
    from tools.benchmark.run_suite import run_seconds
    paused = dict(wall_time_s=dict(train=900.0, test=20.0),
                  cpu_time_s=dict(train=300.0, test=12.0, threads=1))
    two = dict(wall_time_s=dict(train=200.0, test=10.0),
               cpu_time_s=dict(train=360.0, test=16.0, threads=2))
    old = dict(wall_time_s=dict(train=500.0, test=14.5))
    assert run_seconds(paused) == 312.0
    assert run_seconds(two) == 188.0
    assert run_seconds(old) == 514.5


def test_suite_dataset_is_generated_at_its_own_size(tmp_path, monkeypatch):
    """A suite's ``dataset`` with ``height`` / ``width``: the runner renders
    the preset's scenes at that size (what procedural-48x64 relies on)."""
    import tools.benchmark.run_suite as run_suite
    import mtpsl.datasets.procedural as procedural
    calls = []
    monkeypatch.setattr(procedural, 'generate_dataset',
                        lambda root, **kw: calls.append((root, kw)))
    path = tmp_path / 'suite.py'
    path.write_text(f'''
name = 'sized'
out = {str(tmp_path / 'results')!r}
dataset = dict(root={str(tmp_path / 'data')!r}, preset='small', height=48,
               width=64, seed=3)
regimes = dict(onelabel=dict(type='onelabel'))
groups = [dict(name='g', tasks=('depth', ), seeds=(0, ), regimes=('onelabel', ),
               mtl='mtl', stl=dict(), methods=dict(mtl=dict(config='no/such.py')))]
''')
    # the one run has no config (MISSING, skipped): only the data is made
    assert run_suite.main([str(path), '--out', str(tmp_path / 'results')]) == 0
    assert calls == [(str(tmp_path / 'data'),
                      dict(preset='small', height=48, width=64, seed=3))]
