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

import torch


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('checkpoint', help='your own training checkpoint')
    p.add_argument('out_dir')
    p.add_argument('--name', help='published name (default: the file stem)')
    p.add_argument('--drop-prefix', nargs='*', default=[],
                   help='state-dict key prefixes to drop, e.g. methods.')
    return p.parse_args(argv)


def publish(checkpoint: str, out_dir: str, name: str = None,
            drop_prefix=()) -> str:
    """Write the weights-only checkpoint and return its path."""
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    # The input is the user's own training checkpoint (it holds MMEngine
    # objects), so it is unpickled in full; the output holds tensors only.
    ckpt = torch.load(checkpoint, map_location='cpu', weights_only=False)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
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
    out = publish(args.checkpoint, args.out_dir, args.name, args.drop_prefix)
    print(out)


if __name__ == '__main__':
    main()
