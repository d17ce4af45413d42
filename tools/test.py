"""Evaluate a checkpoint: ``python tools/test.py CONFIG CKPT``."""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mtpsl.utils.cli import run_tool  # noqa: E402

from mtpsl.apis.config import load_config  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a mtpsl model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the test log goes')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='the checkpoint is a training checkpoint you made '
                        'yourself: unpickle it in full (published checkpoints '
                        'are plain state dicts and do not need this); without '
                        'it the checkpoint is loaded with weights_only=True '
                        'and a pickle asking for code is refused')
    parser.add_argument('--out', help='write the metrics to this JSON file')
    parser.add_argument('--show-dir', help='write one picture per image '
                        '(image, GT, prediction, error per task) here')
    parser.add_argument('--show-limit', type=int, default=None,
                        help='at most this many pictures')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='KEY=VALUE')
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


def strict_json_metrics(metrics: dict) -> dict:
    """``metrics`` as strict JSON: a non-finite value becomes null, and
    ``null_reasons`` says why (e.g. a class absent from the test set)."""
    import math
    out, reasons = {}, {}
    for key, value in metrics.items():
        if isinstance(value, float) and not math.isfinite(value):
            out[key] = None
            reasons[key] = (f'{value} (no pixel of this class in the GT or '
                            'the prediction)' if '/IoU.' in key or '/Acc.'
                            in key else f'{value} (not computable)')
        else:
            out[key] = value
    if reasons:
        out['null_reasons'] = reasons
    return out


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    cfg = load_config(args.config, args.cfg_options, args.data_root)
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    cfg.resume = False
    cfg.trust_load_from = args.trust_checkpoint
    if args.show_dir:
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [dict(
            type='MultiTaskVisualizationHook', out_dir=args.show_dir,
            limit=args.show_limit)]

    from mtpsl.engine import MTPSLRunner, shutdown_distributed
    from mtpsl.evaluation import format_metrics_table
    runner = MTPSLRunner.from_cfg(cfg)
    metrics = runner.test()
    if runner.rank == 0:
        print(format_metrics_table(metrics))
        if args.out:
            os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
            with open(args.out, 'w') as f:
                json.dump(strict_json_metrics(metrics), f, indent=2,
                          allow_nan=False)
    shutdown_distributed(runner)
    return metrics


if __name__ == '__main__':
    run_tool(main)
