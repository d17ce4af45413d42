"""The one-hop rule: a shipped config inherits at most ONE other config
(any number of ``configs/_base_`` files), and no config is the parent of a
config that already has one."""
import ast
import glob
import os.path as osp

from conftest import REPO

CONFIGS = sorted(p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                                      recursive=True)
                 if '_base_' not in p)


def parents(path):
    """The non-``_base_`` configs ``path`` names in its ``_base_``."""
    tree = ast.parse(open(path).read())
    bases = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, 'id', None) == '_base_' for t in node.targets):
            value = ast.literal_eval(node.value)
            bases = [value] if isinstance(value, str) else list(value)
    out = []
    for base in bases:
        full = osp.normpath(osp.join(osp.dirname(path), base))
        assert osp.isfile(full), (path, base)
        if f'{osp.sep}_base_{osp.sep}' not in full:
            out.append(full)
    return out


def test_parse_finds_a_hop():
    child = osp.join(REPO, 'configs', 'baseline',
                     'mtl_segnet-w16_1xb8-600it_procedural-onelabel-96x128.py')
    assert [osp.basename(p) for p in parents(child)] == [
        'mtl_segnet-w16_1xb8-600it_procedural-full-96x128.py']


def test_every_config_is_at_most_one_hop():
    for path in CONFIGS:
        ups = parents(path)
        assert len(ups) <= 1, (path, ups)
        for up in ups:
            assert parents(up) == [], (f'{osp.relpath(path, REPO)} is two '
                                       f'hops: its parent has {parents(up)}')
