"""Validate a dataset on disk: load every image, report every problem.

``python tools/check_dataset.py ROOT --type nyuv2|cityscapes|pascal_context|
procedural [--split train] [--limit N] [--strict] [--num-classes C]``

Prints the image count and shapes, per task the value range, the share of
invalid pixels and the class histogram of label tasks, then every warning
and problem with its file. Exit code 1 if any problem was found (with
``--strict``, warnings count as problems).
"""
import argparse
import os.path as osp
import sys

if __package__ in (None, ''):  # run as a script from a checkout
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mtpsl.utils.cli import run_tool  # noqa: E402

from mtpsl.datasets.checks import DATASET_TYPES, check_dataset  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('root', help='dataset root')
    p.add_argument('--type', required=True, choices=DATASET_TYPES,
                   dest='dataset_type')
    p.add_argument('--split', default='train',
                   help="split folder / id list (default 'train')")
    p.add_argument('--limit', type=int, default=None,
                   help='check only the first N images')
    p.add_argument('--strict', action='store_true',
                   help='count warnings (odd but loadable values) as problems')
    p.add_argument('--num-classes', type=int, default=None,
                   help='semantic classes (default 13 / 7 / 21; Cityscapes '
                        '19 reads label_19)')
    args = p.parse_args(argv)
    report = check_dataset(args.root, args.dataset_type, split=args.split,
                           limit=args.limit, strict=args.strict,
                           num_classes=args.num_classes)
    print(report.format())
    return 0 if report.ok else 1


if __name__ == '__main__':
    sys.exit(run_tool(main))
