"""Every tool that opens a checkpoint refuses a crafted pickle: the file its
unpickling would create never appears, the exit status is non-zero, and the
one-line message names the file and the refused global."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import REPO, tiny_train_config


class _Touch:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.system, (f'touch {self.path}',))


@pytest.fixture(scope='module')
def crafted(tmp_path_factory, tiny_procedural_root):
    tmp = tmp_path_factory.mktemp('crafted')
    sentinel = tmp / 'PWNED'
    ckpt = tmp / 'evil.pth'
    torch.save({'state_dict': {'w': torch.ones(1)}, 'x': _Touch(sentinel)},
               ckpt)
    config = tiny_train_config(tiny_procedural_root, str(tmp / 'work'),
                               max_iters=1)
    image = tmp / 'image.npy'
    np.save(image, np.random.default_rng(0).random((32, 48, 3),
                                                   dtype=np.float32))
    return dict(sentinel=sentinel, ckpt=str(ckpt), config=config,
                image=str(image), tmp=tmp)


def _tool(args, timeout=400):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable] + args, cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _assert_refused(out, crafted):
    assert out.returncode != 0, out.stdout[-2000:]
    assert not crafted['sentinel'].exists()
    assert crafted['ckpt'] in out.stderr and 'posix.system' in out.stderr, \
        out.stderr[-3000:]
    assert 'Traceback' not in out.stderr  # one clear message


def _tool_path(name):
    return osp.join(REPO, 'tools', name)


def test_publish_model_refuses(crafted):
    out = _tool([_tool_path('publish_model.py'), crafted['ckpt'],
                 str(crafted['tmp'] / 'pub')])
    _assert_refused(out, crafted)
    assert not osp.exists(crafted['tmp'] / 'pub')


def test_image_demo_refuses(crafted):
    out = _tool([_tool_path('image_demo.py'), crafted['image'],
                 crafted['config'], crafted['ckpt'], '--out',
                 str(crafted['tmp'] / 'p.png')])
    _assert_refused(out, crafted)


def test_generate_region_maps_refuses(crafted):
    folder = crafted['tmp'] / 'images'
    folder.mkdir(exist_ok=True)
    np.save(folder / 'a.npy', np.zeros((8, 8, 3), np.float32))
    out = _tool([_tool_path('generate_region_maps.py'), str(folder),
                 '--checkpoint', crafted['ckpt'], '--model-type', 'vit_b',
                 '--out-dir', str(crafted['tmp'] / 'sam'), '--no-progress'])
    _assert_refused(out, crafted)


@pytest.mark.slow
def test_test_and_train_refuse(crafted):
    out = _tool([_tool_path('test.py'), crafted['config'], crafted['ckpt']])
    _assert_refused(out, crafted)
    out = _tool([_tool_path('train.py'), crafted['config'], '--cfg-options',
                 f'load_from={crafted["ckpt"]}'])
    _assert_refused(out, crafted)


def test_debug_flag_shows_the_traceback(crafted):
    out = _tool([_tool_path('publish_model.py'), crafted['ckpt'],
                 str(crafted['tmp'] / 'pub'), '--debug'])
    assert out.returncode != 0 and 'Traceback' in out.stderr
    assert not crafted['sentinel'].exists()
