"""Label discovery by hand (argmax, tau, GT units) and the pseudo-supervision
folder: atomic entries, the manifest check naming both values."""
import math

import numpy as np
import pytest
import torch

from mtpsl.datasets import pseudo_store as store
from mtpsl.models.hitts.pseudo import discover_labels


def test_label_task_argmax_and_tau():
    # pixel 0: softmax(log 9, 0) = (0.9, 0.1) -> not > 0.9 -> invalid
    # pixel 1: softmax(0, log 19) = (0.05, 0.95) -> class 1 kept
    logits = torch.tensor([[math.log(9.0), 0.0],
                           [0.0, math.log(19.0)]]).view(1, 2, 1, 2)
    label, kept = discover_labels('sem_seg', logits, tau=0.9)
    assert label.view(2).tolist() == [-1, 1]
    assert kept.view(2).tolist() == [False, True]
    label, _ = discover_labels('sem_seg', logits, tau=0.5)
    assert label.view(2).tolist() == [0, 1]


def test_binned_tasks_give_the_centre_in_gt_units():
    centres = torch.tensor([[0.5], [2.0], [4.0]])
    logits = torch.tensor([[0.0, 0.0], [5.0, 0.0], [0.0, 0.0]]).view(
        1, 3, 1, 2)
    depth, kept = discover_labels('depth', logits, tau=0.45, centres=centres)
    # pixel 0: p(bin 1) = e^5 / (e^5 + 2) = 0.987 -> 2.0 m; pixel 1 uniform
    assert depth.view(2).tolist() == [2.0, 0.0]
    normals = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0],
                            [0.0, 1.0, 0.0]])
    n, kept = discover_labels('normal', logits, tau=0.6, centres=normals)
    assert n[0, :, 0, 0].tolist() == [1.0, 0.0, 0.0]
    assert n[0, :, 0, 1].tolist() == [0.0, 0.0, 0.0]  # invalid normal


def test_discovery_errors():
    with pytest.raises(ValueError, match=r'tau of .depth. must be in'):
        discover_labels('depth', torch.zeros(1, 2, 1, 1), 1.0,
                        torch.ones(2, 1))
    with pytest.raises(ValueError, match='needs centres'):
        discover_labels('depth', torch.zeros(1, 2, 1, 1), 0.5)


def _manifest(**over):
    kw = dict(checkpoint_sha256='ab' * 32,
              label_regime=dict(type='onelabel', seed=0),
              label_flags='f' * 64, tau=dict(sem_seg=0.9, depth=0.45),
              stride=4, dtype='float16', tasks=('sem_seg', 'depth'))
    kw.update(over)
    return store.make_manifest(**kw)


def test_manifest_missing_match_and_mismatch(tmp_path):
    d = str(tmp_path / 'pseudo')
    assert store.check_manifest(d, _manifest()) is False
    store.write_manifest(d, _manifest())
    assert store.check_manifest(d, _manifest()) is True
    with pytest.raises(ValueError) as err:
        store.check_manifest(d, _manifest(checkpoint_sha256='cd' * 32))
    msg = str(err.value)
    assert 'checkpoint_sha256' in msg and 'ab' * 32 in msg and \
        'cd' * 32 in msg
    with pytest.raises(ValueError, match=r"tau=.*0\.45.*0\.7"):
        store.check_manifest(d, _manifest(tau=dict(sem_seg=0.9, depth=0.7)))


def test_entries_round_trip_and_missing(tmp_path):
    d = str(tmp_path)
    arrays = dict(pseudo_depth=np.full((1, 2, 3), 1.5, np.float32),
                  feat_depth=np.ones((4, 1, 1), np.float16))
    store.write_entry(d, '7', arrays)
    back = store.read_entry(d, '7')
    assert set(back) == set(arrays)
    assert back['feat_depth'].dtype == np.float16
    assert np.array_equal(back['pseudo_depth'], arrays['pseudo_depth'])
    assert store.missing_ids(d, ['7', '8']) == ['8']
    assert not [p for p in tmp_path.iterdir() if p.name.endswith('.tmp')]
    with pytest.raises(FileNotFoundError, match="image '8'"):
        store.read_entry(d, '8')


def test_file_sha256_and_flags_digest(tmp_path):
    p = tmp_path / 'ckpt.pth'
    p.write_bytes(b'abc')
    assert store.file_sha256(str(p)) == (
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    a = [dict(img_id='0', label_flags=dict(depth=True, sem_seg=False))]
    b = [dict(img_id='0', label_flags=dict(depth=False, sem_seg=True))]
    assert store.flags_digest(a) != store.flags_digest(b)
    assert store.flags_digest(a) == store.flags_digest(
        [dict(img_id='0', label_flags=dict(sem_seg=False, depth=True))])
