"""The model zoo's index: ``model-index.yml`` at the repository root lists
the metafiles (OpenMMLab's schema) whose ``Models`` name a config each."""
from __future__ import annotations

import os
import os.path as osp
from typing import Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def index_path(root: Optional[str] = None) -> str:
    """``model-index.yml`` of ``root`` (default: this repository)."""
    return osp.join(root or REPO, 'model-index.yml')


def load_models(root: Optional[str] = None) -> List[dict]:
    """Every ``Models`` entry of every metafile the index imports, each
    with ``_metafile`` (its path relative to ``root``)."""
    import yaml
    root = root or REPO
    path = index_path(root)
    if not osp.isfile(path):
        raise FileNotFoundError(f'model index not found: {path}')
    with open(path) as f:
        index = yaml.safe_load(f) or {}
    models = []
    for meta_path in index.get('Import', []):
        full = osp.join(root, meta_path)
        if not osp.isfile(full):
            raise FileNotFoundError(f'{path}: imports {meta_path}, which '
                                    'does not exist')
        with open(full) as f:
            meta = yaml.safe_load(f) or {}
        for model in meta.get('Models') or []:
            models.append(dict(model, _metafile=meta_path))
    return models


def find_model(name: str, root: Optional[str] = None) -> Dict:
    """The zoo entry called ``name``; a clear error listing close names."""
    models = load_models(root)
    found = [m for m in models if m['Name'] == name]
    if len(found) > 1:
        raise ValueError(f'model zoo: {len(found)} entries are called '
                         f'{name!r} ({[m["_metafile"] for m in found]})')
    if not found:
        close = sorted(m['Name'] for m in models
                       if name.split('_')[0] in m['Name'])[:5]
        raise KeyError(f'model zoo: no entry called {name!r}; similar: '
                       f'{close or "none"} (list: model-index.yml)')
    return found[0]


def find_config(name: str, root: Optional[str] = None) -> str:
    """The config file of the zoo entry ``name``."""
    model = find_model(name, root)
    path = osp.join(root or REPO, model['Config'])
    if not osp.isfile(path):
        raise FileNotFoundError(f'model zoo entry {name!r} '
                                f'({model["_metafile"]}): config '
                                f'{model["Config"]} does not exist')
    return path


def is_zoo_name(config) -> bool:
    """A string that is no file and has no ``.py``: a zoo entry's name."""
    return isinstance(config, str) and not config.endswith('.py') and \
        not osp.exists(config) and os.sep not in config
