"""Make one SAM region id map per image of a split (resumable, shardable).

``python tools/generate_region_maps.py CONFIG.py|DATA_ROOT|IMAGE_DIR
--checkpoint sam_vit_b_01ec64.pth --model-type vit_b [--split train]
[--out-dir D] [--format npy|png] [--points-per-side 32 ...] [--shard i/n]``

Runs segment_anything's SamAutomaticMaskGenerator on every image and merges
its masks into one uint16 map (0 = no region): larger masks are painted
first so smaller ones win, ties by predicted IoU then mask index, and ids
are renumbered 1..K in raster order (docs/regions.md). Images whose map
exists are skipped (maps are written atomically), so an interrupted run
resumes where it stopped. Shards: ``--shard i/n``, or torchrun's
RANK/WORLD_SIZE. By default the maps go to a folder ``sam`` beside the
folder holding the images (``ROOT/train/sam/3.npy`` for
``ROOT/train/image/3.npy``), where ``LoadRegionMap(source=dict(type='sam'))``
finds them.
"""
import argparse
import os
import os.path as osp
import sys

if __package__ in (None, ''):  # run as a script from a checkout
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mtpsl.utils.cli import run_tool  # noqa: E402

from mtpsl.regions.deps import MissingPackageError  # noqa: E402
from mtpsl.regions.sam import (GENERATOR_DEFAULTS,  # noqa: E402
                               sam_meta_record)
from mtpsl.regions.writer import (check_meta, format_summary,  # noqa: E402
                                  generate_maps, parse_shard, shard_items)

IMAGE_SUFFIXES = ('.npy', '.png', '.jpg', '.jpeg')


def list_images(source: str, split: str):
    """``([(img_id, img_path)], default output folder or None)``."""
    if source.endswith('.py'):
        from mtpsl.apis.config import load_config
        from mtpsl.registry import DATASETS
        cfg = load_config(source)
        key = f'{split}_dataloader'
        if key not in cfg:
            raise ValueError(f'{source}: no {key} (--split is train, val or '
                             'test for a config)')
        ds_cfg = cfg[key]['dataset'].copy()
        ds_cfg['pipeline'] = []
        ds = DATASETS.build(ds_cfg)
        infos = [ds.get_data_info(i) for i in range(len(ds))]
        items = [(str(d['img_id']), d['img_path']) for d in infos]
    elif osp.isdir(osp.join(source, split, 'image')):  # NYUv2 layout
        folder = osp.join(source, split, 'image')
        names = [n for n in os.listdir(folder) if n.endswith('.npy')]
        stems = sorted((n[:-4] for n in names),
                       key=lambda s: (0, int(s)) if s.isdigit() else (1, s))
        items = [(s, osp.join(folder, s + '.npy')) for s in stems]
    elif osp.isdir(source):
        names = sorted(n for n in os.listdir(source)
                       if n.lower().endswith(IMAGE_SUFFIXES))
        items = [(osp.splitext(n)[0], osp.join(source, n)) for n in names]
    else:
        raise FileNotFoundError(f'not a config, dataset root or image folder: '
                                f'{source}')
    if not items:
        raise ValueError(f'no images found in {source} (split {split!r})')
    ids = [i for i, _ in items]
    if len(set(ids)) != len(ids):
        raise ValueError(f'{source}: image ids are not unique')
    parents = {osp.dirname(osp.abspath(p)) for _, p in items}
    default_out = (osp.join(osp.dirname(parents.pop()), 'sam')
                   if len(parents) == 1 else None)
    return items, default_out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('source', help='config file, NYUv2-layout dataset root, or '
                   'a folder of images (.npy/.png/.jpg)')
    p.add_argument('--split', default='train',
                   help="config: dataloader (train/val/test); dataset root: "
                        "split folder (default 'train')")
    p.add_argument('--checkpoint', help='SAM checkpoint (.pth)')
    p.add_argument('--model-type', required=True,
                   help='vit_b, vit_l or vit_h (must match the checkpoint)')
    p.add_argument('--random-weights', action='store_true',
                   help='no checkpoint: random SAM weights (seeded by '
                        '--seed), for tests and timings only')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out-dir', help="default: folder 'sam' beside the images")
    p.add_argument('--format', choices=('npy', 'png'), default='npy')
    p.add_argument('--device', default=None,
                   help='default: cuda (cuda:LOCAL_RANK under torchrun) if '
                        'available, else cpu')
    p.add_argument('--threads', type=int, default=None,
                   help='torch CPU threads per process')
    p.add_argument('--shard', default=None,
                   help='i/n: this process makes every n-th image from i '
                        '(default: RANK/WORLD_SIZE of torchrun, else 0/1)')
    p.add_argument('--limit', type=int, default=None,
                   help='only the first N images of the split')
    p.add_argument('--overwrite', action='store_true',
                   help='remake maps that exist (and maps of other settings)')
    p.add_argument('--no-progress', action='store_true')
    g = p.add_argument_group('SamAutomaticMaskGenerator parameters')
    for name, default in GENERATOR_DEFAULTS.items():
        g.add_argument('--' + name.replace('_', '-'), type=type(default),
                       default=default, help=f'default {default:g}')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except (FileNotFoundError, ValueError, MissingPackageError) as e:
        print(f'generate_region_maps: error: {e}', file=sys.stderr)
        return 2


def run(args) -> int:
    import torch
    shard = parse_shard(args.shard)
    items, default_out = list_images(args.source, args.split)
    if args.limit is not None:
        items = items[:args.limit]
    out_dir = args.out_dir or default_out
    if out_dir is None:
        raise ValueError('the images are in several folders: pass --out-dir')
    if args.random_weights == (args.checkpoint is not None):
        raise ValueError('pass either --checkpoint PATH or --random-weights')
    if args.checkpoint is not None and not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'SAM checkpoint not found: {args.checkpoint}')
    generator_cfg = {k: getattr(args, k) for k in GENERATOR_DEFAULTS}
    suffix = '.' + args.format
    check_meta(out_dir, sam_meta_record(
        args.model_type, args.checkpoint, args.random_weights, args.seed,
        generator_cfg, args.format), args.overwrite)
    todo = [i for i in shard_items(items, *shard) if args.overwrite or
            not osp.isfile(osp.join(out_dir, i[0] + suffix))]
    make_map = None
    if todo:  # a finished shard needs no model
        from mtpsl.regions.sam import SamRegionMapper, build_sam
        if args.threads:
            torch.set_num_threads(args.threads)
        device = args.device or ('cuda:%d' % int(os.environ.get(
            'LOCAL_RANK', 0)) if torch.cuda.is_available() else 'cpu')
        model = build_sam(args.model_type, args.checkpoint,
                          args.random_weights, args.seed, device)
        make_map = SamRegionMapper(model, **generator_cfg)
    summary = generate_maps(items, make_map, out_dir, suffix, shard,
                            args.overwrite, not args.no_progress)
    print(format_summary(summary, out_dir), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
