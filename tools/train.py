"""Train a model from a config: ``python tools/train.py CONFIG``."""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mtpsl.utils.cli import run_tool  # noqa: E402

from mtpsl.apis.config import load_config  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a mtpsl model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from the latest checkpoint of the work '
                        'dir, or from the given checkpoint; implies '
                        '--trust-checkpoint (your own run\'s checkpoint is '
                        'unpickled in full)')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='unpickle the config\'s load_from checkpoint in '
                        'full (a training checkpoint you made yourself); '
                        'without it, it is loaded with weights_only=True and '
                        'a pickle asking for code is refused')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='override config keys, e.g. train_cfg.max_iters=10')
    parser.add_argument('--data-root', help='dataset root for every '
                        'dataloader (train, val, test), replacing the '
                        "config's data_root (--cfg-options data_root=... "
                        'cannot: the config already substituted it)')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, args.data_root)
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        import torch
        if not torch.cuda.is_available():
            raise SystemExit('--amp needs a CUDA device (MMEngine\'s '
                             'AmpOptimWrapper); this machine has none')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    cfg.trust_load_from = bool(args.trust_checkpoint or args.resume)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume

    from mtpsl.engine import MTPSLRunner, shutdown_distributed
    runner = MTPSLRunner.from_cfg(cfg)
    runner.train()
    shutdown_distributed(runner)


if __name__ == '__main__':
    run_tool(main)
