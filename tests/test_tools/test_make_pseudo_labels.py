"""tools/make_pseudo_labels.py: entries for unlabelled (image, task) pairs
only, features at their stride in half precision, resumable, shardable, and
a manifest that refuses another checkpoint naming both hashes."""
import os.path as osp
import sys

import numpy as np
import pytest

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from _hitts_tiny import STAGE1, random_checkpoint, write_config  # noqa: E402

from mtpsl.datasets import pseudo_store as store  # noqa: E402


def _tool(argv):
    sys.path.insert(0, osp.join(osp.dirname(STAGE1), '..', '..', 'tools'))
    import make_pseudo_labels
    return make_pseudo_labels.main(argv)


@pytest.fixture(scope='module')
def stage1(tiny_procedural_root, tmp_path_factory):
    d = tmp_path_factory.mktemp('hitts_tool')
    cfg = write_config(str(d / 'stage1.py'), STAGE1, tiny_procedural_root,
                       str(d / 'work'))
    return cfg, random_checkpoint(cfg, str(d / 'a.pth'), seed=0), d


def _dataset(cfg):
    from mmengine.registry import init_default_scope

    from mtpsl.apis.config import load_config
    from mtpsl.engine.pseudo_supervision import stage1_dataset
    init_default_scope('mtpsl')
    return stage1_dataset(load_config(cfg))


def test_entries_manifest_resume(stage1, capsys):
    cfg, ckpt, d = stage1
    out = str(d / 'pseudo')
    assert _tool([cfg, ckpt, '--out', out, '--no-progress']) == 0
    ds = _dataset(cfg)
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert not store.missing_ids(out, [i['img_id'] for i in infos])
    for info in infos:
        entry = store.read_entry(out, info['img_id'])
        h, w = np.load(info['img_path']).shape[:2]
        for task, flag in info['label_flags'].items():
            # pseudo labels only where the image is NOT labelled
            assert (f'pseudo_{task}' in entry) == (not flag)
            feat = entry[f'feat_{task}']
            assert feat.dtype == np.float16
            assert feat.shape == (4, -(-h // 4), -(-w // 4))
            assert entry[f'conf_{task}'].shape == (1, -(-h // 4), -(-w // 4))
        if 'pseudo_sem_seg' in entry:
            assert entry['pseudo_sem_seg'].shape == (1, h, w)
        if 'pseudo_normal' in entry:
            n = entry['pseudo_normal']
            norm = np.linalg.norm(n, axis=0)
            kept = norm > 0
            assert np.allclose(norm[kept], 1, atol=1e-5)
    manifest = store.read_manifest(out)
    assert manifest['checkpoint_sha256'] == store.file_sha256(ckpt)
    assert manifest['stride'] == 4 and manifest['dtype'] == 'float16'
    assert manifest['label_regime'] == dict(type='onelabel', seed=0)
    assert manifest['tau'] == dict(sem_seg=0.9, depth=0.45, normal=0.6)
    capsys.readouterr()
    # a rerun computes nothing
    assert _tool([cfg, ckpt, '--out', out, '--no-progress']) == 0
    assert '"computed": 0' in capsys.readouterr().out


def test_changed_checkpoint_is_refused_naming_both(stage1, capsys):
    cfg, ckpt, d = stage1
    out = str(d / 'pseudo_b')
    assert _tool([cfg, ckpt, '--out', out, '--no-progress']) == 0
    other = random_checkpoint(cfg, str(d / 'b.pth'), seed=1)
    capsys.readouterr()
    assert _tool([cfg, other, '--out', out, '--no-progress']) == 2
    err = capsys.readouterr().err
    assert 'checkpoint_sha256' in err
    assert store.file_sha256(ckpt) in err and store.file_sha256(other) in err
    assert _tool([cfg, other, '--out', out, '--no-progress',
                  '--overwrite']) == 0
    assert store.read_manifest(out)['checkpoint_sha256'] == \
        store.file_sha256(other)


def test_shards_cover_all_images_once(stage1, capsys):
    cfg, ckpt, d = stage1
    out = str(d / 'pseudo_s')
    ids = [i['img_id'] for i in (_dataset(cfg).get_data_info(k)
                                 for k in range(len(_dataset(cfg))))]
    assert _tool([cfg, ckpt, '--out', out, '--shard', '0/2',
                  '--no-progress']) == 0
    assert store.missing_ids(out, ids) == ids[1::2]
    assert _tool([cfg, ckpt, '--out', out, '--shard', '1/2',
                  '--no-progress']) == 0
    assert not store.missing_ids(out, ids)


def test_bad_tau_and_missing_checkpoint(stage1, capsys):
    cfg, ckpt, d = stage1
    assert _tool([cfg, str(d / 'nope.pth'), '--out', str(d / 'x')]) == 2
    assert 'checkpoint not found' in capsys.readouterr().err
    assert _tool([cfg, ckpt, '--out', str(d / 'y'), '--tau', 'depth']) == 2
    assert 'task=value' in capsys.readouterr().err
