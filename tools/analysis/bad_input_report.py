"""Try the bad inputs a new user meets on day one and print what the tools
say: one markdown row per case (the input, the command, its exit status
and the one-line message it printed).

``python tools/analysis/bad_input_report.py [--out FILE]`` builds a tiny
procedural tree (32x48, 8 training images) in a temporary folder, spoils
one copy of it (or the config, or a checkpoint) per case, and runs the real
command line in a fresh process. The crafted pickle would create a file;
the report says whether it appeared. Cases a tool accepts with a warning
show the warning; a case whose command did not behave as its row expects
is marked ``UNEXPECTED`` and makes the exit status non-zero.
"""
import argparse
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
BASE = osp.join(REPO, 'configs', 'baseline',
                'mtl_segnet-w16_1xb8-600it_procedural-full-96x128.py')


class _Touch:
    """Unpickling it runs ``touch PATH``."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f'touch {self.path}', ))


def write_config(path, data_root, work_dir, regime=None, test_extra=''):
    """The narrow SegNet at widths 4-8, 1 iteration, on ``data_root``;
    ``regime``: the training label regime (source text); ``test_extra``:
    more keys of the test dataloader (source text)."""
    lines = [f'_base_ = [{BASE!r}]', f'work_dir = {work_dir!r}',
             'model = dict(backbone=dict(widths=(4, 8, 8, 8, 8)), heads=dict('
             'sem_seg=dict(in_channels=4), depth=dict(in_channels=4), '
             'normal=dict(in_channels=4)))',
             'train_cfg = dict(max_iters=1, val_interval=1)',
             'default_hooks = dict(checkpoint=dict(interval=1))']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        more = f', label_regime={regime}' if (
            regime and loader == 'train_dataloader') else ''
        keys = test_extra if loader == 'test_dataloader' else ''
        lines.append(f'{loader} = dict(batch_size=2, num_workers=0, '
                     f'persistent_workers=False, {keys}dataset=dict('
                     f'data_root={data_root!r}{more}))')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def spoil(root, folder, fn):
    """Apply ``fn`` to the ``folder`` array of EVERY training image (in
    place): a one-iteration run loads only a batch of them."""
    where = osp.join(root, 'train', folder)
    for name in sorted(os.listdir(where)):
        path = osp.join(where, name)
        np.save(path, fn(np.load(path)))


def negative_depth(d):
    d = d.copy()
    d[:4] = -2.0
    return d


def nan_depth(d):
    d = d.copy()
    d[:2] = np.nan
    return d


def long_normals(n):
    return n * 1.5


def cases(tmp):
    """``(name, command, expect)``: expect 'error' (non-zero exit) or
    'warn' (exit 0 and a warning line)."""
    from mtpsl.datasets.procedural import generate_dataset
    clean = osp.join(tmp, 'clean')
    generate_dataset(clean, height=32, width=48, num_train=8, num_test=2,
                     seed=0, val_fraction=0.25, workers=1, progress=False)
    train, test = (osp.join(REPO, 'tools', t) for t in ('train.py',
                                                         'test.py'))
    out = []

    def tree(name, folder=None, fn=None):
        root = osp.join(tmp, name)
        shutil.copytree(clean, root)
        if folder:
            spoil(root, folder, fn)
        return write_config(osp.join(tmp, name + '.py'), root,
                            osp.join(tmp, name + '_work'))

    import torch
    sentinel = osp.join(tmp, 'PWNED')
    evil = osp.join(tmp, 'evil.pth')
    torch.save({'state_dict': {}, 'x': _Touch(sentinel)}, evil)
    truncated = osp.join(tmp, 'truncated.pth')
    torch.save({'state_dict': {'w': torch.ones(1000)}}, truncated)
    with open(truncated, 'r+b') as f:
        f.truncate(osp.getsize(truncated) // 2)
    as_list = osp.join(tmp, 'list.pth')
    torch.save([torch.ones(1)], as_list)
    cfg = tree('ok')
    for name, ckpt in (('checkpoint whose unpickling runs `touch`', evil),
                       ('truncated checkpoint', truncated),
                       ('checkpoint holding a list', as_list)):
        out.append((name, [test, cfg, ckpt], 'error'))
    out.append(('crafted checkpoint to publish_model.py',
                [osp.join(REPO, 'tools', 'publish_model.py'), evil,
                 osp.join(tmp, 'published')], 'error'))
    out.append(('depth with negative values (4 rows of each map)',
                [train, tree('neg', 'depth', negative_depth)], 'error'))
    out.append(('depth with NaN (2 rows of each map)',
                [train, tree('nan', 'depth', nan_depth)], 'warn'))
    out.append(('image stored in [0, 255]',
                [train, tree('img255', 'image', lambda x: x * 255.0)],
                'error'))
    out.append(('depth in millimetres',
                [train, tree('mm', 'depth', lambda d: d * 1000.0)], 'warn'))
    out.append(('normals of length 1.5',
                [train, tree('long', 'normal', long_normals)], 'error'))
    out.append(('semantic label 99 (13 classes), each map',
                [train, tree('label', 'label',
                             lambda x: np.where(x == x.flat[0], 99, x))],
                'error'))
    root = osp.join(tmp, 'ok')
    out.append(('regime leaving depth unlabelled (fractions depth=0)',
                [train, write_config(
                    osp.join(tmp, 'frac.py'), root, osp.join(tmp, 'fw'),
                    regime="dict(type='fractions', fractions=dict("
                    "sem_seg=1.0, depth=0.0, normal=1.0), seed=0)")],
                'error'))
    out.append(('unknown key in test_dataloader (`batch_sise`)',
                [train, write_config(
                    osp.join(tmp, 'typo.py'), root, osp.join(tmp, 'tw'),
                    test_extra='batch_sise=2, ')], 'error'))
    out.append(('`--cfg-options` unknown top-level key',
                [train, cfg, '--cfg-options', 'trian_cfg.max_iters=2'],
                'error'))
    out.append(('`--cfg-options` a dict value',
                [train, cfg, '--cfg-options', 'model={}'], 'error'))
    out.append(('`--cfg-options in_channels=abc`',
                [train, cfg, '--cfg-options',
                 'model.heads.depth.in_channels=abc'], 'error'))
    out.append(('data root that does not exist',
                [train, cfg, '--data-root', osp.join(tmp, 'nowhere')],
                'error'))
    out.append(('missing GT files (every training depth map deleted)',
                [train, _delete(tree('gone'), tmp)], 'error'))
    return out, sentinel


def _delete(config, tmp):
    where = osp.join(tmp, 'gone', 'train', 'depth')
    for name in os.listdir(where):
        os.remove(osp.join(where, name))
    return config


def message(text, expect):
    """The line a user reads: the error, else the first warning."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if expect == 'error':
        hits = [ln for ln in lines if ln.startswith('error:')]
    else:
        hits = [ln.split(' - ')[-1] for ln in lines if 'bad_values' in ln]
    return hits[0] if hits else (lines[-1] if lines else '')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', help='also write the table here')
    args = p.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    rows, bad = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        all_cases, sentinel = cases(tmp)
        for name, cmd, expect in all_cases:
            run = subprocess.run([sys.executable] + cmd, cwd=REPO, env=env,
                                 capture_output=True, text=True, timeout=600)
            text = run.stdout + run.stderr
            msg = message(text, expect).replace(tmp, '$TMP')
            ok = (run.returncode != 0) if expect == 'error' else (
                run.returncode == 0 and msg != '')
            ok = ok and 'Traceback' not in text
            if osp.exists(sentinel):
                msg += ' [the crafted file APPEARED]'
                ok = False
            bad += not ok
            tool = osp.relpath(cmd[0], REPO)
            rows.append(f'| {name} | `{tool}` | {run.returncode} | '
                        f'{msg.replace("|", "/")}'
                        f'{"" if ok else " **UNEXPECTED**"} |')
    table = '\n'.join(['| bad input | tool | exit | what it printed |',
                       '|---|---|---|---|'] + rows)
    print(table)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(table + '\n')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
