"""tools/demo.py end to end on tiny data (2 iterations per model): the MTL
baseline and the method trained in the onelabel regime, both tested, the
table with the constant predictor, side-by-side pictures."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
from conftest import REPO

NARROW = ['model.backbone.widths=(4,8,8,8,8)',
          'model.heads.sem_seg.in_channels=4',
          'model.heads.depth.in_channels=4',
          'model.heads.normal.in_channels=4',
          'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
          'default_hooks.checkpoint.interval=2'] + [
    f'{loader}.{key}' for loader in ('train_dataloader', 'val_dataloader',
                                     'test_dataloader')
    for key in ('batch_size=2', 'num_workers=0', 'persistent_workers=False')]


@pytest.mark.slow
@pytest.mark.parametrize('jobs', [1, 2])
def test_demo_trains_both_and_draws_them_side_by_side(tiny_procedural_root,
                                                      tmp_path, jobs):
    """``--jobs 1``: both trained in this process; ``--jobs 2``: each in
    its own tools/train.py process at once."""
    work = str(tmp_path / 'demo')
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    out = subprocess.run(
        [sys.executable, 'tools/demo.py', '--data-root',
         tiny_procedural_root, '--preset', 'none', '--work-dir', work,
         '--num-pictures', '3', '--jobs', str(jobs), '--cfg-options',
         *NARROW],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    table = out.stdout.split('trained with one label per image:')[1]
    header = table.strip().splitlines()[0]
    assert 'MTL baseline' in header and 'Region contrast' in header and \
        'constant' in header
    pictures = sorted(os.listdir(osp.join(work, 'pictures')))
    assert len(pictures) == 3 and all(p.endswith('.png') for p in pictures)
    assert os.path.getsize(osp.join(work, 'pictures', pictures[0])) > 5000
    metrics = json.load(open(osp.join(work, 'demo_metrics.json')))
    assert set(metrics['models']) == {'MTL baseline', 'Region contrast'}
    for entry in metrics['models'].values():
        assert 0 <= entry['metrics']['sem_seg/mIoU'] <= 100
        assert osp.isfile(entry['checkpoint'])
    # the method's published weights hold no method parameters
    import torch
    state = torch.load(metrics['models']['Region contrast']['checkpoint'],
                       weights_only=True)
    assert state and not any(k.startswith('methods.') for k in state)
    # the regime each model trained with: one label per image
    regime = json.load(open(osp.join(work, 'mtl_baseline',
                                     'label_regime.json')))
    assert regime['name'] == 'onelabel'
    assert all(len(t) == 1 for t in regime['labels'].values())
    # side by side: each training's own process and log
    logs = [osp.isfile(osp.join(work, d, 'train.log'))
            for d in ('mtl_baseline', 'region_contrast')]
    assert logs == [jobs == 2] * 2
    assert bool(re.search(r'training \d+ s \([^)]* side by side\)',
                          out.stdout)) == (jobs == 2)


def test_the_method_shown_is_the_benchmarks_best():
    """BEST_METHOD is the single-stage cross-task method (not a baseline,
    not a second stage) with the highest mean paired Delta_MTL against the
    MTL baseline in the 3task onelabel group of the summary BEST_FROM
    names, and the demo trains the benchmark's config of that method (and
    of the baseline)."""
    from tools.benchmark.suite import load_suite
    from tools.demo import BASELINE, BEST_FROM, BEST_METHOD
    summary_path, key = BEST_FROM
    summary = json.load(open(osp.join(REPO, summary_path)))
    # benchmark_results/<suite>/summary.json, as aggregate.py writes it
    graded = load_suite(osp.join(REPO, 'tools', 'benchmark', 'suites',
                                 osp.basename(osp.dirname(summary_path))
                                 + '.py'))
    group, = [g for g in graded['groups'] if g['name'] == '3task']
    baselines = {group['mtl'], 'mtl_binned'} | set(group['stl'].values())
    scores = {}
    for name, entry in summary['3task']['onelabel'].items():
        spec = group['methods'][name]
        paired = (entry['metrics'].get('delta_mtl') or {}).get('vs_mtl')
        if name in baselines or spec.get('after') or not paired:
            continue
        scores[name] = paired['mean']
    assert scores, 'no method has a paired Delta_MTL yet'
    assert max(scores, key=scores.get) == key, scores
    # the README's Quick start quotes this interval: it must be the table's
    paired = summary['3task']['onelabel'][key]['metrics']['delta_mtl'][
        'vs_mtl']
    quoted = f"{paired['mean']:+.2f} ± {paired['half']:.2f}"
    readme = ' '.join(open(osp.join(REPO, 'README.md')).read().split())
    assert f'paired Delta_MTL is {quoted} points' in readme, quoted
    bench = load_suite(osp.join(REPO, 'tools', 'benchmark', 'suites',
                                'procedural-48x64.py'))
    group, = [g for g in bench['groups'] if g['name'] == '3task']
    assert BEST_METHOD[1] == group['methods'][key]['config']
    assert BASELINE[1] == group['methods'][group['mtl']]['config']


def test_side_by_side_runs_on_done_while_the_other_trains(tmp_path,
                                                          monkeypatch):
    """train_all(jobs=2): the model that ends first is handed to
    ``on_done`` while the other still runs (with the freed threads), the
    last one is not; a failed training is reported, not handed on."""
    import subprocess

    import torch

    import tools.demo as demo
    polls = {}

    class FakeTraining:   # ends after a given number of polls
        def __init__(self, cmd, **kwargs):
            self.name = osp.basename(cmd[cmd.index('--work-dir') + 1])
            self.left = {'mtl_baseline': 1, 'region_contrast': 3}[self.name]
            self.returncode = None

        def poll(self):
            polls[self.name] = polls.get(self.name, 0) + 1
            if self.left == 0:
                self.returncode = 0
                return 0
            self.left -= 1
            return None

    monkeypatch.setattr(subprocess, 'Popen', FakeTraining)
    monkeypatch.setattr(demo.time, 'sleep', lambda s: None)
    args = demo.parse_args(['--work-dir', str(tmp_path), '--jobs', '2',
                            '--retrain'])
    models = [(demo.BASELINE[0], demo.BASELINE[1], []),
              (demo.BEST_METHOD[0], demo.BEST_METHOD[1], [])]
    seen = []
    before = torch.get_num_threads()
    times = demo.train_all(models, args, on_done=lambda name: seen.append(
        (name, torch.get_num_threads(), dict(polls))))
    assert set(times) == {'MTL baseline', 'Region contrast'}
    threads = max(1, (os.cpu_count() or 1) // 2)
    # handed on when it ended (its 2nd poll), while the method still ran
    assert seen == [('MTL baseline', threads,
                     {'mtl_baseline': 2, 'region_contrast': 2})]
    assert torch.get_num_threads() == before

    # an early test that fails stops the training still running
    killed = []
    FakeTraining.kill = lambda self: killed.append(self.name)
    FakeTraining.wait = lambda self: 0

    def broken(name):
        raise RuntimeError('test failed')
    monkeypatch.setattr(subprocess, 'Popen', FakeTraining)
    polls.clear()
    with pytest.raises(RuntimeError, match='test failed'):
        demo.train_all(models, args, on_done=broken)
    assert killed == ['region_contrast']
    assert torch.get_num_threads() == before

    class Failing(FakeTraining):
        def poll(self):
            self.returncode = 1
            return 1
    monkeypatch.setattr(subprocess, 'Popen', Failing)
    for name in ('mtl_baseline', 'region_contrast'):
        os.makedirs(tmp_path / name, exist_ok=True)
    seen.clear()
    with pytest.raises(SystemExit, match='training MTL baseline failed'):
        demo.train_all(models, args, on_done=seen.append)
    assert seen == []


def test_demo_defaults_half_the_benchmark_schedule_at_its_size():
    """By default both models train the benchmark's configs for 900 of
    their 2400 iterations on 48x64 images; a bare --cfg-options trains the
    full schedule; a bad --size names itself."""
    import tools.demo as demo
    from mtpsl.apis.config import load_config
    args = demo.parse_args([])
    assert args.size == (48, 64) and args.data_root.endswith('48x64')
    cfg = load_config(demo.BASELINE[1], args.cfg_options)
    assert cfg.train_cfg.max_iters == 900
    assert cfg.param_scheduler[0]['step_size'] == 600
    assert load_config(demo.BASELINE[1]).train_cfg.max_iters == 2400
    assert demo.parse_args(['--cfg-options']).cfg_options == []
    with pytest.raises(SystemExit):
        demo.parse_args(['--size', '48by64'])
