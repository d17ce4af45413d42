"""MultiTaskModel: losses under partial labels, predictions, raw outputs."""
import pytest
import torch
import torch.nn.functional as F

import mtpsl  # noqa: F401
from mtpsl.registry import MODELS
from mtpsl.structures import MultiTaskDataSample

WIDTHS = (8, 8, 16, 16, 16)
TASKS = ('sem_seg', 'depth', 'normal')
NUM_CLASSES = 5


def _build(balancer=None):
    torch.manual_seed(0)
    cfg = dict(
        type='MultiTaskModel',
        data_preprocessor=dict(type='MultiTaskDataPreprocessor',
                               size_divisor=32),
        backbone=dict(type='SegNet', widths=WIDTHS),
        heads=dict(
            sem_seg=dict(type='SegNetTaskHead', in_channels=WIDTHS[0],
                         num_classes=NUM_CLASSES,
                         loss=dict(type='CrossEntropyLoss')),
            depth=dict(type='SegNetTaskHead', in_channels=WIDTHS[0],
                       loss=dict(type='MaskedL1Loss')),
            normal=dict(type='SegNetTaskHead', in_channels=WIDTHS[0],
                        loss=dict(type='CosineSimilarityLoss'))),
        balancer=balancer)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _gt_maps(h, w, seed):
    g = torch.Generator().manual_seed(seed)
    label = torch.randint(-1, NUM_CLASSES, (1, h, w), generator=g)
    depth = torch.rand(1, h, w, generator=g) * 5 + 0.5
    depth[torch.rand(1, h, w, generator=g) < 0.2] = 0.0  # invalid pixels
    normal = F.normalize(torch.randn(3, h, w, generator=g), dim=0)
    return dict(sem_seg=label, depth=depth, normal=normal)


def _sample(h, w, labelled, seed, all_gt=True):
    """A sample as PackMultiTaskInputs makes it; ``all_gt`` also stores the
    GT of unlabelled tasks, to prove the flags keep it out of the loss."""
    flags = {t: t in labelled for t in TASKS}
    s = MultiTaskDataSample(metainfo=dict(label_flags=flags, img_shape=(h, w),
                                          ori_shape=(h, w), tasks=TASKS))
    for task, gt in _gt_maps(h, w, seed).items():
        if all_gt or task in labelled:
            s.set_gt(task, gt)
    return s


def _batch(model, hw, training):
    h, w = hw
    g = torch.Generator().manual_seed(1)
    data = dict(inputs=[torch.rand(3, h, w, generator=g) for _ in range(2)],
                data_samples=[_sample(h, w, ['sem_seg'], 10),
                              _sample(h, w, ['depth'], 11)])
    return model.data_preprocessor(data, training=training)


def test_loss_keys_and_partial_labels():
    model = _build()
    model.train()
    data = _batch(model, (50, 70), training=True)
    inputs, samples = data['inputs'], data['data_samples']
    assert inputs.shape == (2, 3, 64, 96)
    losses = model.loss(inputs, samples)
    assert set(losses) == {'sem_seg.loss_ce', 'depth.loss_l1',
                           'normal.loss_cos'}
    # Every value is a loss that is summed into the backward; nothing log-only.
    for value in losses.values():
        assert isinstance(value, torch.Tensor) and value.requires_grad
    # No image is labelled for normals: an exact zero kept in the graph.
    assert losses['normal.loss_cos'].item() == 0.0
    assert losses['normal.loss_cos'].grad_fn is not None

    # Independent losses: image 0's labels only, image 1's depth only.
    with torch.no_grad():
        out = model._forward(inputs)
    gt_label = _gt_maps(50, 70, 10)['sem_seg'][0]
    gt_depth = _gt_maps(50, 70, 11)['depth'][0]
    logits = out['sem_seg'][0, :, :50, :70]
    valid = gt_label >= 0
    ce = F.cross_entropy(logits.permute(1, 2, 0)[valid], gt_label[valid])
    valid = gt_depth != 0
    l1 = (out['depth'][1, 0, :50, :70] - gt_depth)[valid].abs().mean()
    torch.testing.assert_close(losses['sem_seg.loss_ce'].detach(), ce)
    torch.testing.assert_close(losses['depth.loss_l1'].detach(), l1)

    total = sum(losses.values())
    total.backward()
    # The normal head receives no gradient (its loss is 0 x prediction).
    assert torch.all(model.heads['normal'].cls.weight.grad == 0)
    assert model.heads['depth'].cls.weight.grad.abs().sum() > 0


