"""Shared fixtures: tiny datasets made here, never downloaded."""
import os
import os.path as osp
import random
import socket
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

DEMO_CONFIG = osp.join(
    REPO, 'configs', 'baseline',
    'mtl_segnet-w16_1xb8-600it_procedural-full-96x128.py')


@pytest.fixture(scope='session', autouse=True)
def one_torch_thread():
    """One intra-op thread: on 2 shared cores a second thread makes
    HRNet-sized steps 10-100x slower whenever another process runs."""
    import torch
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def restore_field_table():
    """Each test starts from the field table it found: a pipeline declares
    its fields (e.g. HiTTs' saved features, whose width depends on the
    config) for its process, and one process trains one config."""
    from mtpsl.structures import fields
    saved = dict(fields.FIELDS)
    yield
    fields.FIELDS.clear()
    fields.FIELDS.update(saved)


@pytest.fixture(scope='session')
def tiny_procedural_root(tmp_path_factory):
    """A 32x48 procedural dataset: 16 train (12 + 4 carved val), 4 test."""
    from mtpsl.datasets.procedural import generate_dataset
    root = tmp_path_factory.mktemp('procedural') / 'data'
    generate_dataset(root, height=32, width=48, num_train=16, num_test=4,
                     seed=0, val_fraction=0.25, workers=1, progress=False)
    return str(root)


