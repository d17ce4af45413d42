"""Build a trained model from a config and a checkpoint; predict one image.

For users who do not train::

    model = init_model(CONFIG, 'published.pth')
    result = inference_model(model, 'image.png')   # {task: numpy array}
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config, DictAction

from mtpsl.structures import task_spec
from mtpsl.utils.safe_load import load_torch_file, require_dict

ImageLike = Union[str, os.PathLike, np.ndarray]
_IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')
# Keys of a checkpoint wrapper that hold the model's weights.
_STATE_KEYS = ('state_dict', 'model')


def _merge_options(cfg: Config, cfg_options) -> None:
    """Apply ``{key: value}`` or ``['key=value', ...]`` overrides."""
    if not cfg_options:
        return
    if isinstance(cfg_options, Mapping):
        cfg.merge_from_dict(dict(cfg_options))
        return
    options = list(cfg_options)
    bad = [o for o in options if '=' not in str(o)]
    if bad:
        raise ValueError(f'cfg_options: expected KEY=VALUE, got {bad[0]!r}')
    parsed = argparse.Namespace()
    DictAction(option_strings=[], dest='options')(None, parsed, options)
    cfg.merge_from_dict(parsed.options)


def _load_cfg(config: Union[str, os.PathLike, Config],
              cfg_options) -> Config:
    from .config import check_config_types, load_config
    from .model_zoo import find_config, is_zoo_name
    if is_zoo_name(config):  # a model zoo entry's name (model-index.yml)
        config = find_config(config)
    if isinstance(config, (str, os.PathLike)):
        if isinstance(cfg_options, Mapping):
            cfg = load_config(os.fspath(config))
            _merge_options(cfg, cfg_options)
            check_config_types(cfg, os.fspath(config))
            return cfg
        return load_config(os.fspath(config), cfg_options)
    if not isinstance(config, Config):
        raise TypeError('config must be a file path or an mmengine Config, '
                        f'got {type(config).__name__}')
    cfg = config.copy()
    _merge_options(cfg, cfg_options)
    check_config_types(cfg, cfg.filename or '<Config>')
    return cfg


def load_weights(checkpoint: str, trust_checkpoint: bool = False
                 ) -> Dict[str, torch.Tensor]:
    """The state dict of a published (weights-only) or, when trusted, a
    training checkpoint."""
    obj = require_dict(load_torch_file(checkpoint, trust=trust_checkpoint),
                       checkpoint)
    if isinstance(obj, dict):
        for key in _STATE_KEYS:
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not all(
            isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f'{checkpoint}: no state dict of tensors found')
    # Weights saved from a DDP-wrapped model carry a ``module.`` prefix.
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in obj.items()}


def init_model(config: Union[str, os.PathLike, Config],
               checkpoint: Optional[str] = None, device: str = 'cpu',
               cfg_options: Union[Mapping, Iterable[str], None] = None,
               trust_checkpoint: bool = False) -> torch.nn.Module:
    """Build the model of ``config`` (a file, a Config, or a model zoo
    entry's name) in eval mode, with the weights of ``checkpoint`` loaded
    strictly (random initial weights without one)."""
    from mmengine.registry import init_default_scope

    from mtpsl.registry import MODELS
    cfg = _load_cfg(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mtpsl'))
    # cross-task methods never run at inference: not built, not loaded
    cfg.model.pop('methods', None)
    model = MODELS.build(cfg.model)
    if checkpoint is None:
        model.init_weights()
    else:
        state = {k: v for k, v in load_weights(
            checkpoint, trust_checkpoint).items()
            if not k.startswith('methods.')}
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise RuntimeError(
                f'{checkpoint} does not fit the model of {cfg.filename}: '
                f'{len(missing)} missing keys {missing[:10]}, '
                f'{len(unexpected)} unexpected keys {unexpected[:10]}')
    model.cfg = cfg
    return model.to(device).eval()


def read_image(image: ImageLike) -> np.ndarray:
    """An H x W x 3 float32 RGB image in [0, 1] from a file or an array."""
    if isinstance(image, (str, os.PathLike)):
        path = os.fspath(image)
        if not osp.isfile(path):
            raise FileNotFoundError(f'image not found: {path}')
        suffix = osp.splitext(path)[1].lower()
        if suffix == '.npy':
            from mtpsl.datasets.transforms.loading import load_npy
            arr = load_npy(path)  # NYUv2 layout: float HxWx3 in [0, 1]
        elif suffix in _IMAGE_SUFFIXES:
            import cv2
            bgr = cv2.imread(path, cv2.IMREAD_COLOR)
            if bgr is None:
                raise ValueError(f'cannot read image {path}')
            arr = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        else:
            raise ValueError(f'{path}: unknown image type {suffix!r} (use '
                             f'.npy or one of {", ".join(_IMAGE_SUFFIXES)})')
        where = path
    else:
        arr, where = np.asarray(image), 'image array'
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f'{where}: expected an H x W x 3 image, got shape '
                         f'{arr.shape}')
    if arr.dtype == np.uint8:
        arr = arr.astype(np.float32) / 255.0
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():
        raise ValueError(f'{where}: image contains NaN/Inf')
    from mtpsl.datasets.value_checks import image_out_of_range
    n, lo, hi = image_out_of_range(arr)
    if n:  # the bad_values policy for images (docs/datasets.md)
        raise ValueError(
            f'{where}: {n} pixels outside [0, 1] (range [{lo:.4g}, {hi:.4g}])'
            f'{"; stored in [0, 255]? divide by 255" if hi > 1.5 else ""}')
    return arr


def _test_pipeline(cfg: Config) -> List[dict]:
    """The config's test pipeline without its file loaders."""
    loader = cfg.get('test_dataloader') or {}
    pipeline = (loader.get('dataset') or {}).get('pipeline') \
        or cfg.get('test_pipeline') or [dict(type='PackMultiTaskInputs')]
    return [t for t in pipeline if not str(t['type']).split('.')[-1]
            .startswith('Load')]


def _to_numpy(task: str, pred: torch.Tensor) -> np.ndarray:
    """C x H x W prediction -> int H x W labels, H x W or H x W x C maps."""
    arr = pred.detach().cpu().numpy()
    if task_spec(task).kind == 'label':
        return arr[0].astype(np.int64)
    return arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0)