def test_loss_without_unlabelled_gt_fields():
    # As the dataset packs it: no gt_<task> field for an unlabelled task.
    model = _build()
    model.train()
    h, w = 64, 96
    data = dict(inputs=[torch.rand(3, h, w), torch.rand(3, h, w)],
                data_samples=[_sample(h, w, ['sem_seg'], 10, all_gt=False),
                              _sample(h, w, ['depth'], 11, all_gt=False)])
    data = model.data_preprocessor(data, training=True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert losses['normal.loss_cos'].item() == 0.0
    assert losses['depth.loss_l1'].item() > 0


def test_uncertainty_loss_keys_follow_labelled_tasks():
    model = _build(dict(type='UncertaintyWeighting'))
    model.train()
    data = _batch(model, (64, 96), training=True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert set(losses) == {'sem_seg.loss_ce', 'sem_seg.loss_uncertainty',
                           'depth.loss_l1', 'depth.loss_uncertainty',
                           'normal.loss_cos'}
    assert all(v.requires_grad for v in losses.values())


def test_predict_crops_padding_to_ori_shape():
    model = _build()
    model.eval()
    data = _batch(model, (50, 70), training=False)
    inputs = data['inputs']
    assert inputs.shape == (2, 3, 64, 96)
    with torch.no_grad():
        raw = model._forward(inputs)
        results = model.predict(inputs, data['data_samples'])
    assert len(results) == 2
    for i, s in enumerate(results):
        label, depth, normal = (s.pred('sem_seg'), s.pred('depth'),
                                s.pred('normal'))
        assert label.shape == (1, 50, 70)
        assert depth.shape == (1, 50, 70)
        assert normal.shape == (3, 50, 70)
        assert torch.equal(label[0],
                           raw['sem_seg'][i, :, :50, :70].argmax(dim=0))
        assert torch.equal(depth, raw['depth'][i, :, :50, :70])
        # GT was not padded in eval mode.
        assert s.gt('sem_seg').shape == (1, 50, 70)


def test_predict_resizes_to_ori_shape():
    model = _build()
    model.eval()
    s = MultiTaskDataSample(metainfo=dict(img_shape=(50, 70),
                                          ori_shape=(100, 140)))
    data = model.data_preprocessor(dict(inputs=[torch.rand(3, 50, 70)],
                                        data_samples=[s]))
    with torch.no_grad():
        (out,) = model.predict(data['inputs'], data['data_samples'])
    assert out.pred('sem_seg').shape == (1, 100, 140)
    assert out.pred('sem_seg').dtype == torch.long
    assert out.pred('depth').shape == (1, 100, 140)
    norms = out.pred('normal').norm(dim=0)
    torch.testing.assert_close(norms, torch.ones_like(norms))


def test_forward_modes():
    model = _build()
    model.eval()
    inputs = torch.rand(2, 3, 32, 64)
    with torch.no_grad():
        raw = model(inputs, mode='tensor')
        preds = model(inputs, mode='predict')
    assert set(raw) == set(TASKS)
    assert raw['sem_seg'].shape == (2, NUM_CLASSES, 32, 64)
    assert raw['depth'].shape == (2, 1, 32, 64)
    assert raw['normal'].shape == (2, 3, 32, 64)
    assert preds[1].pred('depth').shape == (1, 32, 64)
    with pytest.raises(RuntimeError, match='invalid mode'):
        model(inputs, mode='train')


def test_head_task_mismatch_rejected():
    with pytest.raises(ValueError, match='predicts'):
        MODELS.build(dict(
            type='MultiTaskModel', backbone=dict(type='SegNet', widths=WIDTHS),
            heads=dict(depth=dict(type='SegNetTaskHead', task='normal',
                                  in_channels=8,
                                  loss=dict(type='MaskedL1Loss')))))
