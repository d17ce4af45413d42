"""Run the 2-process train / resume / test cycle (and XTC under DDP) N times.

``python tools/stress_distributed.py --cycles 20 --busy 1`` trains a tiny
SegNet on 2 gloo processes, resumes it, tests it on 2 processes, and trains
MTL + XTC on 2 processes with ``RankAgreementHook`` (parameters compared
bit for bit across ranks), once per cycle, while ``--busy`` processes spin
(a loaded machine). Prints one line per step that fails, then the count.
Exit status: the number of failed cycles (0: none).
"""
import argparse
import json
import os
import os.path as osp
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

BASE = osp.join(REPO, 'configs', 'baseline',
                'mtl_segnet-w16_1xb8-600it_procedural-full-96x128.py')
XTC = osp.join(REPO, 'configs', 'xtc',
               'xtc_segnet-w16_1xb8-600it_procedural-onelabel-96x128.py')
HEADS = ('heads=dict(sem_seg=dict(in_channels=4), depth=dict(in_channels=4),'
         ' normal=dict(in_channels=4))')


def write_config(path: str, base: str, data_root: str, work_dir: str,
                 iters: int, extra: str = '', hooks: str = '') -> str:
    """A config with widths 4-8, batch 1 per rank, ``iters`` iterations."""
    lines = [f'_base_ = [{base!r}]', f'work_dir = {work_dir!r}',
             'w = (4, 8, 8, 8, 8)',
             f'model = dict(backbone=dict(widths=w), {HEADS}{extra})',
             f'train_cfg = dict(max_iters={iters}, val_interval={iters})',
             'default_hooks = dict(logger=dict(interval=1), checkpoint=dict('
             f'interval={max(iters // 2, 1)}, max_keep_ckpts=-1))',
             f'custom_hooks = [{hooks}]']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        lines.append(f'{loader} = dict(batch_size=1, num_workers=0, '
                     'persistent_workers=False, '
                     f'dataset=dict(data_root={data_root!r}))')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def free_port() -> int:
    """A loopback TCP port that is free now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def torchrun(args: list, log: str, timeout: int) -> int:
    """Run ``tools/<args>`` on 2 processes; the exit status (124: timeout)."""
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    cmd = [sys.executable, '-m', 'torch.distributed.run',
           '--nproc_per_node=2', f'--master_port={free_port()}',
           '--master_addr=127.0.0.1'] + args + ['--launcher', 'pytorch']
    with open(log, 'w') as f:
        try:
            return subprocess.run(cmd, cwd=REPO, env=env, stdout=f,
                                  stderr=subprocess.STDOUT,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            return 124


def ranks_agree(work: str) -> bool:
    """Whether both ranks wrote the same parameter digests."""
    digests = []
    for rank in (0, 1):
        path = osp.join(work, f'param_digests_rank{rank}.json')
        if not osp.isfile(path):
            return False
        with open(path) as f:
            digests.append(json.load(f))
    return digests[0] == digests[1] and len(digests[0]) > 0


def one_cycle(tmp: str, data_root: str, cycle: int, iters: int,
              timeout: int) -> list:
    """The failed steps of one cycle (empty when all passed)."""
    work = osp.join(tmp, f'cycle{cycle}')
    base = write_config(work + '_base.py', BASE, data_root, work + '/mtl',
                        2 * iters)
    xtc = write_config(
        work + '_xtc.py', XTC, data_root, work + '/xtc', iters,
        extra=", methods=[dict(type='XTC', num_classes=dict(sem_seg=13), "
              "feat_channels=8, mapper=dict(widths=w))]",
        hooks="dict(type='RankAgreementHook')")
    train, test = osp.join('tools', 'train.py'), osp.join('tools', 'test.py')
    steps = [
        ('train', [train, base, '--cfg-options',
                   f'train_cfg.max_iters={iters}']),
        ('resume', [train, base, '--resume']),
        ('test', [test, base, osp.join(work, 'mtl', f'iter_{2 * iters}.pth'),
                  '--trust-checkpoint']),
        ('xtc', [train, xtc]),
    ]
    failed = []
    for name, args in steps:
        log = f'{work}_{name}.log'
        rc = torchrun(args, log, timeout)
        with open(log) as f:
            text = f.read()
        if rc != 0 or 'terminate called' in text:
            failed.append(f'{name} (exit {rc}; log {log})')
        elif name == 'xtc' and not ranks_agree(osp.join(work, 'xtc')):
            failed.append(f'xtc: ranks disagree (log {log})')
    return failed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--cycles', type=int, default=20)
    parser.add_argument('--iters', type=int, default=2,
                        help='iterations before the resume (and after)')
    parser.add_argument('--busy', type=int, default=1,
                        help='spinning processes that load the machine')
    parser.add_argument('--timeout', type=int, default=600,
                        help='seconds per step')
    parser.add_argument('--keep', help='keep work dirs and logs here')
    args = parser.parse_args(argv)
    from mtpsl.datasets.procedural import generate_dataset
    tmp = args.keep or tempfile.mkdtemp(prefix='mtpsl_stress_')
    os.makedirs(tmp, exist_ok=True)
    data_root = osp.join(tmp, 'data')
    if not osp.isdir(data_root):
        generate_dataset(data_root, height=32, width=48, num_train=8,
                         num_test=2, seed=0, val_fraction=0.25, workers=1,
                         progress=False)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))  # run `finally`
    spinners = [subprocess.Popen([sys.executable, '-c', 'while True: pass'])
                for _ in range(args.busy)]
    failures, start = 0, time.time()
    try:
        for cycle in range(1, args.cycles + 1):
            failed = one_cycle(tmp, data_root, cycle, args.iters,
                               args.timeout)
            failures += bool(failed)
            print(f'cycle {cycle}/{args.cycles}: '
                  f'{"FAILED " + "; ".join(failed) if failed else "ok"} '
                  f'({time.time() - start:.0f} s)', flush=True)
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    print(f'{failures} failed cycles of {args.cycles} '
          f'({args.busy} busy processes; work in {tmp})')
    return failures


if __name__ == '__main__':
    sys.exit(main())
