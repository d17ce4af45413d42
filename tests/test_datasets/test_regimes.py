"""Tests of label regimes: builders, JSON files, published splits, safety."""
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from mtpsl.datasets.regimes import (LabelRegime, RegimeError,
                                    UnknownImageError, UnsafePickleError,
                                    load_published_split, load_regime)
from mtpsl.registry import LABEL_REGIMES

NYU_TASKS = ('sem_seg', 'depth', 'normal')
NYU_IDS = [str(i) for i in range(795)]
SPLITS = Path(__file__).resolve().parents[2].parent / 'shared' / 'data' / \
    'mtpsl_splits'


def build(cfg, ids=NYU_IDS, tasks=NYU_TASKS):
    """Build a regime through the registry, as a config would."""
    return LABEL_REGIMES.build(cfg, default_args=dict(image_ids=ids,
                                                      tasks=tasks))


def split(rel):
    """Path of a published split file, or skip when the copies are absent."""
    path = SPLITS / rel
    if not path.is_file():
        pytest.skip(f'published split {path} not available')
    return path


# ----------------------------------------------------------------- builders
def test_full():
    r = build(dict(type='full'))
    assert r.counts() == {'sem_seg': 795, 'depth': 795, 'normal': 795}
    assert r.flags.all() and r.flags.shape == (795, 3)


def test_onelabel_balanced():
    r = build(dict(type='onelabel', seed=0))
    assert r.counts() == {'sem_seg': 265, 'depth': 265, 'normal': 265}
    assert (r.flags.sum(1) == 1).all()
    r2 = build(dict(type='onelabel', seed=3), ids=NYU_IDS[:797 - 5])
    assert sorted(r2.counts().values()) == [264, 264, 264]
    r3 = build(dict(type='onelabel', seed=3), ids=NYU_IDS[:10])
    assert sorted(r3.counts().values()) == [3, 3, 4]


def test_randomlabels_sizes():
    r = build(dict(type='randomlabels', seed=0))
    per_row = r.flags.sum(1)
    assert per_row.min() == 1 and per_row.max() == 2
    hist = r.labels_per_image()
    assert hist[0] == 0 and hist[3] == 0 and hist[1] > 300 and hist[2] > 300
    five = build(dict(type='randomlabels', seed=1),
                 tasks=('sem_seg', 'depth', 'normal', 'edge', 'saliency'))
    assert set(five.flags.sum(1).tolist()) == {1, 2, 3, 4}
    with pytest.raises(RegimeError, match='at least 2 tasks'):
        build(dict(type='randomlabels'), tasks=('depth',))


def test_fewshot():
    r = build(dict(type='fewshot', task='normal', seed=1))
    assert r.counts() == {'sem_seg': 795, 'depth': 795, 'normal': 10}
    r = build(dict(type='fewshot', task='depth', num_labelled=37))
    assert r.counts()['depth'] == 37
    with pytest.raises(RegimeError, match="'edge'"):
        build(dict(type='fewshot', task='edge'))
    with pytest.raises(RegimeError, match='num_labelled=796'):
        build(dict(type='fewshot', task='depth', num_labelled=796))


def test_fractions_counts_and_empty_rule():
    fr = dict(sem_seg=0.1, depth=0.3, normal=0.5)
    r = build(dict(type='fractions', fractions=fr, seed=0))
    assert r.counts() == {'sem_seg': 80, 'depth': 239, 'normal': 398}
    assert r.allow_empty and r.params['num_empty'] == r.num_empty() > 0
    partial = build(dict(type='fractions', fractions=dict(depth=0.25)))
    assert partial.counts() == {'sem_seg': 795, 'depth': 199, 'normal': 795}
    assigned = build(dict(type='fractions', fractions=fr, on_empty='assign'))
    assert assigned.num_empty() == 0 and not assigned.allow_empty
    assert sum(assigned.counts().values()) == \
        80 + 239 + 398 + assigned.params['num_assigned']
    with pytest.raises(RegimeError, match='no labelled task, first'):
        build(dict(type='fractions', fractions=fr, on_empty='error'))
    with pytest.raises(RegimeError, match="'edge'"):
        build(dict(type='fractions', fractions=dict(edge=0.5)))
    with pytest.raises(RegimeError, match='depth=1.5'):
        build(dict(type='fractions', fractions=dict(depth=1.5)))


@pytest.mark.parametrize('cfg', [
    dict(type='onelabel'), dict(type='randomlabels'),
    dict(type='fewshot', task='depth'),
    dict(type='fractions', fractions=dict(sem_seg=0.2, normal=0.6))])
def test_determinism_and_order_independence(cfg):
    a = build(dict(cfg, seed=5))
    assert a == build(dict(cfg, seed=5))
    assert not np.array_equal(a.flags, build(dict(cfg, seed=6)).flags)
    # Same set of ids listed in another order: same labels per image.
    shuffled = list(np.random.default_rng(0).permutation(NYU_IDS))
    b = build(dict(cfg, seed=5), ids=shuffled)
    assert all(a.flags_for(i) == b.flags_for(i) for i in NYU_IDS)


