"""tools/analysis/pseudo_label_quality.py on a hand-made folder."""
import os.path as osp
import sys

import numpy as np
import pytest

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))), 'tools', 'analysis'))
from pseudo_label_quality import quality  # noqa: E402

from mtpsl.datasets import pseudo_store as store  # noqa: E402


def test_kept_share_and_accuracy_by_hand(tmp_path):
    root = tmp_path / 'data'
    for folder in ('label', 'depth'):
        (root / 'train' / folder).mkdir(parents=True)
    np.save(root / 'train' / 'label' / '0.npy',
            np.array([[0, 1], [2, 3]], np.float32))
    np.save(root / 'train' / 'depth' / '0.npy',
            np.array([[1.0, 2.0], [0.0, 4.0]], np.float32)[..., None])
    pseudo = tmp_path / 'pseudo'
    store.write_entry(str(pseudo), '0', dict(
        pseudo_sem_seg=np.array([[[0, -1], [2, 2]]], np.int16),
        pseudo_depth=np.array([[[1.5, 0.0], [3.0, 3.0]]], np.float32),
        feat_depth=np.zeros((1, 1, 1), np.float16)))
    q = quality(str(pseudo), str(root))
    # labels: 3 of 4 pixels kept, 2 of those 3 right
    assert q['sem_seg']['kept_share_percent'] == pytest.approx(75.0)
    assert q['sem_seg']['pixel_acc_%'] == pytest.approx(200 / 3)
    # depth: 3 kept; GT invalid on one of them -> |1.5-1| and |3-4|
    assert q['depth']['kept_share_percent'] == pytest.approx(75.0)
    assert q['depth']['abs_err_m'] == pytest.approx(0.75)
    assert q['depth']['pairs'] == 1 and 'normal' not in q
