"""The CUDA path, checked in one go on the day a GPU is lent.

    bash tools/check_cuda.sh [--only NAME ...] [--list] [--require-cuda]

One line per check: PASS / FAIL / SKIP, its name and its figures (median
step time, peak CUDA memory). Checks: the training step of every narrow
(``-w16_``) config of every config folder, found by glob (so methods added
later are included), AMP, nccl (world of 1; DDP with 2 processes when
there are 2 GPUs), SAM region maps on the GPU with random weights, and the
batched Gaussian W2 of region contrast at the release's size when that
module exists. Exits 1 if any check fails, 0 otherwise (every check is a
SKIP on a machine without CUDA; 2 then with ``--require-cuda``).
"""
import argparse
import glob
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
DATA = osp.join(REPO, 'data', 'procedural-96x128')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
MTL = osp.join(REPO, 'configs', 'baseline',
               'mtl_segnet-w16_1xb8-600it_procedural-full-96x128.py')


class Skip(Exception):
    """The check cannot run here (the reason is the message)."""


def narrow_configs() -> list:
    """Every narrow CPU config (``*-w16_*``) of every config folder."""
    return sorted(glob.glob(osp.join(REPO, 'configs', '*', '*-w16_*.py')))


def _cuda():
    import torch
    if not torch.cuda.is_available():
        raise Skip('no CUDA device')
    torch.cuda.reset_peak_memory_stats()
    return torch


def _peak() -> str:
    import torch
    return f'peak {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB'


def train_steps(config: str, steps: int = 12, amp: bool = False) -> str:
    """``steps`` Runner iterations of ``config`` on the GPU; its figures."""
    torch = _cuda()
    from mmengine.hooks import Hook

    from mtpsl.apis.config import load_config
    from mtpsl.datasets.procedural import generate_dataset
    from mtpsl.engine import MTPSLRunner
    from mtpsl.registry import HOOKS
    generate_dataset(DATA, preset='small', seed=0)
    stamps = []

    @HOOKS.register_module(force=True)
    class _CheckStamp(Hook):
        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            torch.cuda.synchronize()
            stamps.append(time.perf_counter())
            losses = [float(v) for k, v in (outputs or {}).items()
                      if 'loss' in k]
            if not all(map(lambda x: x == x and abs(x) != float('inf'),
                           losses)):
                raise RuntimeError(f'non-finite loss at step {batch_idx}: '
                                   f'{outputs}')

    cfg = load_config(config)
    for loader in LOADERS:
        cfg[loader].dataset.data_root = DATA
    cfg.train_cfg.max_iters = steps
    cfg.train_cfg.val_interval = 10**6
    cfg.default_hooks.checkpoint.interval = 10**6
    cfg.default_hooks.logger.interval = steps
    cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
        dict(type='_CheckStamp')]
    cfg.log_level = 'WARNING'
    if amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    with tempfile.TemporaryDirectory() as work:
        cfg.work_dir = work
        cfg.experiment_name = f'check_{time.time_ns()}'
        MTPSLRunner.from_cfg(cfg).train()
    deltas = [b - a for a, b in zip(stamps, stamps[1:])][2:]
    return f'step {statistics.median(deltas) * 1000:.1f} ms, {_peak()}'


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def nccl_one_process() -> str:
    """nccl initialised in one process (world 1), one all-reduce."""
    torch = _cuda()
    import torch.distributed as dist
    if not dist.is_nccl_available():
        raise RuntimeError('this torch was built without nccl')
    start = time.perf_counter()
    dist.init_process_group('nccl', init_method=f'tcp://127.0.0.1:'
                            f'{_free_port()}', world_size=1, rank=0)
    try:
        x = torch.ones(4, device='cuda')
        dist.all_reduce(x)
        torch.cuda.synchronize()
        if x.sum().item() != 4:
            raise RuntimeError(f'all_reduce gave {x.tolist()}')
    finally:
        dist.destroy_process_group()
    return f'init + all_reduce {(time.perf_counter() - start) * 1000:.0f} ms'


def ddp_two_gpus() -> str:
    """tools/train.py under torchrun, 2 processes, nccl, 12 iterations."""
    torch = _cuda()
    if torch.cuda.device_count() < 2:
        raise Skip(f'{torch.cuda.device_count()} GPU: DDP needs 2')
    from mtpsl.datasets.procedural import generate_dataset
    generate_dataset(DATA, preset='small', seed=0)
    with tempfile.TemporaryDirectory() as work:
        opts = [f'{loader}.dataset.data_root={DATA}' for loader in LOADERS]
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, '-m', 'torch.distributed.run',
             '--nproc_per_node=2', f'--master_port={_free_port()}',
             'tools/train.py', MTL, '--launcher', 'pytorch', '--work-dir',
             work, '--cfg-options', 'train_cfg.max_iters=12',
             'train_cfg.val_interval=1000000', *opts],
            cwd=REPO, capture_output=True, text=True, timeout=300,
            env=dict(os.environ, PYTHONPATH=REPO))
        if out.returncode:
            raise RuntimeError(out.stderr.strip().splitlines()[-1][:300])
        if not osp.isfile(osp.join(work, 'iter_12.pth')):
            raise RuntimeError('no iter_12.pth written')
    return f'12 iterations in {time.perf_counter() - start:.1f} s (2 ranks)'