def test_subset_select_tasks_and_lookup():
    r = build(dict(type='randomlabels', seed=2))
    sub = r.subset(['10', '3', '700'])
    assert sub.image_ids == ('10', '3', '700')
    assert np.array_equal(sub.flags, r.flags[[10, 3, 700]])
    cols = r.select_tasks(['normal', 'sem_seg'])
    assert cols.tasks == ('normal', 'sem_seg')
    assert np.array_equal(cols.flags, r.flags[:, [2, 0]])
    assert r.flags_for('7') == dict(zip(NYU_TASKS, r.flags[7].tolist()))
    with pytest.raises(UnknownImageError, match="'9999'.*'randomlabels'"):
        r.flags_for('9999')
    with pytest.raises(KeyError):
        r.subset(['1', 'nope'])
    with pytest.raises(RegimeError, match="'edge'"):
        r.select_tasks(['edge'])
    with pytest.raises(RegimeError, match='no labelled task'):
        r.select_tasks(['depth'], allow_empty=False)
    with pytest.raises(ValueError, match='read-only'):
        r.flags[0, 0] = True
    assert 'labels per image' in r.summary()


def test_constructor_validation():
    with pytest.raises(RegimeError, match="duplicate image id '1'"):
        LabelRegime('x', ['depth'], ['1', '1'], [[1], [1]])
    with pytest.raises(RegimeError, match="unknown task 'dpth'"):
        LabelRegime('x', ['dpth'], ['1'], [[1]])
    with pytest.raises(RegimeError, match=r'shape \(1, 2\)'):
        LabelRegime('x', ['depth'], ['1'], [[1, 0]])
    with pytest.raises(RegimeError, match="first '2'"):
        LabelRegime('x', ['depth'], ['1', '2'], [[1], [0]])


# --------------------------------------------------------------- JSON files
def test_save_load_round_trip(tmp_path):
    r = build(dict(type='fractions', fractions=dict(depth=0.3, sem_seg=0.2),
                   seed=4))
    path = r.save(tmp_path / 'regime.json')
    back = load_regime(path)
    assert back == r and back.params == r.params and back.allow_empty
    assert back.image_ids == r.image_ids and back.tasks == r.tasks
    text = path.read_text()
    assert '\n    "0": [' in text  # one image per line: diff-friendly
    voc = LabelRegime('v', ['edge', 'saliency'], ['2008_000002', '2008_1'],
                      [[1, 0], [1, 1]], dict(seed=1, note=(1, 2)))
    assert load_regime(voc.save(tmp_path / 'voc.json')) == voc


