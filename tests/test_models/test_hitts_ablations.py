"""Table 5's decoder ablations (HiTTs options) each build and train one
step on a real batch of the HiTTs CPU config; without the stage the model
is the binned baseline, with the same keys as the binned MTL config."""
import os.path as osp
import sys

import pytest
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from _hitts_tiny import NAIVE1, STAGE1  # noqa: E402

from mtpsl.apis.config import load_config  # noqa: E402

ABLATIONS = {
    'hitts': {},
    'wo_orthogonal_embeddings': dict(orthogonal=False),
    'wo_inter_task': dict(inter=False),
    'wo_intra_task': dict(intra=False),
    'wo_global_tokens': dict(use_tokens=False),
    'wo_fine_grained_tokens': dict(fine_grained=False),
    'random_basis': dict(basis='random'),
}


def _batch(cfg, root):
    from mmengine.dataset import pseudo_collate

    from mtpsl.registry import DATASETS
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = root
    ds = DATASETS.build(ds_cfg)
    return pseudo_collate([ds[0], ds[1], ds[2]])


def _model(config, **stage):
    from mmengine.registry import init_default_scope

    from mtpsl.registry import MODELS
    init_default_scope('mtpsl')
    cfg = load_config(config)
    if cfg.model.get('joint_stage') is not None:
        cfg.model.joint_stage.update(stage)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return cfg, model


@pytest.mark.parametrize('name', sorted(ABLATIONS))
def test_ablation_builds_and_trains_a_step(name, tiny_procedural_root):
    cfg, model = _model(STAGE1, **ABLATIONS[name])
    data = model.data_preprocessor(_batch(cfg, tiny_procedural_root), True)
    losses = model(**data, mode='loss')
    assert {k.split('.')[0] for k in losses} == set(model.tasks)
    # Eq. (13): bin cross-entropy and 0.1 x regression for binned tasks
    assert {'depth.loss_bin_ce', 'depth.loss_l1', 'normal.loss_bin_ce',
            'normal.loss_angle', 'sem_seg.loss_ce'} <= set(losses)
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    stage = model.joint_stage
    grads = [p.grad for p in stage.parameters() if p.requires_grad]
    assert grads and all(g is not None for g in grads), name
    if name == 'wo_global_tokens':
        assert not any('tokens' == n.split('.')[-1]
                       for n, _ in stage.named_parameters())
    if name == 'wo_orthogonal_embeddings':
        assert not any('basis' in n for n, _ in stage.named_buffers())
    # the stage's logits are the prediction's: one per class / bin
    out = model.forward_tasks(data['inputs'])
    assert out['depth'].logits.shape[1] == 30
    assert out['normal'].logits.shape[1] == 20
    assert out['sem_seg'].pred.shape[1] == 13
    assert out['sem_seg'].stride == 4 and 'mask' in out['sem_seg'].extras


def test_without_stage_the_keys_are_the_binned_baseline():
    _, hitts = _model(STAGE1)
    _, mtl = _model(NAIVE1)
    extra = set(hitts.state_dict()) - set(mtl.state_dict())
    assert extra and all(k.startswith('joint_stage.') for k in extra)
    assert set(mtl.state_dict()) <= set(hitts.state_dict())
