"""HiTTsPseudoLabelHook takes its stage-1 config as a file or as the config
itself (the benchmark runner passes the stage-1 run's config, with its seed
and regime); both reach the stage-1 build as the same Config."""
import types

import pytest
from conftest import REPO

from mtpsl.engine.hooks import pseudo_label_hook as plh

STAGE1 = f'{REPO}/configs/hitts/hitts-stage1_segnet-w16_1xb8-600it_' \
    'procedural-onelabel-96x128.py'


class _Stop(Exception):
    pass


@pytest.mark.parametrize('as_dict', [False, True])
def test_stage1_config_as_file_or_dict(tmp_path, monkeypatch, as_dict):
    from mtpsl.apis.config import load_config
    seen = []

    def build_stage1(cfg, checkpoint, trust_checkpoint=False):
        seen.append(cfg)
        raise _Stop  # what follows needs a trained stage 1
    monkeypatch.setattr(plh, 'build_stage1', build_stage1)
    monkeypatch.setattr(plh, '_unwrap', lambda dataset: dataset)
    ckpt = tmp_path / 'iter_1.pth'
    ckpt.write_bytes(b'')
    cfg = load_config(STAGE1)
    cfg.train_dataloader.dataset.label_regime = dict(type='onelabel', seed=7)
    hook = plh.HiTTsPseudoLabelHook(
        stage1_config=cfg.to_dict() if as_dict else STAGE1,
        checkpoint=str(ckpt), pseudo_dir=str(tmp_path / 'p'),
        tau=dict(sem_seg=0.9))
    runner = types.SimpleNamespace(train_dataloader=types.SimpleNamespace(
        dataset=object()))
    with pytest.raises(_Stop):
        hook.before_run(runner)
    got, = seen
    regime = got.train_dataloader.dataset.label_regime
    # the dict keeps the run's own regime; the file has the shipped one
    assert regime == (dict(type='onelabel', seed=7) if as_dict else
                      dict(type='onelabel', seed=0))
    assert got.model.to_dict() == cfg.model.to_dict()
