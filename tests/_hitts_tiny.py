"""Tiny HiTTs configs (stage 1 and stage 2) on a tiny procedural tree."""
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
HITTS = osp.join(REPO, 'configs', 'hitts')
STAGE1 = osp.join(HITTS, 'hitts-stage1_segnet-w16_1xb8-600it_procedural-'
                  'onelabel-96x128.py')
STAGE2 = osp.join(HITTS, 'hitts-stage2_segnet-w16_1xb8-600it_procedural-'
                  'onelabel-96x128.py')
NAIVE1 = osp.join(HITTS, 'mtl-binned_segnet-w16_1xb8-600it_procedural-'
                  'onelabel-96x128.py')
NAIVE2 = osp.join(HITTS, 'mtl-naive-stage2_segnet-w16_1xb8-600it_procedural-'
                  'onelabel-96x128.py')


def _narrow(joint: bool = True) -> str:
    stage = (', joint_stage=dict(channels=4, attn_channels=4, heads=1, '
             'mlp_ratio=1.0)') if joint else ''
    return ('model = dict(backbone=dict(widths=(4, 8, 8, 8, 8)), heads=dict('
            'sem_seg=dict(in_channels=4), depth=dict(in_channels=4), '
            f'normal=dict(in_channels=4)){stage})')


def write_config(path: str, base: str, data_root: str, work_dir: str,
                 max_iters: int = 4, checkpoint_interval: int = 2,
                 batch_size: int = 2, joint: bool = True,
                 extra: str = '') -> str:
    """A narrow (widths 4..8) copy of ``base`` on ``data_root``."""
    lines = [f'_base_ = [{base!r}]', f'work_dir = {work_dir!r}',
             _narrow(joint),
             f'train_cfg = dict(max_iters={max_iters}, '
             f'val_interval={max_iters})',
             'default_hooks = dict(logger=dict(interval=1), checkpoint=dict('
             f'interval={checkpoint_interval}, max_keep_ckpts=-1))']
    lines.append(extra)
    for loader, bs in (('train_dataloader', batch_size),
                       ('val_dataloader', 2), ('test_dataloader', 2)):
        pipeline = (', pipeline=train_pipeline' if loader == 'train_dataloader'
                    and 'train_pipeline = ' in extra else '')
        lines.append(f'{loader} = dict(batch_size={bs}, num_workers=0, '
                     f'persistent_workers=False, dataset=dict('
                     f'data_root={data_root!r}{pipeline}))')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def stage2_extra(stage1_config: str, checkpoint: str, pseudo_dir: str,
                 features: bool = True) -> str:
    """The stage-2 pipeline and hook pointed at a test's folders."""
    return f"""
train_pipeline = [
    dict(type='LoadMultiTaskNpy', num_classes=dict(sem_seg=13)),
    dict(type='LoadPseudoSupervision', pseudo_dir={pseudo_dir!r},
         tasks=('sem_seg', 'depth', 'normal'), features={features},
         feat_channels=4, stride=4),
    dict(type='RandomScaleCrop', scales=(1.0, 1.2, 1.5)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs'),
]
custom_hooks = [
    dict(type='HiTTsPseudoLabelHook', stage1_config={stage1_config!r},
         checkpoint={checkpoint!r}, pseudo_dir={pseudo_dir!r},
         trust_checkpoint=True, tau={{{{_base_.pseudo_tau}}}},
         features={features}),
]
"""


def random_checkpoint(config: str, path: str, seed: int = 0) -> str:
    """Save a randomly initialised model of ``config`` as a checkpoint."""
    import torch
    from mmengine.registry import init_default_scope

    from mtpsl.apis.config import load_config
    from mtpsl.registry import MODELS
    init_default_scope('mtpsl')
    torch.manual_seed(seed)
    model = MODELS.build(load_config(config).model)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path
