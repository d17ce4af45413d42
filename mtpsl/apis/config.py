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


def load_config(path: str, cfg_options: Optional[Iterable[str]] = None
                ) -> Config:
    """Read a config file, apply ``key=value`` overrides and check types."""
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
        cfg.merge_from_dict(parsed.options)
    check_config_types(cfg, path)
    return cfg


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
    if not inspect.isclass(cls):
        return
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
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


def check_config_types(cfg: Config, cfg_file: str) -> None:
    """Fail early, naming the file and key path, on an unknown ``type`` or
    a key the named class does not take."""
    import mtpsl  # noqa: F401  (installs the compatibility shims first)
    custom = cfg.get('custom_imports')
    if custom:
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**custom)
    _check_node(cfg.to_dict(), [], None, cfg_file)
