"""The suite grid: expansion, --only, --shard partition, glob configs,
errors naming the key; the shipped procedural suite's size."""
import os.path as osp

import pytest
from conftest import REPO

from tools.benchmark.suite import (SuiteError, expand, load_suite,
                                   parse_shard, regime_for, select)

SUITES = osp.join(REPO, 'tools', 'benchmark', 'suites')
# the benchmark (48x64, 2400 iterations) and the one it replaced (records
# kept: benchmark_results/procedural-96x128)
SHIPPED = [osp.join(SUITES, 'procedural-48x64.py'),
           osp.join(SUITES, 'procedural-96x128.py')]


def _suite_file(tmp_path, body):
    path = tmp_path / 'suite.py'
    path.write_text(body)
    return str(path)


BASE = '''
name = 't'
dataset = dict(root='data')
regimes = dict(onelabel=dict(type='onelabel'),
               randomlabels=dict(type='randomlabels'))
groups = [dict(name='g', tasks=('sem_seg', 'depth'), seeds=(0, 1, 2),
               regimes=('onelabel', 'randomlabels'), mtl='mtl',
               stl=dict(depth='stl_depth'),
               methods=dict(stl_depth=dict(config='a.py'),
                            mtl=dict(config='b.py'),
                            new=dict(config='{new}')))]
'''


def test_expand_and_shards_partition_the_grid(tmp_path):
    (tmp_path / 'a.py').write_text('')
    (tmp_path / 'b.py').write_text('')
    suite = load_suite(_suite_file(tmp_path, BASE.format(new='c/*.py')))
    runs = expand(suite, str(tmp_path))
    assert len(runs) == 3 * 2 * 3
    assert runs[0].run_id == 'g__stl_depth__onelabel__s0'
    assert [r.role for r in runs[::6]] == ['stl', 'mtl', 'method']
    assert runs[0].task == 'depth' and runs[6].task is None
    # a glob that matches nothing: MISSING, not dropped
    assert [r.missing for r in runs[::6]] == [False, False, True]
    for n in (1, 4, 5, 18, 25):
        shards = [select(runs, shard=(i, n)) for i in range(n)]
        ids = [r.run_id for s in shards for r in s]
        assert sorted(ids) == sorted(r.run_id for r in runs)  # cover
        assert len(set(ids)) == len(ids)                      # disjoint
        sizes = [len(s) for s in shards]
        assert max(sizes) - min(sizes) <= 1                   # balanced
    only = select(runs, only=['mtl', '*__s2'])
    assert len(only) == 6 + 4
    assert select(runs, only=['mtl'], shard=(1, 2)) == [
        r for r in select(runs, shard=(1, 2)) if r.method == 'mtl']


def test_regime_seed_policy(tmp_path):
    suite = load_suite(_suite_file(tmp_path, BASE.format(new='c.py')))
    assert regime_for(suite, 'onelabel', 2) == dict(type='onelabel', seed=2)
    suite['regime_seed'] = 7
    assert regime_for(suite, 'randomlabels', 2) == dict(type='randomlabels',
                                                        seed=7)


def test_glob_matching_two_configs_is_an_error(tmp_path):
    (tmp_path / 'c').mkdir()
    (tmp_path / 'c' / 'x.py').write_text('')
    (tmp_path / 'c' / 'y.py').write_text('')
    suite = load_suite(_suite_file(tmp_path, BASE.format(new='c/*.py')))
    with pytest.raises(SuiteError, match='matches 2 files'):
        expand(suite, str(tmp_path))


def test_bad_suites_name_the_key(tmp_path):
    with pytest.raises(SuiteError, match="unknown regime 'fewshot'"):
        load_suite(_suite_file(tmp_path, BASE.format(new='c.py').replace(
            "regimes=('onelabel', 'randomlabels')", "regimes=('fewshot',)")))
    with pytest.raises(SuiteError, match="baseline 'mtl' is not one"):
        load_suite(_suite_file(tmp_path, BASE.format(new='c.py').replace(
            "mtl=dict(config='b.py')", "m=dict(config='b.py')")))
    with pytest.raises(SuiteError, match="missing key 'groups'"):
        load_suite(_suite_file(tmp_path, "name = 'x'\ndataset = {}\n"
                               'regimes = {}\n'))
    for bad in ('3', '2/2', 'a/b', '-1/3'):
        with pytest.raises(SuiteError, match='--shard'):
            parse_shard(bad)
    assert parse_shard('1/3') == (1, 3)


def test_method_narrows_seeds_and_regimes_and_chains_a_stage(tmp_path):
    body = BASE.format(new='c.py').replace(
        "new=dict(config='c.py')",
        "new=dict(config='c.py', seeds=(1, ), regimes=('onelabel', )),\n"
        "stage2=dict(config='d.py', after='new', seeds=(1, ))")
    runs = expand(load_suite(_suite_file(tmp_path, body)), str(tmp_path))
    ids = [r.run_id for r in runs if r.method in ('new', 'stage2')]
    assert ids == ['g__new__onelabel__s1', 'g__stage2__onelabel__s1',
                   'g__stage2__randomlabels__s1']
    second = [r for r in runs if r.method == 'stage2']
    assert [r.after_id for r in second] == ['g__new__onelabel__s1',
                                            'g__new__randomlabels__s1']
    assert all(r.after is None for r in runs if r.method != 'stage2')


def test_bad_method_keys_name_the_method(tmp_path):
    def load(replacement):
        return load_suite(_suite_file(tmp_path, BASE.format(
            new='c.py').replace("new=dict(config='c.py')", replacement)))
    with pytest.raises(SuiteError, match=r"methods.new: unknown key\(s\) "
                       r"\['seed'\]"):
        load("new=dict(config='c.py', seed=1)")
    with pytest.raises(SuiteError, match=r"methods.new.seeds: \[5\] not in"):
        load("new=dict(config='c.py', seeds=(5, ))")
    # a stage must follow the method it starts from
    with pytest.raises(SuiteError, match="methods.new.after: 'later' must "
                       'name a method listed before it'):
        load("new=dict(config='c.py', after='later'), "
             "later=dict(config='c.py')")


@pytest.mark.parametrize('path', SHIPPED, ids=osp.basename)
def test_shipped_suite_names_every_method(path):
    suite = load_suite(path)
    runs = expand(suite, REPO)
    methods = {(r.group, r.method) for r in runs}
    for name in ('stl_sem_seg', 'stl_depth', 'stl_normal', 'mtl', 'xtc',
                 'ccr', 'rc_oracle', 'rc_superpixel', 'hitts_stage1',
                 'hitts_stage2', 'mtl_binned', 'naive_stage2'):
        assert ('3task', name) in methods
    for name in ('st_sem_seg', 'st_depth', 'mt', 'align_net', 'xtasc'):
        assert ('2task', name) in methods
    # 3 tasks: 10 methods x 2 regimes, 2 naive-pseudo-label ones onelabel
    # only; 2 tasks: 5 methods full, MT and XTasC onelabel too; 3 seeds
    assert len(runs) == (10 * 2 + 2) * 3 + (5 + 2) * 3
    assert all(not r.missing for r in runs)
    stage2 = [r for r in runs if r.method == 'hitts_stage2']
    assert stage2[0].after_id == '3task__hitts_stage1__onelabel__s0'
