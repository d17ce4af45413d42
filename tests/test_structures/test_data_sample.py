"""MultiTaskDataSample fields, label flags and batching of targets."""
import pytest
import torch

from mtpsl.structures import MultiTaskDataSample, stack_targets


def _sample(flags, gts, shape=(2, 3)):
    s = MultiTaskDataSample(metainfo=dict(label_flags=flags,
                                          batch_input_shape=shape))
    for task, gt in gts.items():
        s.set_gt(task, gt)
    return s


def test_set_gt_and_pred():
    s = MultiTaskDataSample()
    label = torch.tensor([[0, 1, -1], [2, 2, 0]])
    s.set_gt('sem_seg', label)  # H x W gets a channel axis
    assert s.gt('sem_seg').shape == (1, 2, 3)
    assert torch.equal(s.gt('sem_seg')[0], label)
    normal = torch.randn(3, 2, 3)
    s.set_gt('normal', normal)
    assert s.gt('normal') is normal
    assert s.gt('depth') is None
    assert s.pred('depth') is None
    depth = torch.rand(1, 2, 3)
    s.set_pred('depth', depth)
    assert torch.equal(s.pred('depth'), depth)
    assert 'gt_sem_seg' in s and 'pred_depth' in s


def test_unknown_task_name_rejected():
    s = MultiTaskDataSample()
    with pytest.raises(KeyError, match='unknown task'):
        s.set_gt('segmentation', torch.zeros(2, 2))
    with pytest.raises(KeyError, match='unknown task'):
        s.set_pred('dept', torch.zeros(1, 2, 2))


def test_is_labelled_honours_label_flags():
    gts = dict(sem_seg=torch.zeros(2, 3, dtype=torch.long),
               depth=torch.ones(1, 2, 3))
    s = _sample(dict(sem_seg=True, depth=False, normal=True), gts)
    assert s.is_labelled('sem_seg')
    # GT present but flagged unlabelled: not labelled.
    assert not s.is_labelled('depth')
    # Flagged labelled but no GT: not labelled.
    assert not s.is_labelled('normal')
    assert s.labelled_tasks() == ['sem_seg', 'normal']
    # No flags at all: nothing is labelled.
    assert not MultiTaskDataSample().is_labelled('sem_seg')


def test_stack_targets_fills_unlabelled_images():
    d0 = torch.tensor([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]])
    l1 = torch.tensor([[[0, 1, -1], [1, 1, 0]]])
    s0 = _sample(dict(sem_seg=False, depth=True), dict(depth=d0))
    # Image 1 carries a depth map but is flagged unlabelled for depth: the
    # map must not reach the targets.
    s1 = _sample(dict(sem_seg=True, depth=False),
                 dict(sem_seg=l1, depth=torch.full((1, 2, 3), 7.0)))
    depth, flags = stack_targets([s0, s1], 'depth')
    assert flags.tolist() == [True, False]
    assert depth.shape == (2, 1, 2, 3)
    assert torch.equal(depth[0], d0)
    assert torch.all(depth[1] == 0.0)
    label, flags = stack_targets([s0, s1], 'sem_seg')
    assert flags.tolist() == [False, True]
    assert label.dtype == l1.dtype
    assert torch.all(label[0] == -1)
    assert torch.equal(label[1], l1)


@pytest.mark.parametrize('task,channels,value,dtype', [
    ('sem_seg', 1, -1, torch.long), ('depth', 1, 0.0, torch.float32),
    ('normal', 3, 0.0, torch.float32)])
def test_stack_targets_all_unlabelled(task, channels, value, dtype):
    samples = [_sample(dict(sem_seg=False, depth=False, normal=False), {},
                       shape=(4, 5)) for _ in range(3)]
    target, flags = stack_targets(samples, task)
    assert flags.dtype == torch.bool and flags.tolist() == [False] * 3
    assert target.shape == (3, channels, 4, 5)
    assert target.dtype == dtype
    assert torch.all(target == value)
