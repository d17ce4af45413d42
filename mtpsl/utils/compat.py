"""Workarounds for the software stack as it is, all in one place.

Each workaround checks whether its problem is present and does nothing
otherwise, so a user with full mmcv, a CUDA torch or an older torch runs the
plain upstream code paths. See ``docs/compatibility.md`` for the measured
problems behind each function.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import types
from typing import Any, Optional

import torch

_OPS_STUB_MARK = '_mtpsl_ops_stub'


# --------------------------------------------------------------------------
# mmcv-lite: ``mmcv.ops`` imports the compiled ``mmcv._ext`` unconditionally,
# and four mmseg modules import ``mmcv.ops`` at module level.
# --------------------------------------------------------------------------
def mmcv_ext_missing() -> bool:
    """Whether mmcv is installed without its compiled extension (mmcv-lite)."""
    if importlib.util.find_spec('mmcv') is None:
        return False
    return importlib.util.find_spec('mmcv._ext') is None


class _CompiledOpPlaceholder:
    """Stands in for a compiled mmcv op; fails clearly when it is used."""

    def __init__(self, name: str) -> None:
        self._name = name

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            f'mmcv.ops.{self._name} needs the compiled mmcv extension, but '
            'the installed mmcv has none (mmcv-lite). Install full mmcv, e.g. '
            '`pip install "mmcv>=2.0.0rc4,<2.2.0" --no-build-isolation` '
            '(see README, "Full mmcv").')

    __call__ = _fail

    def __repr__(self) -> str:
        return f'<unavailable compiled op mmcv.ops.{self._name}>'


def install_mmcv_ops_stub() -> bool:
    """Install a pure-Python ``mmcv.ops`` when the compiled one is missing.

    The stub keeps mmcv's own pure-PyTorch ``point_sample`` module and turns
    every other op into a placeholder that raises a clear error when called.
    Returns True if the stub is (now) in place.
    """
    current = sys.modules.get('mmcv.ops')
    if current is not None:
        return bool(getattr(current, _OPS_STUB_MARK, False))
    if not mmcv_ext_missing():
        return False
    import mmcv

    ops_dir = os.path.join(os.path.dirname(mmcv.__file__), 'ops')
    stub = types.ModuleType('mmcv.ops')
    stub.__path__ = [ops_dir]  # submodules such as point_sample stay importable
    stub.__file__ = os.path.join(ops_dir, '__init__.py')
    stub.__package__ = 'mmcv.ops'
    setattr(stub, _OPS_STUB_MARK, True)

    def __getattr__(name: str) -> Any:
        if name.startswith('__'):
            raise AttributeError(name)
        return _CompiledOpPlaceholder(name)

    stub.__getattr__ = __getattr__  # type: ignore[attr-defined]
    sys.modules['mmcv.ops'] = stub
    mmcv.ops = stub  # type: ignore[attr-defined]
    point_sample_module = importlib.import_module('mmcv.ops.point_sample')
    stub.point_sample = point_sample_module.point_sample
    stub.bilinear_grid_sample = point_sample_module.bilinear_grid_sample
    return True


# --------------------------------------------------------------------------
# torch >= 2.6 loads with weights_only=True by default, which refuses the
# MMEngine objects (HistoryBuffer, ...) stored in a training checkpoint.
# --------------------------------------------------------------------------
TRUSTED_PREFIX = 'mtpsl-trusted://'


def torch_loads_weights_only_by_default() -> bool:
    """Whether ``torch.load`` without ``weights_only`` refuses pickled objects."""
    from torch import serialization
    probe = getattr(serialization, '_default_to_weights_only', None)
    return bool(probe(None)) if probe is not None else False


def _load_trusted(filename: str, map_location: Any = None) -> Any:
    path = filename[len(TRUSTED_PREFIX):]
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint to resume from not found: {path}')
    return torch.load(path, map_location=map_location, weights_only=False)


def trusted_checkpoint_path(filename: str) -> str:
    """Mark a checkpoint the user produced as safe to unpickle in full.

    Only for the user's own resume files: published checkpoints are plain
    state dicts that load with ``weights_only=True``.
    """
    if not torch_loads_weights_only_by_default():
        return filename
    from mmengine.runner.checkpoint import CheckpointLoader
    if TRUSTED_PREFIX not in CheckpointLoader._schemes:
        CheckpointLoader.register_scheme(TRUSTED_PREFIX, _load_trusted)
    return TRUSTED_PREFIX + os.fspath(filename)


# --------------------------------------------------------------------------
# Distributed training on CPU builds of torch (gloo).
# --------------------------------------------------------------------------
def cpu_distributed_needed(launcher: str) -> bool:
    """Whether a distributed launch must use the CPU path (no CUDA here)."""
    return launcher != 'none' and not torch.cuda.is_available()


def init_cpu_process_group(timeout_s: Optional[int] = None) -> None:
    """Initialise gloo from torchrun's environment before MMEngine does.

    MMEngine's own initialisation calls ``torch.cuda.set_device``, which a
    CPU build of torch does not have.
    """
    import datetime

    import torch.distributed as dist
    if dist.is_initialized():
        return
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
               if k not in os.environ]
    if missing:
        raise RuntimeError(
            'distributed launch requested but the environment lacks '
            f'{missing}; start with torchrun (tools/dist_train.sh) or '
            'slurm (tools/slurm_train.sh)')
    kwargs = {}
    if timeout_s is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=timeout_s)
    dist.init_process_group(backend='gloo', **kwargs)


def ddp_device_ids(module: torch.nn.Module,
                   requested: Optional[list]) -> Optional[list]:
    """Device ids for DDP: CPU modules must be wrapped with ``None``."""
    first = next(module.parameters(), None)
    if first is not None and first.device.type == 'cpu':
        return None
    return requested
