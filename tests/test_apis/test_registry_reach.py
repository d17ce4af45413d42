"""Every registered class is reachable from a config by its name alone, and
a user's own module named in ``custom_imports`` trains with tools/train.py."""
import json
import os
import subprocess
import sys

from conftest import REPO, run_python, tiny_train_config

REGISTRIES = ('RUNNERS', 'HOOKS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS',
              'LABEL_REGIMES', 'MODELS', 'MODEL_WRAPPERS', 'METRICS',
              'VISUALIZERS')


def _python(code):
    out = run_python(code)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_every_registered_class_is_found_through_locations():
    # 1. import every mtpsl module and list what each registry holds
    listing = _python('\n'.join([
        'import importlib, json, pkgutil, mtpsl',
        'from mtpsl import registry as r',
        'for m in pkgutil.walk_packages(mtpsl.__path__, "mtpsl."):',
        '    importlib.import_module(m.name)',
        f'print(json.dumps({{n: sorted(getattr(r, n).module_dict) '
        f'for n in {REGISTRIES!r}}}))']))
    registered = json.loads(listing.strip().splitlines()[-1])
    assert sum(len(v) for v in registered.values()) >= 20
    assert 'MultiTaskModel' in registered['MODELS']
    # 2. a fresh process that imports only the registry finds each by name
    found = _python('\n'.join([
        'import json',
        'from mtpsl import registry as r',
        f'names = {json.dumps(registered)}',
        'missing = [(k, n) for k, v in names.items() for n in v',
        '           if getattr(r, k).get(n) is None]',
        'print(json.dumps(missing))']))
    assert json.loads(found.strip().splitlines()[-1]) == []


def test_user_module_in_custom_imports_trains(tiny_procedural_root,
                                              tmp_path):
    (tmp_path / 'my_tiny_head.py').write_text('\n'.join([
        'import torch.nn as nn',
        'from mtpsl.models.heads import SegNetTaskHead',
        'from mtpsl.registry import MODELS',
        '',
        '@MODELS.register_module()',
        'class MyDepthHead(SegNetTaskHead):',
        '    """A user head: one extra 1x1 conv before the prediction."""',
        '    def __init__(self, **kwargs):',
        '        super().__init__(**kwargs)',
        '        self.extra = nn.Conv2d(self.conv.out_channels,',
        '                               self.conv.out_channels, 1)',
        '    def decode(self, feats):',
        '        return self.extra(self.conv(feats[self.in_index]))',
    ]) + '\n')
    config = tiny_train_config(
        tiny_procedural_root, str(tmp_path / 'work'), max_iters=2,
        checkpoint_interval=2,
        custom_imports=dict(imports=['my_tiny_head'],
                            allow_failed_imports=False))
    with open(config, 'a') as f:
        # replaces the whole model line of the tiny config
        f.write("model = dict(backbone=dict(widths=segnet_widths), heads="
                "dict(sem_seg=dict(in_channels=4), normal=dict(in_channels="
                "4), depth=dict(type='MyDepthHead', in_channels=4, "
                "loss=dict(type='MaskedL1Loss'))))\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO, str(tmp_path)]))
    out = subprocess.run([sys.executable, 'tools/train.py', config],
                         cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    import torch
    state = torch.load(tmp_path / 'work' / 'iter_2.pth', weights_only=False)
    assert 'heads.depth.extra.weight' in state['state_dict']
