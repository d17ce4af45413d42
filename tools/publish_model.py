"""Turn a training checkpoint into a publishable one.

``python tools/publish_model.py IN.pth OUT_DIR [--name CONFIG_NAME]`` writes
``OUT_DIR/{name}_{yyyymmdd}-{sha256[:8]}.pth``: the model's weights only (a
plain state dict that loads with ``torch.load(weights_only=True)``), with
the parameters of cross-task methods and other training-only modules
dropped when ``--drop-prefix`` names them.
"""
import argparse
import datetime
import hashlib
import os
import os.path as osp

import sys

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mtpsl.utils.cli import run_tool  # noqa: E402
from mtpsl.utils.safe_load import load_torch_file, require_dict  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('checkpoint', help='your own training checkpoint')
    p.add_argument('out_dir')
    p.add_argument('--name', help='published name (default: the file stem)')
    p.add_argument('--drop-prefix', nargs='*', default=[],
                   help='state-dict key prefixes to drop, e.g. methods.')
    p.add_argument('--trust-checkpoint', action='store_true',
                   help='unpickle the input in full: needed for a training '
                   'checkpoint (it holds MMEngine objects), and only for one '
                   'you made yourself; without it the input is loaded with '
                   'weights_only=True and a pickle asking for code is refused')
    return p.parse_args(argv)


def publish(checkpoint: str, out_dir: str, name: str = None,
            drop_prefix=(), trust_checkpoint: bool = False) -> str:
    """Write the weights-only checkpoint and return its path."""
    # Safe (weights only) unless the user vouches for the file: a training
    # checkpoint holds MMEngine objects and needs --trust-checkpoint.
    ckpt = require_dict(load_torch_file(checkpoint, trust=trust_checkpoint),
                        checkpoint)
    state = ckpt.get('state_dict', ckpt)
    if not isinstance(state, dict) or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f'{checkpoint}: no state dict of tensors found')
    state = {k: v.contiguous() for k, v in state.items()
             if not any(k.startswith(p) for p in drop_prefix)}
    os.makedirs(out_dir, exist_ok=True)
    tmp = osp.join(out_dir, '.publish_tmp.pth')
    torch.save(state, tmp)
    with open(tmp, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:8]
    name = name or osp.splitext(osp.basename(checkpoint))[0]
    date = datetime.date.today().strftime('%Y%m%d')
    out = osp.join(out_dir, f'{name}_{date}-{digest}.pth')
    os.replace(tmp, out)
    return out


def main(argv=None):
    args = parse_args(argv)
    out = publish(args.checkpoint, args.out_dir, args.name, args.drop_prefix,
                  args.trust_checkpoint)
    print(out)


if __name__ == '__main__':
    run_tool(main)
