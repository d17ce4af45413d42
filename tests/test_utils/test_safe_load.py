"""The one safe loader (mtpsl.utils.safe_load) and every API that opens a
checkpoint, split file or region map through it: a crafted pickle never
runs, and its message names the file and the refused global."""
import os
import pickle

import numpy as np
import pytest
import torch

from mtpsl.utils.safe_load import (CorruptFileError, UnsafeFileError,
                                   load_npy_safely, load_torch_file,
                                   pickle_globals, require_dict)


class _Touch:
    """Unpickling this runs ``os.system('touch <path>')``."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.system, (f'touch {self.path}',))


@pytest.fixture
def evil(tmp_path):
    """Crafted files whose unpickling would create ``sentinel``."""
    sentinel = tmp_path / 'PWNED'
    payload = _Touch(sentinel)
    files = dict(zip=tmp_path / 'evil.pth', raw=tmp_path / 'raw.pth',
                 npy=tmp_path / 'evil.npy', split=tmp_path / 'split.pth')
    torch.save({'state_dict': {'w': torch.ones(1)}, 'x': payload},
               files['zip'])
    with open(files['raw'], 'wb') as f:
        pickle.dump({'x': payload}, f, protocol=4)
    np.save(files['npy'], np.array([payload, 1], dtype=object),
            allow_pickle=True)
    torch.save({'labels_weights': torch.ones(2, 3), 'x': payload},
               files['split'])
    assert not sentinel.exists()
    return sentinel, files


def _refused(fn, path, sentinel, exc=UnsafeFileError):
    with pytest.raises(exc) as info:
        fn(str(path))
    message = str(info.value)
    assert str(path) in message and 'posix.system' in message, message
    assert not sentinel.exists()
    return message


def test_pickle_globals_reads_stack_global_and_memo():
    data = pickle.dumps(_Touch('/nonexistent'), protocol=4)
    assert pickle_globals(data) == ['posix.system']
    assert pickle_globals(pickle.dumps({'a': [1.0]})) == []
    assert pickle_globals(data[:5]) == []  # truncated: no crash


def test_checkpoints_zip_and_raw_are_refused(evil):
    sentinel, files = evil
    for kind in ('zip', 'raw'):
        message = _refused(load_torch_file, files[kind], sentinel)
        assert '--trust-checkpoint' in message


def test_trust_unpickles_in_full(evil, tmp_path):
    sentinel, files = evil
    load_torch_file(files['zip'], trust=True)
    assert sentinel.exists()  # the flag is what allows code to run


@pytest.mark.parametrize('content,expect', [
    (b'', 'empty'), (b'this is not a checkpoint', 'corrupt'),
    (None, 'corrupt')])
def test_corrupt_files_are_reported_as_corrupt(tmp_path, content, expect):
    path = tmp_path / 'bad.pth'
    if content is None:  # truncated zip checkpoint
        torch.save({'w': torch.ones(100)}, path)
        data = path.read_bytes()
        path.write_bytes(data[:len(data) // 2])
    else:
        path.write_bytes(content)
    for trust in (False, True):
        with pytest.raises(CorruptFileError, match=expect) as info:
            load_torch_file(path, trust=trust)
        assert str(path) in str(info.value)
        assert 'trust-checkpoint' not in str(info.value)


def test_missing_file_and_non_dict(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_torch_file(tmp_path / 'nope.pth')
    path = tmp_path / 'list.pth'
    torch.save([torch.ones(2)], path)
    with pytest.raises(ValueError, match='holds a list'):
        require_dict(load_torch_file(path), str(path))
    good = tmp_path / 'good.pth'
    torch.save({'w': torch.arange(3.)}, good)
    assert torch.equal(load_torch_file(good)['w'], torch.arange(3.))


def test_npy_refused_and_corrupt(evil, tmp_path):
    sentinel, files = evil
    _refused(load_npy_safely, files['npy'], sentinel)
    good = tmp_path / 'ok.npy'
    np.save(good, np.arange(6).reshape(2, 3))
    assert load_npy_safely(good).sum() == 15
    trunc = tmp_path / 'trunc.npy'
    trunc.write_bytes(good.read_bytes()[:-8])
    with pytest.raises(CorruptFileError, match='trunc.npy'):
        load_npy_safely(trunc)


def test_every_api_refuses(evil, tmp_path):
    from mtpsl.apis.inference import load_weights
    from mtpsl.datasets.regimes import load_published_split
    from mtpsl.regions.io import read_region_map
    from mtpsl.regions.sam import load_sam_checkpoint
    from mtpsl.utils.compat import checkpoint_path
    sentinel, files = evil
    _refused(load_weights, files['zip'], sentinel)
    _refused(load_published_split, files['split'], sentinel)
    # .npy splits go through their own allow-list unpickler
    _refused(lambda p: load_published_split(p, 'pascal_context'),
             files['npy'], sentinel, exc=ValueError)
    _refused(read_region_map, files['npy'], sentinel)
    _refused(lambda p: load_sam_checkpoint(p, 'vit_b'), files['zip'],
             sentinel)
    from mmengine.runner.checkpoint import _load_checkpoint
    _refused(lambda p: _load_checkpoint(checkpoint_path(p)), files['zip'],
             sentinel)
    lst = tmp_path / 'list.pth'
    torch.save([1, 2], lst)
    with pytest.raises(ValueError, match='holds a list'):
        load_weights(str(lst))
    with pytest.raises(ValueError, match='holds a list'):
        _load_checkpoint(checkpoint_path(str(lst)))
