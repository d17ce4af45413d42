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

from mtpsl.utils.safe_load import load_torch_file, require_dict

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
SAFE_PREFIX = 'mtpsl-safe://'


def torch_loads_weights_only_by_default() -> bool:
    """Whether ``torch.load`` without ``weights_only`` refuses pickled objects."""
    from torch import serialization
    probe = getattr(serialization, '_default_to_weights_only', None)
    return bool(probe(None)) if probe is not None else False


def _load_trusted(filename: str, map_location: Any = None) -> Any:
    path = filename[len(TRUSTED_PREFIX):]
    return require_dict(load_torch_file(path, trust=True,
                                        map_location=map_location), path)


def _load_safe(filename: str, map_location: Any = None) -> Any:
    path = filename[len(SAFE_PREFIX):]
    return require_dict(load_torch_file(path, trust=False,
                                        map_location=map_location), path)


def checkpoint_path(filename: str, trust: bool = False) -> str:
    """``filename`` routed through :func:`load_torch_file` by MMEngine's
    ``CheckpointLoader`` (safe unless ``trust``); URLs pass unchanged."""
    if '://' in os.fspath(filename):
        return filename
    if trust:
        return trusted_checkpoint_path(filename)
    from mmengine.runner.checkpoint import CheckpointLoader
    if SAFE_PREFIX not in CheckpointLoader._schemes:
        CheckpointLoader.register_scheme(SAFE_PREFIX, _load_safe)
    return SAFE_PREFIX + os.fspath(filename)


def trusted_checkpoint_path(filename: str) -> str:
    """Mark a checkpoint the user produced as safe to unpickle in full.

    Only for the user's own resume files: published checkpoints are plain
    state dicts that load with ``weights_only=True``.
    """
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


def live_gloo_threads() -> list:
    """Names of this process's gloo threads still running (Linux; else [])."""
    task_dir = '/proc/self/task'
    if not os.path.isdir(task_dir):
        return []
    names = []
    for tid in os.listdir(task_dir):
        try:
            with open(os.path.join(task_dir, tid, 'comm')) as f:
                name = f.read().strip()
        except OSError:  # the thread ended while we looked
            continue
        if 'gloo' in name:
            names.append(name)
    return sorted(names)


def ddp_device_ids(module: torch.nn.Module,
                   requested: Optional[list]) -> Optional[list]:
    """Device ids for DDP: CPU modules must be wrapped with ``None``."""
    first = next(module.parameters(), None)
    if first is not None and first.device.type == 'cpu':
        return None
    return requested


# --------------------------------------------------------------------------
# torchvision whose compiled ops cannot load. The only torchvision 0.28.0
# wheel (the release paired with torch 2.13.0) is a CUDA build: with a CPU
# torch its ``_C`` library fails to load, and ``import torchvision`` then
# fails with "operator torchvision::nms does not exist" (its fake-tensor
# registration needs the op). segment_anything needs torchvision's
# ``batched_nms``, and MMEngine's environment report imports torchvision
# catching only ModuleNotFoundError, so the Runner crashes too.
# --------------------------------------------------------------------------
_NMS_SCHEMA = '(Tensor dets, Tensor scores, float iou_threshold) -> Tensor'
_torch_libraries: list = []  # a torch.library.Library lives while referenced


def _nms_op_exists() -> bool:
    try:
        torch.ops.torchvision.nms.default
    except (AttributeError, RuntimeError):
        return False
    return True


def _find_spec_past_guard(name: str) -> Any:
    """The spec the import system would find for ``name`` without our guard."""
    for finder in sys.meta_path:
        if isinstance(finder, _TorchvisionImportGuard):
            continue
        find = getattr(finder, 'find_spec', None)
        spec = find(name, None) if find is not None else None
        if spec is not None:
            return spec
    return None


def torchvision_ops_missing() -> bool:
    """Whether torchvision is installed but its compiled ops cannot load."""
    if _torch_libraries:  # our fallback is registered: they could not
        return True
    if _nms_op_exists():
        return False
    spec = _find_spec_past_guard('torchvision')
    if spec is None or not spec.submodule_search_locations:
        return False
    import importlib.machinery as machinery
    finder = machinery.FileFinder(
        list(spec.submodule_search_locations)[0],
        (machinery.ExtensionFileLoader, machinery.EXTENSION_SUFFIXES))
    ext = finder.find_spec('_C')
    if ext is None:
        return True
    try:  # what torchvision's own import does first
        torch.ops.load_library(ext.origin)
    except Exception:  # OSError for a missing CUDA runtime, or worse
        return True
    return not _nms_op_exists()