def sam_region_maps() -> str:
    """SAM ViT-B with random weights: one 288x384 region map on the GPU."""
    torch = _cuda()
    import numpy as np

    from mtpsl.regions.sam import SamRegionMapper, build_sam
    model = build_sam('vit_b', random_weights=True, device='cuda')
    mapper = SamRegionMapper(model, points_per_side=16)
    image = (np.random.default_rng(0).random((288, 384, 3)) * 255).astype(
        np.uint8)
    mapper(image)  # warm-up
    torch.cuda.synchronize()
    start = time.perf_counter()
    ids = mapper(image)
    torch.cuda.synchronize()
    if ids.shape != (288, 384):
        raise RuntimeError(f'region map of shape {ids.shape}')
    return (f'{(time.perf_counter() - start) * 1000:.0f} ms per image, '
            f'{len(np.unique(ids))} ids, {_peak()}')


def w2_full_size() -> str:
    """Batched W2 of region contrast at the release's size (batch 10,
    32-d, 144x192, 30 regions an image, 1000 bank Gaussians), fwd + bwd."""
    torch = _cuda()
    try:
        from mtpsl.models.methods.gaussian_regions import (region_gaussians,
                                                           w2_squared)
    except ImportError as e:
        raise Skip(f'no W2 module on this branch ({e})')
    g = torch.Generator(device='cuda').manual_seed(0)
    feats = torch.randn(10, 32, 144, 192, device='cuda', generator=g,
                        requires_grad=True)
    ids = torch.randint(1, 31, (10, 144, 192), device='cuda', generator=g)
    bank_ids = torch.randint(1, 101, (10, 144, 192), device='cuda',
                             generator=g)
    bank_feats = torch.randn(10, 32, 144, 192, device='cuda', generator=g)
    with torch.no_grad():
        bank = region_gaussians(bank_feats, bank_ids)[0]
    torch.cuda.synchronize()
    start = time.perf_counter()
    regions = region_gaussians(feats, ids)[0]
    dist = w2_squared(regions, bank)
    dist.sum().backward()
    torch.cuda.synchronize()
    if not torch.isfinite(feats.grad).all():
        raise RuntimeError('non-finite W2 gradients')
    return (f'{dist.numel()} pairs fwd + bwd in '
            f'{(time.perf_counter() - start) * 1000:.0f} ms, {_peak()}')


def all_checks() -> dict:
    """``{name: callable}`` in the order they run."""
    checks = {}
    for config in narrow_configs():
        name = 'train ' + osp.relpath(config, osp.join(REPO, 'configs'))
        checks[name] = (lambda c=config: train_steps(c))
    checks['amp ' + osp.basename(MTL)] = lambda: train_steps(MTL, amp=True)
    checks['nccl (1 process)'] = nccl_one_process
    checks['ddp nccl (2 GPUs)'] = ddp_two_gpus
    checks['sam region maps (GPU, random weights)'] = sam_region_maps
    checks['w2 region contrast (release size)'] = w2_full_size
    return checks


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--only', nargs='+', default=[],
                   help='substrings of check names')
    p.add_argument('--list', action='store_true')
    p.add_argument('--require-cuda', action='store_true',
                   help='exit 2 when there is no CUDA device')
    args = p.parse_args(argv)
    checks = {n: f for n, f in all_checks().items()
              if not args.only or any(o in n for o in args.only)}
    if args.list:
        print('\n'.join(checks))
        return 0
    import torch
    if args.require_cuda and not torch.cuda.is_available():
        print(f'no CUDA device (torch {torch.__version__}); --require-cuda')
        return 2
    failed = 0
    start = time.time()
    for name, check in checks.items():
        try:
            figure = check()
            print(f'PASS  {name}: {figure}', flush=True)
        except Skip as e:
            print(f'SKIP  {name}: {e}', flush=True)
        except Exception as e:  # a failed check is reported, not raised
            failed += 1
            where = traceback.extract_tb(e.__traceback__)[-1]
            print(f'FAIL  {name}: {type(e).__name__}: {str(e)[:300]} '
                  f'({osp.basename(where.filename)}:{where.lineno})',
                  flush=True)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() \
        else 'no CUDA'
    print(f'{len(checks)} checks, {failed} failed, '
          f'{time.time() - start:.0f} s (torch {torch.__version__}, '
          f'{device})')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
