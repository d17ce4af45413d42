"""Loading configs, with errors that name the file and the key path."""
from __future__ import annotations

import argparse
import inspect
import os.path as osp
from typing import Any, Iterable, List, Optional

from mmengine.config import Config, DictAction

# The registry that builds the dicts found under each config key. A dict is
# checked against the registry of its nearest known ancestor key.
_KEY_REGISTRY = {
    'model': 'MODELS', 'backbone': 'MODELS', 'neck': 'MODELS',
    'heads': 'MODELS', 'loss': 'MODELS', 'balancer': 'MODELS',
    'data_preprocessor': 'MODELS', 'methods': 'MODELS',
    'dataset': 'DATASETS', 'datasets': 'DATASETS',
    'pipeline': 'TRANSFORMS', 'transforms': 'TRANSFORMS',
    'sampler': 'DATA_SAMPLERS', 'batch_sampler': 'DATA_SAMPLERS',
    'label_regime': 'LABEL_REGIMES', 'source': 'REGION_SOURCES',
    'val_evaluator': 'METRICS', 'test_evaluator': 'METRICS',
    'metrics': 'METRICS',
    'default_hooks': 'HOOKS', 'custom_hooks': 'HOOKS',
    'param_scheduler': 'PARAM_SCHEDULERS',
    'optim_wrapper': 'OPTIM_WRAPPERS', 'optimizer': 'OPTIMIZERS',
    'constructor': 'OPTIM_WRAPPER_CONSTRUCTORS',
    'train_cfg': 'LOOPS', 'val_cfg': 'LOOPS', 'test_cfg': 'LOOPS',
    'visualizer': 'VISUALIZERS', 'vis_backends': 'VISBACKENDS',
    'model_wrapper_cfg': 'MODEL_WRAPPERS', 'log_processor': 'LOG_PROCESSORS',
}

# Keys that mean a registry only at the top level of a config (a hook may be
# called ``param_scheduler`` inside ``default_hooks``).
_TOP_LEVEL_ONLY = {'model', 'param_scheduler', 'default_hooks', 'custom_hooks',
                   'optim_wrapper', 'train_cfg', 'val_cfg', 'test_cfg',
                   'visualizer', 'val_evaluator', 'test_evaluator',
                   'log_processor', 'model_wrapper_cfg'}


class ConfigError(ValueError):
    """A config names something that cannot be built."""


def set_data_root(cfg: Config, data_root: str) -> int:
    """Point every dataloader's dataset (and wrapped datasets) at
    ``data_root``; returns how many datasets it set."""
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'--data-root: no such folder: {data_root}')
    count = 0

    def visit(dataset: Any) -> None:
        nonlocal count
        if isinstance(dataset, (list, tuple)):
            for d in dataset:
                visit(d)
        elif isinstance(dataset, dict):
            if 'data_root' in dataset or 'dataset' not in dataset and \
                    'datasets' not in dataset:
                dataset['data_root'] = data_root
                count += 1
            visit(dataset.get('dataset'))
            visit(dataset.get('datasets'))

    for key in list(cfg.keys()):
        if key.endswith('_dataloader') and isinstance(cfg[key], dict):
            visit(cfg[key].get('dataset'))
    cfg.data_root = data_root
    return count


