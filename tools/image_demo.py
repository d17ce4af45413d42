"""Predict every task for one image and draw it.

``python tools/image_demo.py IMAGE CONFIG CHECKPOINT --out picture.png``
writes one picture: the image, then one row per task with its prediction.
IMAGE is a ``.npy`` in the NYUv2 layout (float H x W x 3 in [0, 1]) or a
``.png`` / ``.jpg``.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mtpsl.utils.cli import run_tool  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('image', help='.npy (NYUv2 layout) or .png/.jpg image')
    p.add_argument('config', help='config file path')
    p.add_argument('checkpoint', help='published (weights-only) checkpoint')
    p.add_argument('--out', default='prediction.png', help='picture to write')
    p.add_argument('--device', default='cpu')
    p.add_argument('--trust-checkpoint', action='store_true',
                   help='the checkpoint is a training checkpoint you made '
                   'yourself: unpickle it in full (without it, it is loaded '
                   'with weights_only=True; a pickle asking for code is '
                   'refused)')
    p.add_argument('--cfg-options', nargs='+', default=[],
                   metavar='KEY=VALUE')
    return p.parse_args(argv)


def prediction_picture(model, image, result) -> 'np.ndarray':
    """The uint8 RGB picture of ``result`` (from ``inference_model``)."""
    import torch

    from mtpsl.visualization import draw_prediction
    preds = {}
    for task, arr in result.items():
        t = torch.from_numpy(arr)
        preds[task] = t[None] if t.dim() == 2 else t.permute(2, 0, 1)
    heads = model.cfg.model.get('heads', {})
    num_classes = {t: h['num_classes'] for t, h in heads.items()
                   if h.get('num_classes')}
    return draw_prediction(image, preds, {}, num_classes)


def main(argv=None):
    args = parse_args(argv)
    import cv2

    from mtpsl.apis import inference_model, init_model, read_image
    model = init_model(args.config, args.checkpoint, device=args.device,
                       cfg_options=args.cfg_options,
                       trust_checkpoint=args.trust_checkpoint)
    image = read_image(args.image)
    result = inference_model(model, image)
    picture = prediction_picture(model, image, result)
    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    if not cv2.imwrite(args.out, cv2.cvtColor(picture, cv2.COLOR_RGB2BGR)):
        raise SystemExit(f'could not write {args.out}')
    print(args.out)
    return args.out


if __name__ == '__main__':
    run_tool(main)