def run_python(code: str, timeout: int = 300):
    """Run ``python -c code`` from the repo root in a fresh interpreter."""
    import os
    import subprocess
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.run([sys.executable, '-c', code], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


# Every shipped method adds itself here: tests/test_engine/test_resume.py
# checks that an interrupted run, resumed, ends bit for bit where the
# uninterrupted one ends. ``{name: (base config, methods source)}``.
RESUME_METHODS = {
    'baseline': (DEMO_CONFIG, ''),
    # the release's defaults: nested two views, one joint forward, XTC on
    # view 2, the FiLM on its own lr schedule
    'xtc': (osp.join(REPO, 'configs', 'xtc',
                     'xtc_segnet-w16_1xb8-600it_procedural-onelabel-96x128.py'),
            "[dict(type='XTC', num_classes=dict(sem_seg=13), "
            "feat_channels=8, mapper=dict(widths=segnet_widths))]"),
    'ccr': (osp.join(REPO, 'configs', 'ccr',
                     'ccr_segnet-w16_1xb8-600it_procedural-onelabel-96x128.py'),
            "[dict(type='CCR', feat_channels=4, proj_channels=8, "
            "feature_stride=2)]"),
    # oracle regions through the pipeline, the ramp-up hook, the bank and
    # random negatives (their draws and the bank are part of the state)
    'region_contrast': (
        osp.join(REPO, 'configs', 'region_contrast', 'rc-oracle_segnet-w16_'
                 '1xb8-600it_procedural-onelabel-96x128.py'),
        "[dict(type='RegionContrast', num_classes=dict(sem_seg=13), "
        "mapper=dict(widths=(4, 4, 8, 8), convs_per_stage=1), "
        "bank_size=64, negatives=2, negative_select='random')]"),
    # a 2-task ResNet + U-Net base: the third entry replaces the SegNet
    # model line of tiny_train_config (``{methods}`` is filled in)
    'xtasc': (osp.join(REPO, 'configs', 'xtasc',
                       'mtl_resnet18-w16-unet_1xb8-600it_procedural-'
                       'onelabel-96x128.py'),
              "[dict(type='XTasC', num_classes=13, loss_weight=0.01, "
              "down_channels=(4, 8, 8), up_channels=(8, 4, 4))]",
              "model = dict(backbone=dict(stem_channels=4, base_channels=4), "
              "heads=dict(sem_seg=dict(in_channels=(4, 4, 8, 16, 32), "
              "channels=8), depth=dict(in_channels=(4, 4, 8, 16, 32), "
              "channels=8)), methods={methods})"),
}


def free_port() -> int:
    """A TCP port on the loopback interface that is free right now.

    Under pytest-xdist each worker draws from its own block of ports below
    the kernel's ephemeral range, so two workers never hand out the same
    port between one's check and its torchrun's bind."""
    worker = os.environ.get('PYTEST_XDIST_WORKER', '')
    if not worker.startswith('gw'):
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            return s.getsockname()[1]
    block = 20000 + 1000 * (int(worker[2:]) % 10)
    rng = random.Random()
    for _ in range(200):
        port = block + rng.randrange(1000)
        with socket.socket() as s:
            try:
                s.bind(('127.0.0.1', port))
            except OSError:
                continue
            return port
    raise RuntimeError(f'no free port in {block}..{block + 999}')


def tiny_train_config(data_root: str, work_dir: str, max_iters: int = 6,
                      batch_size: int = 2, lr: float = 1e-3,
                      checkpoint_interval: int = 3, base: str = DEMO_CONFIG,
                      methods: str = '', model: str = '',
                      **extra) -> str:
    """Write a config that trains the narrowest SegNet on ``data_root``.

    ``base`` is the config it inherits; ``methods`` the source text of a
    ``model.methods`` list (widths 4-8: a method's channels must fit);
    ``model`` (optional) the source of the model line for a base that is
    not the 3-task SegNet, with ``{methods}`` where the list goes."""
    methods_line = f', methods={methods}' if methods else ''
    model_line = (model.format(methods=methods or '[]') if model else
                  'model = dict(backbone=dict(widths=segnet_widths), '
                  'heads=dict(sem_seg=dict(in_channels=4), depth=dict('
                  f'in_channels=4), normal=dict(in_channels=4)){methods_line})')
    lines = [
        f'_base_ = [{base!r}]',
        f'work_dir = {work_dir!r}',
        'segnet_widths = (4, 8, 8, 8, 8)',
        model_line,
        f'optim_wrapper = dict(optimizer=dict(lr={lr}))',
        f'train_cfg = dict(max_iters={max_iters}, '
        f'val_interval={max_iters})',
        f'default_hooks = dict(logger=dict(interval=1), checkpoint=dict('
        f'interval={checkpoint_interval}, max_keep_ckpts=-1))',
    ]
    for loader, bs in (('train_dataloader', batch_size),
                       ('val_dataloader', 2), ('test_dataloader', 2)):
        lines.append(f'{loader} = dict(batch_size={bs}, num_workers=0, '
                     f'persistent_workers=False, dataset=dict('
                     f'data_root={data_root!r}))')
    for key, value in extra.items():
        lines.append(f'{key} = {value!r}')
    # Not inside work_dir: the Runner dumps its config there under the
    # config's own file name.
    path = work_dir.rstrip('/') + '_config.py'
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def run_checked(cmd, timeout: int = 600, extra_path: str = None) -> str:
    """Run ``cmd`` from the repo root with one thread per process (and
    ``extra_path`` on PYTHONPATH, e.g. a test's own module); assert it
    succeeded; its output."""
    import os
    import subprocess
    path = REPO if extra_path is None else f'{REPO}{os.pathsep}{extra_path}'
    env = dict(os.environ, PYTHONPATH=path, OMP_NUM_THREADS='1',
               MKL_NUM_THREADS='1')
    out = subprocess.run([str(c) for c in cmd], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return out.stdout + out.stderr


def torchrun(*args, nproc: int = 2) -> list:
    """The command of ``torchrun --nproc_per_node=nproc args`` on the
    loopback interface, for :func:`run_checked`."""
    return [sys.executable, '-m', 'torch.distributed.run',
            f'--nproc_per_node={nproc}', f'--master_port={free_port()}',
            '--master_addr=127.0.0.1', *args, '--launcher', 'pytorch']


def assert_ranks_agree(work_dir, prefix: str, iters: int) -> dict:
    """What ``RankAgreementHook`` wrote in ``work_dir``: both ranks' digests
    equal, some of them ``prefix``'s (the method's), and equal to rank 0's
    checkpoint ``iter_{iters}.pth``. Returns that checkpoint's state dict."""
    import json

    import torch

    from mtpsl.engine.hooks.rank_agreement_hook import tensor_digests
    ranks = [json.load(open(osp.join(str(work_dir),
                                     f'param_digests_rank{r}.json')))
             for r in (0, 1)]
    assert ranks[0] == ranks[1]
    assert any(k.startswith(prefix) for k in ranks[0]), sorted(ranks[0])[:5]
    state = torch.load(osp.join(str(work_dir), f'iter_{iters}.pth'),
                       weights_only=False)['state_dict']
    assert tensor_digests({k: state[k] for k in ranks[0]}) == ranks[0]
    return state
