"""The side-by-side step benchmarks (bench_xtc.py's harness, used by
bench_hitts.py) on a tiny input: each model timed in its own child, the
printed ratio equal to the printed medians' quotient."""
import os
import re
import subprocess
import sys

import pytest
from conftest import REPO


def quotient_within_rounding(ratio, num, den, places=4, ratio_places=2):
    """``ratio`` is the quotient of the unrounded ``num`` / ``den``,
    printed with ``ratio_places`` decimals, ``num`` and ``den`` printed
    with ``places``: is it within what those roundings allow?"""
    half, rhalf = 0.5 * 10 ** -places, 0.5 * 10 ** -ratio_places
    lo = (num - half) / (den + half) - rhalf
    hi = (num + half) / max(den - half, 1e-12) + rhalf
    return lo <= ratio <= hi


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
    assert quotient_within_rounding(ratio, med['hitts'], med['baseline']), (
        ratio, med)
    assert re.search(r'peak RSS [0-9.]+x', out.stdout)


@pytest.mark.slow
def test_bench_xtc_counts_the_flops_of_both_steps():
    """The warm-up step is counted (torch's FlopCounterMode): XTC's step
    (two views through the SegNet, eight maps through the mapper) has more
    than 3x the baseline's FLOPs, and the printed ratio is the quotient."""
    out = subprocess.run(
        [sys.executable, 'tools/benchmarks/bench_xtc.py', '--height', '32',
         '--width', '32', '--steps', '1', '--warmup', '1', '--rounds', '1',
         '--threads', '1'], cwd=REPO, env=dict(os.environ, PYTHONPATH=REPO),
        capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    gflop = {m: float(v) for m, v in re.findall(
        r'(\w+): median step .* ([0-9.]+) GFLOP a step', out.stdout)}
    assert set(gflop) == {'baseline', 'xtc'}, out.stdout
    ratio = float(re.search(r'FLOPs ([0-9.]+)x', out.stdout).group(1))
    assert ratio == pytest.approx(gflop['xtc'] / gflop['baseline'],
                                  abs=0.02)
    assert 3.0 < ratio < 6.0, out.stdout


@pytest.mark.slow
def test_bench_region_contrast_step_rows_take_turns_and_ratios_agree():
    out = subprocess.run(
        [sys.executable, 'tools/benchmarks/bench_region_contrast.py',
         '--part', 'step', '--height', '64', '--width', '96',
         '--step-iters', '2', '--variants', 'default', '2'],
        cwd=REPO, env=dict(os.environ, PYTHONPATH=REPO),
        capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = re.findall(r'^\| (.+?) \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \| '
                      r'([0-9.]+) \|$', out.stdout, re.M)
    assert [r[0] for r in rows] == [
        'SegNet (baseline)',
        '+ RC, shipped default (negatives=4, rest=bound)',
        '+ RC, negatives=2'], out.stdout

    def within_rounding(value, num, den):
        # value = num / den printed with 2 decimals, num and den too
        return quotient_within_rounding(value, num, den, places=2)

    wall0, cpu0 = float(rows[0][1]), float(rows[0][3])
    for _, wall, ratio, cpu, cpu_ratio in rows:
        assert within_rounding(float(ratio), float(wall), wall0), rows
        assert within_rounding(float(cpu_ratio), float(cpu), cpu0), rows
    assert 'SegNet 64x96 batch 2' in out.stdout


def test_bench_region_contrast_stats_part_agrees_with_the_upsampled_maps():
    out = subprocess.run(
        [sys.executable, 'tools/benchmarks/bench_region_contrast.py',
         '--part', 'stats', '--step-iters', '1', '--regions', '10'],
        cwd=REPO, env=dict(os.environ, PYTHONPATH=REPO),
        capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = re.findall(r'^\| (\d+) \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \| '
                      r'([0-9.e+-]+) \|$', out.stdout, re.M)
    assert [r[0] for r in rows] == ['10'], out.stdout
    _, up, low, ratio, diff = rows[0]
    assert float(ratio) == pytest.approx(float(up) / float(low), abs=0.06)
    # float32 upsampling on one side, float64 on the other: equal to 1e-6
    assert float(diff) < 1e-6


@pytest.mark.slow
def test_bench_suite_steps_times_each_method_of_a_group(tiny_procedural_root,
                                                        tmp_path):
    """A 2-method suite on tiny data: both timed in their own children with
    their own pipelines; the printed ratio is the medians' quotient; a
    second stage is left out."""
    from conftest import tiny_train_config
    mtl = tiny_train_config(tiny_procedural_root, str(tmp_path / 'a'))
    wide = tiny_train_config(
        tiny_procedural_root, str(tmp_path / 'b'),
        model="model = dict(backbone=dict(widths=(8, 16, 16, 16, 16)), "
              "heads=dict(sem_seg=dict(in_channels=8), depth=dict("
              "in_channels=8), normal=dict(in_channels=8)))")
    suite = tmp_path / 'suite.py'
    suite.write_text(f'''
name = 'tiny'
dataset = dict(root={tiny_procedural_root!r})
regimes = dict(onelabel=dict(type='onelabel'))
groups = [dict(name='g', tasks=('sem_seg', 'depth', 'normal'), seeds=(0, ),
               regimes=('onelabel', ), mtl='mtl', stl=dict(),
               methods=dict(mtl=dict(config={mtl!r}),
                            wide=dict(config={wide!r}),
                            second=dict(config={wide!r}, after='wide')))]
''')
    out = subprocess.run(
        [sys.executable, 'tools/benchmarks/bench_suite_steps.py', str(suite),
         '--group', 'g', '--steps', '2', '--warmup', '1', '--rounds', '1'],
        cwd=REPO, env=dict(os.environ, PYTHONPATH=REPO), capture_output=True,
        text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = {m: (float(t), float(r)) for m, t, r in re.findall(
        r'(\w+): median step ([0-9.]+) s, ([0-9.]+)x mtl', out.stdout)}
    assert set(rows) == {'mtl', 'wide'}, out.stdout
    assert rows['mtl'][1] == 1.0
    assert quotient_within_rounding(rows['wide'][1], rows['wide'][0],
                                    rows['mtl'][0]), rows
    assert 'regime onelabel seed 0' in out.stdout