def _write_json(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_load_errors_name_file_and_value(tmp_path):
    good = build(dict(type='onelabel'), ids=['0', '1', '2']).save(
        tmp_path / 'good.json').read_text()
    with pytest.raises(FileNotFoundError, match='absent.json'):
        load_regime(tmp_path / 'absent.json')
    bad = _write_json(tmp_path, 'corrupt.json', good[:-20])
    with pytest.raises(RegimeError, match='corrupt.json.*invalid JSON'):
        load_regime(bad)
    bad = _write_json(tmp_path, 'task.json',
                      good.replace('"depth"]', '"dpeth"]', 1))
    with pytest.raises(RegimeError, match="task.json.*'dpeth'"):
        load_regime(bad)
    bad = _write_json(tmp_path, 'cols.json',
                      good.replace('"tasks": ["sem_seg"', '"tasks": ["sem"'))
    with pytest.raises(RegimeError, match="cols.json.*unknown task 'sem'"):
        load_regime(bad)
    bad = _write_json(tmp_path, 'dup.json', good.replace('"2":', '"1":'))
    with pytest.raises(RegimeError, match="dup.json.*duplicate key '1'"):
        load_regime(bad)
    bad = _write_json(tmp_path, 'empty.json',
                      json.dumps(dict(json.loads(good), labels={'0': []})))
    with pytest.raises(RegimeError, match="empty.json.*first '0'"):
        load_regime(bad)


def test_from_file_json_with_carved_subset(tmp_path):
    r = build(dict(type='randomlabels', seed=9))
    path = r.save(tmp_path / 'rl.json')
    train_ids = NYU_IDS[100:]  # first 100 carved off for validation
    got = build(dict(type='from_file', path=str(path)), ids=train_ids)
    assert got.image_ids == tuple(train_ids)
    assert np.array_equal(got.flags, r.flags[100:])
    assert got.params['file_params'] == r.params
    with pytest.raises(RegimeError, match="rl.json.*image id '795'"):
        build(dict(type='from_file', path=str(path)), ids=['1', '795'])
    with pytest.raises(RegimeError, match="rl.json.*task 'edge'"):
        build(dict(type='from_file', path=str(path)), tasks=('edge',))


# ---------------------------------------------------------- published splits
def test_nyu_onelabel_published():
    r = load_published_split(split('nyuv2/onelabel.pth'))
    assert r.tasks == NYU_TASKS and r.image_ids == tuple(NYU_IDS)
    assert r.counts() == {'sem_seg': 265, 'depth': 265, 'normal': 265}
    assert (r.flags.sum(1) == 1).all()


def test_nyu_randomlabels_published():
    r = load_published_split(split('nyuv2/randomlabels.pth'))
    assert r.counts() == {'sem_seg': 392, 'depth': 408, 'normal': 385}
    assert r.labels_per_image() == {0: 0, 1: 405, 2: 390, 3: 0}


def test_cityscapes_onelabel_published():
    r = load_published_split(split('cityscapes/onelabel.pth'))
    assert len(r) == 2975 and r.tasks == ('sem_seg', 'depth')
    assert r.counts() == {'sem_seg': 1487, 'depth': 1488}
    with pytest.raises(RegimeError, match="onelabel.pth.*'nyuv2'"):
        load_published_split(split('cityscapes/onelabel.pth'),
                             dataset='nyuv2')


def test_pascal_published():
    one = load_published_split(split('pascal_context/onelabel.npy'))
    assert one.counts() == {'human_parts': 999, 'edge': 999, 'sem_seg': 1000,
                            'normal': 1000, 'saliency': 1000}
    assert len(one) == 4998 and (one.flags.sum(1) == 1).all()
    assert all(len(i) == 11 and i[4] == '_' for i in one.image_ids)
    rnd = load_published_split(split('pascal_context/randomlabels.npy'))
    assert rnd.counts() == {'human_parts': 847, 'edge': 2557,
                            'sem_seg': 2450, 'normal': 2480, 'saliency': 2445}
    assert rnd.labels_per_image() == {0: 0, 1: 1538, 2: 1529, 3: 1541,
                                      4: 390, 5: 0}
    # Given ids: ids absent from a task's list are unlabelled for it.
    ids = list(one.image_ids[:3]) + ['2099_000001']
    sub = load_published_split(split('pascal_context/onelabel.npy'),
                               image_ids=ids, allow_empty=True)
    assert sub.flags[:3].sum() == 3 and not sub.flags[3].any()


def test_from_file_published_with_carved_subset():
    path = split('nyuv2/onelabel.pth')
    full = load_published_split(path)
    train_ids = [str(i) for i in range(0, 795, 2)]
    got = build(dict(type='from_file', path=str(path)), ids=train_ids)
    assert np.array_equal(got.flags, full.flags[::2])
    assert got.params['file_params']['dataset'] == 'nyuv2'
    with pytest.raises(RegimeError, match="onelabel.pth.*image id '800'"):
        build(dict(type='from_file', path=str(path)), ids=['0', '800'])
    with pytest.raises(RegimeError, match='onelabel.pth.*no labelled task'):
        build(dict(type='from_file', path=str(path)),
              tasks=('sem_seg', 'depth'))
    pas = split('pascal_context/onelabel.npy')
    voc_ids = list(load_published_split(pas).image_ids[10:20])
    got = build(dict(type='from_file', path=str(pas)), ids=voc_ids,
                tasks=('sem_seg', 'edge', 'human_parts', 'normal',
                       'saliency'))
    assert got.image_ids == tuple(voc_ids) and got.tasks[0] == 'sem_seg'


# -------------------------------------------------------------------- safety
class _Evil:
    """Pickles to a call of os.system."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.system, (f'echo pwned > {self.target}',))


def _npy_wrapped(payload: bytes) -> bytes:
    """Bytes of a .npy file holding ``payload`` as its object-array pickle."""
    import io
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, dict(descr='|O', fortran_order=False, shape=()))
    return buf.getvalue() + payload


@pytest.mark.parametrize('wrap', [False, True])
def test_malicious_pickle_refused(tmp_path, wrap):
    target = tmp_path / 'pwned.txt'
    payload = pickle.dumps({'semseg': [_Evil(target)]}, protocol=3)
    path = tmp_path / 'evil.npy'
    path.write_bytes(_npy_wrapped(payload) if wrap else payload)
    with pytest.raises(UnsafePickleError,
                       match=r'evil.npy.*refused.*(posix|nt)\.system'):
        load_published_split(path)
    assert not target.exists()


def test_pickle_with_allowed_globals_but_wrong_content(tmp_path):
    path = tmp_path / 'ints.npy'
    np.save(path, np.array({'semseg': [1, 2]}, dtype=object),
            allow_pickle=True)
    with pytest.raises(RegimeError, match="ints.npy.*image id 1"):
        load_published_split(path)
    np.save(path, np.array({'depth': ['a']}, dtype=object), allow_pickle=True)
    with pytest.raises(RegimeError, match="ints.npy.*unknown task key"):
        load_published_split(path)
    path.write_bytes(b'not a pickle')
    with pytest.raises(RegimeError, match='ints.npy'):
        load_published_split(path)