def inference_model(model: torch.nn.Module,
                    image: Union[ImageLike, Sequence[ImageLike]]
                    ) -> Union[Dict[str, np.ndarray],
                               List[Dict[str, np.ndarray]]]:
    """``{task: prediction}`` at the input size for one image (a list for a
    list of images): labels int H x W, depth H x W, normals unit H x W x 3."""
    from mmengine.dataset import pseudo_collate

    from mtpsl.registry import TRANSFORMS
    single = isinstance(image, (str, os.PathLike, np.ndarray))
    images = [image] if single else list(image)
    cfg = getattr(model, 'cfg', None)
    transforms = [TRANSFORMS.build(t) for t in _test_pipeline(cfg)] \
        if cfg is not None else [TRANSFORMS.build(
            dict(type='PackMultiTaskInputs'))]
    packed = []
    for item in images:
        img = read_image(item)
        results = dict(img=img, img_shape=img.shape[:2],
                       ori_shape=img.shape[:2], gt_maps={}, label_flags={},
                       tasks=tuple(model.tasks))
        if isinstance(item, (str, os.PathLike)):
            results['img_path'] = os.fspath(item)
        for transform in transforms:
            results = transform(results)
        packed.append(results)
    with torch.no_grad():
        samples = model.test_step(pseudo_collate(packed))
    out = [{task: _to_numpy(task, s.pred(task)) for task in model.tasks}
           for s in samples]
    return out[0] if single else out
