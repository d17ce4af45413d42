"""Make HiTTs' offline pseudo supervision with a trained stage-1 model.

``python tools/make_pseudo_labels.py STAGE1_CONFIG CKPT --out DIR
[--tau sem_seg=0.9 depth=0.45 ...] [--shard i/n] [--overwrite]
[--no-features] [--device cpu|cuda] [--trust-checkpoint]
[--no-progress]``

For every training image of STAGE1_CONFIG (its label regime), through its
un-augmented test pipeline: pseudo labels (GT units; pixels at or under tau
at the task's invalid value) of the tasks the image is NOT labelled for, and
the features F_i' and masks M^f of every task (float16, at the joint stage's
stride), one ``DIR/{img_id}.npz`` each, plus ``DIR/manifest.json``
(checkpoint sha256, label regime, tau, stride, dtype) that stage 2 checks.
Resumable: existing entries are skipped. Shards: ``--shard i/n`` or
torchrun's RANK/WORLD_SIZE. tau defaults to the config's ``pseudo_tau``.
``--no-features``: naive pseudo labels of a plain (binned) MTL/STL model
(Table 5's L_p*). docs: configs/hitts/README.md.
"""
import argparse
import json
import os.path as osp
import sys

if __package__ in (None, ''):  # run as a script from a checkout
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_tau(items, default):
    """``['task=v', ...]`` over the config's ``pseudo_tau``."""
    tau = dict(default or {})
    for item in items or ():
        task, sep, value = item.partition('=')
        if not sep:
            raise ValueError(f'--tau entries are task=value, got {item!r}')
        tau[task] = float(value)
    return tau


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='the stage-1 config')
    p.add_argument('checkpoint', help='the stage-1 checkpoint')
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument('--tau', nargs='*', default=None,
                   help="task=threshold (default: the config's pseudo_tau)")
    p.add_argument('--shard', default=None,
                   help='i/n (default: RANK/WORLD_SIZE of torchrun, else 0/1)')
    p.add_argument('--overwrite', action='store_true',
                   help="remake this shard's entries and the manifest")
    p.add_argument('--no-features', action='store_true',
                   help='pseudo labels only (naive L_p* of a plain model)')
    p.add_argument('--device', default=None,
                   help='default: cuda (cuda:LOCAL_RANK) if available')
    p.add_argument('--trust-checkpoint', action='store_true',
                   help='CKPT is a training checkpoint you made (pickled '
                        'objects besides tensors)')
    p.add_argument('--no-progress', action='store_true')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import os

    import torch

    from mtpsl.apis.config import load_config
    from mtpsl.engine.pseudo_supervision import produce
    from mtpsl.regions.writer import parse_shard
    try:
        if not osp.isfile(args.checkpoint):
            raise FileNotFoundError(f'checkpoint not found: '
                                    f'{args.checkpoint}')
        cfg = load_config(args.config)
        tau = parse_tau(args.tau, cfg.get('pseudo_tau'))
        shard = parse_shard(args.shard)
        device = args.device or ('cuda:%d' % int(os.environ.get(
            'LOCAL_RANK', 0)) if torch.cuda.is_available() else 'cpu')
        summary = produce(cfg, args.checkpoint, args.out, tau, shard,
                          args.overwrite, not args.no_features, device,
                          not args.no_progress, args.trust_checkpoint)
    except (FileNotFoundError, KeyError, ValueError, RuntimeError) as e:
        print(f'make_pseudo_labels: error: {e}', file=sys.stderr)
        return 2
    print('[pseudo] ' + json.dumps(summary, sort_keys=True), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