def load_config(path: str, cfg_options: Optional[Iterable[str]] = None,
                data_root: Optional[str] = None) -> Config:
    """Read a config file, apply ``key=value`` overrides (and
    ``data_root`` to every dataloader's dataset), then check keys."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    cfg = Config.fromfile(path)
    options = list(cfg_options or [])
    if options:
        bad = [o for o in options if '=' not in o]
        if bad:
            raise ConfigError(f'--cfg-options: expected KEY=VALUE, got '
                              f'{bad[0]!r}')
        parsed = argparse.Namespace()
        DictAction(option_strings=[], dest='options')(None, parsed, options)
        as_dict = cfg.to_dict()
        for key, value in parsed.options.items():
            check_option(as_dict, key, value, path)
        cfg.merge_from_dict(parsed.options)
    if data_root is not None:
        set_data_root(cfg, data_root)
    check_config_types(cfg, path)
    return cfg


# Top-level keys MMEngine's Runner (and mtpsl's) reads, beyond any config's.
RUNNER_KEYS = {
    'model', 'work_dir', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator',
    'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
    'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
    'visualizer', 'default_scope', 'randomness', 'experiment_name',
    'custom_imports', 'model_wrapper_cfg', 'find_unused_parameters',
    'trust_load_from', 'runner_type', 'compile'}

# Top-level variables of a config that mtpsl reads itself.
READ_VARIABLES = {'test_pipeline'}

_MISSING = object()


def _lookup(cfg: Any, key: str) -> Any:
    """The config's value at dotted ``key`` (``_MISSING`` if absent)."""
    node = cfg
    for part in key.split('.'):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, (list, tuple)) and part.isdigit() and \
                int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def check_option(cfg: dict, key: str, value: Any, cfg_file: str) -> None:
    """Refuse a ``--cfg-options`` override that cannot mean what it says:
    an unknown top-level key, a file's variable (already substituted), a
    dict value, a type unlike the config's."""
    top = key.split('.')[0]
    where = f'--cfg-options {key}={value!r}'
    hint = (' (to change where the data is, pass --data-root)'
            if top == 'data_root' else '')
    if top not in cfg and top not in RUNNER_KEYS:
        raise ConfigError(
            f'{where}: unknown top-level key {top!r}: {cfg_file} has no '
            f'such key and the Runner reads none{hint}')
    if top not in RUNNER_KEYS and top not in READ_VARIABLES:
        raise ConfigError(
            f'{where}: {top!r} is a variable of {cfg_file}, already '
            'substituted where the file uses it; overriding it changes '
            f'nothing. Set the keys that use it instead{hint}')
    if isinstance(value, str) and value.strip().startswith(('{', 'dict(')):
        raise ConfigError(
            f'{where}: dict values are not accepted; set each leaf '
            f'instead, e.g. {key}.<name>=<value>')
    old = _lookup(cfg, key)
    if old is _MISSING or old is None or value is None:
        return
    if isinstance(old, dict) and not isinstance(value, dict):
        raise ConfigError(f'{where}: {key} is a dict in {cfg_file}; set '
                          f'its leaves instead, e.g. {key}.'
                          f'{next(iter(old), "<name>")}=<value>')
    number = (int, float)
    if isinstance(old, bool) and not isinstance(value, bool):
        raise ConfigError(f'{where}: {key} is True/False in {cfg_file}, '
                          f'got {type(value).__name__}')
    if isinstance(old, number) and not isinstance(old, bool) and \
            not isinstance(value, number):
        raise ConfigError(f'{where}: {key} is a number in {cfg_file} '
                          f'({old!r}), got {type(value).__name__} '
                          f'{value!r}')


def _registry(name: str):
    from mtpsl import registry
    return getattr(registry, name)


def _check_node(node: Any, path: List[str], reg_name: Optional[str],
                cfg_file: str) -> None:
    if path and path[-1] in _KEY_REGISTRY and (
            len(path) == 1 or path[-1] not in _TOP_LEVEL_ONLY):
        reg_name = _KEY_REGISTRY[path[-1]]
    if isinstance(node, dict):
        here = reg_name
        typ = node.get('type')
        if isinstance(typ, str) and here is not None:
            _check_type(typ, node, here, path, cfg_file)
        for key, value in node.items():
            if key == 'type':
                continue
            _check_node(value, path + [str(key)], here, cfg_file)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _check_node(value, path + [f'[{i}]'], reg_name, cfg_file)


def _dotted(path: List[str]) -> str:
    return '.'.join(path).replace('.[', '[')