def nms_reference(dets: torch.Tensor, scores: torch.Tensor,
                  iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression with torchvision's semantics.

    Boxes are ``(x1, y1, x2, y2)``; a box is dropped when its IoU with a
    kept, higher-scoring box is ``> iou_threshold``; returns the indices of
    kept boxes (int64) by decreasing score, ties in input order.
    """
    import numpy as np
    n = int(dets.shape[0])
    if n == 0:
        return torch.empty(0, dtype=torch.int64, device=dets.device)
    order = torch.sort(scores.detach().cpu(), descending=True,
                       stable=True).indices
    boxes = dets.detach().cpu()[order].numpy()
    x1, y1, x2, y2 = boxes.T
    area = (x2 - x1) * (y2 - y1)
    suppressed = np.zeros(n, dtype=bool)
    keep = []
    for i in range(n):
        if suppressed[i]:
            continue
        keep.append(i)
        w = np.clip(np.minimum(x2[i], x2[i + 1:]) -
                    np.maximum(x1[i], x1[i + 1:]), 0, None)
        h = np.clip(np.minimum(y2[i], y2[i + 1:]) -
                    np.maximum(y1[i], y1[i + 1:]), 0, None)
        inter = w * h
        with np.errstate(divide='ignore', invalid='ignore'):
            iou = inter / (area[i] + area[i + 1:] - inter)
        suppressed[i + 1:] |= iou > iou_threshold
    return order[torch.as_tensor(keep)].to(dets.device)


def _quantized_nms_unavailable(*args: Any) -> torch.Tensor:
    raise RuntimeError("quantized NMS needs torchvision's compiled ops, which "
                       'cannot load here (a CUDA torchvision on a CPU torch?)')


def register_torchvision_nms() -> bool:
    """Define ``torchvision::nms`` (CPU) with :func:`nms_reference`, and
    ``torchvision::qnms`` raising a clear error (torchvision's import needs
    both to exist).

    Does nothing if the op exists. Returns True if it registered it.
    """
    if _nms_op_exists():
        return False
    lib = torch.library.Library('torchvision', 'FRAGMENT')
    lib.define('nms' + _NMS_SCHEMA)
    lib.impl('nms', nms_reference, 'CPU')
    # torchvision's import also registers a fake kernel for quantized NMS.
    lib.define('qnms' + _NMS_SCHEMA)
    lib.impl('qnms', _quantized_nms_unavailable, 'CPU')
    _torch_libraries.append(lib)
    return True


def _let_torchvision_nms_run() -> None:
    # torchvision's Python ``nms`` first asserts that its compiled library
    # loaded; with the registered op it may run all the same.
    uninstall_torchvision_guard()
    boxes = sys.modules.get('torchvision.ops.boxes')
    original = getattr(boxes, '_assert_has_ops', None)
    if original is None or getattr(original, _OPS_STUB_MARK, False):
        return

    def assert_nms_available() -> None:
        if not _nms_op_exists():
            original()

    setattr(assert_nms_available, _OPS_STUB_MARK, True)
    boxes._assert_has_ops = assert_nms_available


class _ThenLoader:
    """Runs a wrapped loader, then a callback (other calls pass through)."""

    def __init__(self, loader: Any, then: Any) -> None:
        self._loader, self._then = loader, then

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)
        self._then()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _TorchvisionImportGuard:
    """Meta-path finder for ``torchvision`` until it is imported.

    A probe such as ``importlib.util.find_spec('torchvision')`` gets the same
    answer as the import; the guard leaves once torchvision is imported (or
    at once, when its compiled ops load).
    """

    def __init__(self) -> None:
        self._missing: Optional[bool] = None

    def find_spec(self, fullname: str, path: Any = None,
                  target: Any = None) -> Any:
        if fullname != 'torchvision':
            return None
        if self._missing is None:
            self._missing = torchvision_ops_missing()
        if not self._missing:
            uninstall_torchvision_guard()
            return None
        register_torchvision_nms()
        spec = _find_spec_past_guard(fullname)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _ThenLoader(spec.loader, _let_torchvision_nms_run)
        return spec


def uninstall_torchvision_guard() -> None:
    """Remove the import guard of :func:`install_torchvision_guard`."""
    sys.meta_path[:] = [f for f in sys.meta_path
                        if not isinstance(f, _TorchvisionImportGuard)]


def install_torchvision_guard() -> bool:
    """Make torchvision importable where its compiled ops cannot load.

    Costs nothing until torchvision is imported: only then is the compiled
    library probed and, if it cannot load, a pure-PyTorch
    ``torchvision::nms`` registered before torchvision's own import runs.
    Returns False (and does nothing) if torchvision is already imported.
    """
    if 'torchvision' in sys.modules:
        return False
    if not any(isinstance(f, _TorchvisionImportGuard)
               for f in sys.meta_path):
        sys.meta_path.insert(0, _TorchvisionImportGuard())
    return True

