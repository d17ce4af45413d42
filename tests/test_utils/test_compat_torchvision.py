"""torchvision whose compiled ops cannot load (the CUDA-only 0.28.0 wheel on
a CPU torch): the failure without mtpsl's workaround, success with it."""
import sys

import pytest
import torch
from conftest import run_python

from mtpsl.utils import compat

BOXES = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10],
         [21, 21, 29, 29], [5, 5, 5, 9]]
SCORES = [0.9, 0.8, 0.7, 0.9, 0.95, 0.99]
# Hand-computed: 5 (zero area, overlaps nothing), 4, 0 (tie with 3: input
# order), 3 dropped (IoU 1 with 0), 1 dropped (IoU 81/119 with 0), 2 dropped
# (IoU 64/100 with 4).
KEEP = [5, 4, 0]


def test_reference_nms_golden():
    keep = compat.nms_reference(torch.tensor(BOXES, dtype=torch.float32),
                                torch.tensor(SCORES), 0.5)
    assert keep.dtype == torch.int64 and keep.tolist() == KEEP
    assert compat.nms_reference(torch.tensor(BOXES, dtype=torch.float32),
                                torch.tensor(SCORES), 0.7).tolist() == \
        [5, 4, 0, 1, 2]  # IoU 0.68 and 0.64 now pass
    assert compat.nms_reference(torch.zeros(0, 4), torch.zeros(0), 0.5
                                ).shape == (0,)


def test_guard_does_nothing_when_the_ops_load(monkeypatch):
    monkeypatch.setattr(sys, 'meta_path', list(sys.meta_path))
    monkeypatch.setattr(compat, 'torchvision_ops_missing', lambda: False)
    called = []
    monkeypatch.setattr(compat, 'register_torchvision_nms',
                        lambda: called.append(1))
    compat.uninstall_torchvision_guard()
    assert compat.install_torchvision_guard() is not ('torchvision' in
                                                      sys.modules)
    assert compat._TorchvisionImportGuard().find_spec('torchvision') is None
    assert not called
    assert not any(isinstance(f, compat._TorchvisionImportGuard)
                   for f in sys.meta_path)  # acts once, then steps aside


needs_broken_torchvision = pytest.mark.skipif(
    not compat.torchvision_ops_missing(),
    reason='torchvision not installed, or its compiled ops load')


@needs_broken_torchvision
def test_import_fails_without_the_workaround():
    out = run_python('import torchvision')
    assert out.returncode != 0
    assert 'torchvision::nms' in out.stderr


@needs_broken_torchvision
def test_segment_anything_and_batched_nms_work_with_it():
    code = '\n'.join([
        'import importlib.util, mtpsl, torch',
        "assert importlib.util.find_spec('torchvision')",  # a probe first
        'import segment_anything',
        'from torchvision.ops import batched_nms, nms',
        f'b = torch.tensor({BOXES}, dtype=torch.float32)',
        f's = torch.tensor({SCORES})',
        'print(nms(b, s, 0.5).tolist())',
        'print(batched_nms(b, s, torch.tensor([0, 0, 0, 0, 0, 1]), 0.5)'
        '.tolist())',
        'from mmengine.utils.dl_utils import collect_env',
        "print(collect_env()['TorchVision'])"])
    out = run_python(code)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert lines[0] == str(KEEP)
    assert lines[1] == '[5, 4, 0]'  # 5 alone in its class
    assert lines[2].startswith('0.')