def _check_type(typ: str, node: dict, reg_name: str, path: List[str],
                cfg_file: str) -> None:
    registry = _registry(reg_name)
    cls = registry.get(typ)
    if cls is None:
        # e.g. an Evaluator under val_evaluator: accept any registry that
        # knows the name, the aim is to catch names nothing can build.
        cls = next((c for c in (_registry(r).get(typ) for r in
                                set(_KEY_REGISTRY.values()) | {'EVALUATOR'})
                    if c is not None), None)
    where = _dotted(path + ['type']) or 'type'
    if cls is None:
        raise ConfigError(
            f'{cfg_file}: unknown type {typ!r} at {where} (looked in the '
            f'{registry.name!r} registry of scope mtpsl and its parents; a '
            'class of another package is written with its scope, e.g. '
            "'mmseg.ResNetV1c'; a class of your own needs custom_imports)")
    params = accepted_keys(cls)
    if params is None:
        return
    if reg_name == 'LABEL_REGIMES':
        from mtpsl.datasets.regimes.coverage import REGIME_OPTIONS
        params = list(params) + list(REGIME_OPTIONS)
    # The optimiser-wrapper constructor pops these before building the
    # wrapper (mmengine build_optim_wrapper).
    consumed = ({'paramwise_cfg', 'constructor'} if path == ['optim_wrapper']
                else set())
    for key in node:
        if key != 'type' and key not in params and key not in consumed:
            raise ConfigError(
                f'{cfg_file}: {typ} does not take the key {key!r} (at '
                f'{_dotted(path + [key])}); it takes: '
                f'{", ".join(k for k in params if k != "self")}')


# Arguments a label-regime builder gets from its dataset, never from a config.
_INJECTED = {'image_ids', 'tasks'}


def accepted_keys(obj: Any) -> Optional[List[str]]:
    """The keyword arguments a registered class or function accepts; None
    when it takes any (``**kwargs`` all the way down).

    A class whose ``__init__`` passes ``**kwargs`` on (MMEngine's datasets)
    accepts its own arguments and those of its bases, up to the first base
    without ``**kwargs``.
    """
    if inspect.isclass(obj):
        found: List[str] = []
        for klass in obj.__mro__:
            init = klass.__dict__.get('__init__')
            if init is None:
                continue
            try:
                params = inspect.signature(init).parameters
            except (TypeError, ValueError):
                return None
            found += [k for k, p in params.items() if k != 'self' and k
                      not in found and
                      p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
            if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
                return found
            if klass is object:
                break
        return None
    if callable(obj):
        try:
            params = inspect.signature(obj).parameters
        except (TypeError, ValueError):
            return None
        if any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return None
        return [k for k in params if k not in _INJECTED]
    return None


# What MMEngine's Runner reads from a ``*_dataloader`` dict besides the
# arguments of torch's DataLoader.
_DATALOADER_EXTRA = {'dataset', 'sampler', 'batch_sampler', 'collate_fn',
                     'num_batch_per_epoch'}


def _check_dataloaders(cfg: dict, cfg_file: str) -> None:
    """Every ``*_dataloader`` takes DataLoader keys and has a dataset."""
    from torch.utils.data import DataLoader
    allowed = set(inspect.signature(DataLoader.__init__).parameters) - {
        'self'} | _DATALOADER_EXTRA
    for key, loader in cfg.items():
        if not key.endswith('_dataloader') or loader is None:
            continue
        if not isinstance(loader, dict):
            raise ConfigError(f'{cfg_file}: {key} must be a dict, got '
                              f'{type(loader).__name__} {loader!r}')
        for name in loader:
            if name not in allowed:
                raise ConfigError(
                    f'{cfg_file}: {key} does not take the key {name!r} (at '
                    f'{key}.{name}); a dataloader takes: '
                    f'{", ".join(sorted(allowed))}')
        dataset = loader.get('dataset')
        if not isinstance(dataset, dict) or 'type' not in dataset:
            raise ConfigError(f'{cfg_file}: {key}.dataset must be a dict '
                              f'with a type, got {dataset!r}')


def check_config_types(cfg: Config, cfg_file: str) -> None:
    """Fail early, naming the file and key path, on an unknown ``type`` or
    a key the named class does not take."""
    import mtpsl  # noqa: F401  (installs the compatibility shims first)
    custom = cfg.get('custom_imports')
    if custom:
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**custom)
    as_dict = cfg.to_dict()
    _check_dataloaders(as_dict, cfg_file)
    _check_node(as_dict, [], None, cfg_file)
