"""tools/check_cuda.sh on a machine without CUDA: every check a SKIP line,
exit 0 (2 with --require-cuda); methods' narrow configs are discovered;
a failing check gives a FAIL line and exit 1."""
import glob
import os
import os.path as osp
import subprocess

import pytest
import torch
from conftest import REPO

import tools.check_cuda as check_cuda


def _sh(*args):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    return subprocess.run(['bash', 'tools/check_cuda.sh', *args], cwd=REPO,
                          env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU path')
def test_cpu_path_skips_every_check():
    out = _sh()
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    checks, summary = lines[:-1], lines[-1]
    assert checks and all(ln.startswith('SKIP  ') and
                          ln.endswith('no CUDA device') for ln in checks)
    assert summary.startswith(f'{len(checks)} checks, 0 failed')
    narrow = glob.glob(osp.join(REPO, 'configs', '*', '*-w16_*.py'))
    assert len(narrow) >= 6
    for config in narrow:
        name = osp.relpath(config, osp.join(REPO, 'configs'))
        assert f'SKIP  train {name}: no CUDA device' in checks
    assert _sh('--require-cuda').returncode == 2


def test_failing_check_exits_one(monkeypatch, capsys):
    def boom():
        raise ValueError('bad figure')

    def skip():
        raise check_cuda.Skip('not here')
    monkeypatch.setattr(check_cuda, 'all_checks', lambda: {
        'ok': lambda: 'step 1.0 ms', 'bad': boom, 'later': skip})
    assert check_cuda.main([]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == 'PASS  ok: step 1.0 ms'
    assert out[1].startswith('FAIL  bad: ValueError: bad figure (')
    assert out[2] == 'SKIP  later: not here'
    assert out[3].startswith('3 checks, 1 failed')
    monkeypatch.setattr(check_cuda, 'all_checks', lambda: {'ok': lambda: 'x'})
    assert check_cuda.main(['--only', 'nothing']) == 0
