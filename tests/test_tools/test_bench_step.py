"""The side-by-side step benchmarks (bench_xtc.py's harness, used by
bench_hitts.py) on a tiny input: each model timed in its own child, the
printed ratio equal to the printed medians' quotient."""
import os
import re
import subprocess
import sys

import pytest
from conftest import REPO


@pytest.mark.slow
def test_bench_hitts_prints_both_steps_and_their_ratio():
    env = dict(os.environ, PYTHONPATH=REPO)
    out = subprocess.run(
        [sys.executable, 'tools/benchmarks/bench_hitts.py', '--height', '32',
         '--width', '32', '--steps', '1', '--warmup', '0', '--rounds', '1',
         '--threads', '1'], cwd=REPO, env=env, capture_output=True,
        text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    med = {m: float(v) for m, v in re.findall(
        r'(\w+): median step ([0-9.]+) s', out.stdout)}
    assert set(med) == {'baseline', 'hitts'}, out.stdout
    ratio = float(re.search(r'ratio: HiTTs / baseline step ([0-9.]+)x',
                            out.stdout).group(1))
    assert ratio == pytest.approx(med['hitts'] / med['baseline'], abs=0.01)
    assert re.search(r'peak RSS [0-9.]+x', out.stdout)
