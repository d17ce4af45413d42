"""load_config: every shipped config type-checks; errors name file and key."""
import glob
import os.path as osp

import pytest

import mtpsl  # noqa: F401
from mtpsl.apis import ConfigError, load_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                           recursive=True))
MODEL_BASE = osp.join(REPO, 'configs', '_base_', 'models', 'segnet_mtl.py')


def test_glob_found_configs():
    assert len(CONFIGS) > 0
    assert MODEL_BASE in CONFIGS


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_shipped_config_type_checks(path):
    cfg = load_config(path)
    assert len(cfg.keys()) > 0


def _write(tmp_path, body, name='bad.py'):
    path = tmp_path / name
    path.write_text(f'_base_ = [{MODEL_BASE!r}]\n' + body)
    return str(path)


def test_misspelled_type_names_file_and_key(tmp_path):
    path = _write(tmp_path, "model = dict(heads=dict(depth=dict("
                            "loss=dict(type='MaskedL1Los'))))\n")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    msg = str(e.value)
    assert path in msg
    assert 'model.heads.depth.loss.type' in msg
    assert "'MaskedL1Los'" in msg


def test_unknown_key_named(tmp_path):
    path = _write(tmp_path, 'model = dict(heads=dict(depth=dict(foo=1)))\n')
    with pytest.raises(ConfigError) as e:
        load_config(path)
    msg = str(e.value)
    assert path in msg and "'foo'" in msg
    assert 'model.heads.depth.foo' in msg and 'SegNetTaskHead' in msg


def test_misspelled_type_in_list_names_index(tmp_path):
    path = _write(tmp_path, "model = dict(heads=dict(sem_seg=dict(loss=["
                            "dict(type='CrossEntropyLoss'), "
                            "dict(type='DiceLos')])))\n")
    with pytest.raises(ConfigError, match=r'model\.heads\.sem_seg\.loss\[1\]'
                                          r'\.type'):
        load_config(path)


def test_cfg_options_override(tmp_path):
    cfg = load_config(MODEL_BASE, cfg_options=[
        'model.backbone.widths=[8,8,16,16,16]',
        'model.heads.sem_seg.num_classes=7',
        'model.balancer.type=UncertaintyWeighting'])
    assert list(cfg.model.backbone.widths) == [8, 8, 16, 16, 16]
    assert cfg.model.heads.sem_seg.num_classes == 7
    assert cfg.model.balancer.type == 'UncertaintyWeighting'
    # Overrides are type-checked too.
    with pytest.raises(ConfigError, match='model.balancer.type'):
        load_config(MODEL_BASE, cfg_options=['model.balancer.type=Fixed'])
    with pytest.raises(ConfigError, match='KEY=VALUE'):
        load_config(MODEL_BASE, cfg_options=['model.balancer.type'])


def test_missing_file():
    with pytest.raises(FileNotFoundError, match='nope.py'):
        load_config('configs/nope.py')
