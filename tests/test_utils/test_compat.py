"""Each workaround of mtpsl.utils.compat: the problem it answers is real
(shown where present) and the workaround removes it."""
import os.path as osp
import pickle
import sys

import pytest
import torch
from conftest import run_python

from mtpsl.utils import compat


# -- mmcv-lite ----------------------------------------------------------------
needs_lite = pytest.mark.skipif(not compat.mmcv_ext_missing(),
                                reason='full mmcv installed: no stub needed')


@needs_lite
def test_mmseg_models_fail_without_stub():
    out = run_python('import mmseg.models')
    assert out.returncode != 0
    assert "No module named 'mmcv._ext'" in out.stderr


@needs_lite
def test_mmseg_backbones_and_heads_build_and_train_with_stub():
    code = '\n'.join([
        'import torch, mtpsl',
        'from mtpsl.registry import MODELS',
        "net = MODELS.build(dict(type='mmseg.ResNetV1c', depth=18,",
        "                        init_cfg=None))",
        "head = MODELS.build(dict(type='mmseg.FCNHead', in_channels=512,",
        "    channels=16, num_classes=3, in_index=3))",
        'x = torch.rand(2, 3, 64, 64)',
        'out = head(net(x))',
        'out.mean().backward()',
        'assert out.shape == (2, 3, 2, 2), out.shape',  # stride 32
        "aspp = MODELS.build(dict(type='mmseg.ASPPHead', in_channels=512,",
        "    channels=8, dilations=(1, 2), num_classes=3, in_index=3))",
        'assert aspp(net(x)).shape == (2, 3, 2, 2)',
        "ext = dict(num_modules=1, num_branches=2, block='BASIC',",
        "           num_blocks=(1, 1), num_channels=(4, 8))",
        "hr = MODELS.build(dict(type='mmseg.HRNet', extra=dict(",
        "    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',",
        "                num_blocks=(1,), num_channels=(8,)),",
        "    stage2=ext, stage3=dict(ext, num_branches=3,",
        "    num_blocks=(1, 1, 1), num_channels=(4, 8, 16)),",
        "    stage4=dict(ext, num_branches=4, num_blocks=(1, 1, 1, 1),",
        "    num_channels=(4, 8, 16, 32)))))",
        'feats = hr(x)',
        'assert [f.shape[1] for f in feats] == [4, 8, 16, 32]',
        'sum(f.mean() for f in feats).backward()',
        'import mmcv.ops',
        'assert mmcv.ops.point_sample(torch.rand(1, 2, 4, 4),',
        '    torch.rand(1, 5, 2)).shape == (1, 2, 5)',
        'print("ok")'])
    out = run_python(code)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith('ok')


@needs_lite
def test_compiled_op_placeholder_fails_clearly():
    import mtpsl  # noqa: F401
    import mmcv.ops
    with pytest.raises(RuntimeError, match='full mmcv'):
        mmcv.ops.DeformConv2d(3, 3, 3)


def test_stub_not_installed_when_extension_present(monkeypatch):
    monkeypatch.setattr(compat, 'mmcv_ext_missing', lambda: False)
    monkeypatch.delitem(sys.modules, 'mmcv.ops', raising=False)
    assert compat.install_mmcv_ops_stub() is False
    assert 'mmcv.ops' not in sys.modules


# -- weights_only loading -------------------------------------------------------
needs_weights_only = pytest.mark.skipif(
    not compat.torch_loads_weights_only_by_default(),
    reason='this torch unpickles in full by default')


class _NotATensor:
    """Stands for MMEngine's HistoryBuffer in a training checkpoint."""


@needs_weights_only
def test_training_checkpoint_refused_by_default_and_trusted_on_resume(
        tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint
    path = str(tmp_path / 'train.pth')
    torch.save({'state_dict': {'w': torch.ones(2)},
                'message_hub': _NotATensor()}, path)
    with pytest.raises(pickle.UnpicklingError):
        _load_checkpoint(path, map_location='cpu')
    ckpt = _load_checkpoint(compat.trusted_checkpoint_path(path),
                            map_location='cpu')
    assert isinstance(ckpt['message_hub'], _NotATensor)
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2))


def test_published_checkpoint_loads_weights_only(tmp_path):
    from tools.publish_model import publish
    src = str(tmp_path / 'train.pth')
    torch.save({'state_dict': {'a.w': torch.arange(3.), 'methods.x':
                               torch.zeros(1)}, 'meta': {'iter': 1},
                'message_hub': _NotATensor()}, src)
    with pytest.raises(pickle.UnpicklingError, match='_NotATensor'):
        publish(src, str(tmp_path / 'pub'), 'cfg')  # safe by default
    assert not osp.exists(tmp_path / 'pub')
    out = publish(src, str(tmp_path / 'pub'), 'cfg', drop_prefix=['methods.'],
                  trust_checkpoint=True)
    name = osp.basename(out)
    assert name.startswith('cfg_') and len(name.split('-')[-1]) == 12
    state = torch.load(out, weights_only=True)
    assert list(state) == ['a.w']
    assert torch.equal(state['a.w'], torch.arange(3.))


def test_trusted_path_missing_file_is_clear(tmp_path):
    if not compat.torch_loads_weights_only_by_default():
        pytest.skip('no trusted path on this torch')
    from mmengine.runner.checkpoint import _load_checkpoint
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        _load_checkpoint(compat.trusted_checkpoint_path(
            str(tmp_path / 'nope.pth')))


# -- DDP on CPU ---------------------------------------------------------------------
def test_ddp_refuses_cpu_module_with_device_ids_and_wrapper_fixes_it(
        tmp_path):
    import torch.distributed as dist
    from mtpsl.engine import CPUAwareDistributedDataParallel
    if torch.cuda.is_available():
        pytest.skip('CUDA machine: DDP gets real device ids')
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store',
                            rank=0, world_size=1)
    try:
        module = torch.nn.Linear(2, 2)
        with pytest.raises(Exception):
            torch.nn.parallel.DistributedDataParallel(module, device_ids=[0])
        wrapped = CPUAwareDistributedDataParallel(module, device_ids=[0])
        assert wrapped.device_ids is None
        assert wrapped(torch.ones(1, 2)).shape == (1, 2)
    finally:
        dist.destroy_process_group()


def test_cpu_process_group_needs_launcher_environment(monkeypatch):
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(RuntimeError, match='torchrun'):
        compat.init_cpu_process_group()
    assert compat.cpu_distributed_needed('none') is False
