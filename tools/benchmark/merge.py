"""Merge the result dirs of several sittings or machines into one:

    python tools/benchmark/merge.py OUT_DIR SRC_DIR [SRC_DIR ...]

Records are copied; a run present twice must agree (metrics and checkpoint
sha256), else the merge stops naming both files.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from tools.benchmark.record import merge_records  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('out_dir')
    p.add_argument('sources', nargs='+')
    args = p.parse_args(argv)
    counts = merge_records(args.sources, args.out_dir)
    print(f'{counts["copied"]} records copied, {counts["identical"]} already '
          f'present and identical -> {args.out_dir}/records')


if __name__ == '__main__':
    main()
