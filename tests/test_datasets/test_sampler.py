"""PartialLabelSampler: task-balanced, deterministic, distributed batches."""
import itertools

import numpy as np
import pytest

from mtpsl.datasets.samplers import PartialLabelSampler, label_flags_of
from mtpsl.registry import DATA_SAMPLERS, DATASETS, LABEL_REGIMES

TASKS = ('sem_seg', 'depth', 'normal')


class FlagsDataset:
    """Exposes only what the sampler reads: length and label flags."""

    def __init__(self, flags):
        self.flags = np.asarray(flags, dtype=bool)

    def __len__(self):
        return len(self.flags)

    def get_data_info(self, idx):
        return dict(label_flags={t: bool(f)
                                 for t, f in zip(TASKS, self.flags[idx])})


def regime_dataset(kind, n, seed=0):
    cfg = dict(type=kind) if kind == 'full' else dict(type=kind, seed=seed)
    regime = LABEL_REGIMES.build(
        cfg,
        default_args=dict(image_ids=[str(i) for i in range(n)], tasks=TASKS))
    return FlagsDataset(regime.flags)


def batches_of(indices, batch_size):
    return [indices[i:i + batch_size]
            for i in range(0, len(indices), batch_size)]


def absence_rate(flags, batches):
    """Share of (batch, task) pairs with no image labelled for the task."""
    covered = np.stack([flags[b].any(0) for b in batches])
    return float(1.0 - covered.mean())


def take(sampler, count):
    return list(itertools.islice(iter(sampler), count))


@pytest.mark.parametrize('batch_size', [3, 8])
def test_onelabel_every_batch_holds_every_task(batch_size):
    ds = regime_dataset('onelabel', 96)
    sampler = PartialLabelSampler(ds, batch_size, seed=3)
    for epoch in range(6):
        sampler.set_epoch(epoch)
        indices = list(sampler)
        assert sorted(indices) == list(range(96))
        for batch in batches_of(indices, batch_size):
            assert ds.flags[batch].any(0).all(), (epoch, batch)


@pytest.mark.parametrize('batch_size', [3, 8])
def test_infinite_onelabel_full_batches_across_passes(batch_size):
    # 99 images, batch 8: batches straddle passes; each stays full and holds
    # every task.
    ds = regime_dataset('onelabel', 99)
    sampler = PartialLabelSampler(ds, batch_size, infinite=True, seed=0)
    indices = take(sampler, 5 * 99 - 495 % batch_size)
    for batch in batches_of(indices, batch_size):
        assert len(batch) == batch_size
        assert ds.flags[batch].any(0).all()
    for p in range(4):  # each pass is a permutation of the images
        assert sorted(indices[99 * p:99 * (p + 1)]) == list(range(99))


def test_infinite_unequal_tasks_reach_the_bound():
    # 34/33/33 images: 5 passes fill 166 batches of 3, and a task with 165
    # images can be in at most 165 of them, so 2 absent pairs are the least.
    ds = regime_dataset('onelabel', 100)
    assert sorted(ds.flags.sum(0)) == [33, 33, 34]
    indices = take(PartialLabelSampler(ds, 3, infinite=True, seed=0), 498)
    covered = np.stack([ds.flags[b].any(0) for b in batches_of(indices, 3)])
    assert (~covered).sum() == 2


def test_randomlabels_fewer_absent_tasks_than_plain_shuffle():
    ds = regime_dataset('randomlabels', 120)
    rng = np.random.default_rng(0)
    ours, plain = [], []
    sampler = PartialLabelSampler(ds, 2, seed=0)
    for epoch in range(20):
        sampler.set_epoch(epoch)
        ours += batches_of(list(sampler), 2)
        plain += batches_of(rng.permutation(120).tolist(), 2)
    rate, base = absence_rate(ds.flags, ours), absence_rate(ds.flags, plain)
    assert base > 0.1  # a plain shuffle misses a task in many pairs
    assert rate < 0.25 * base


def test_unbalanced_task_spread_over_the_epoch():
    # 6 images labelled for normal among 120: one in every second batch of
    # 10, not all in the first batches.
    flags = np.zeros((120, 3), dtype=bool)
    flags[:60, 0] = flags[60:114, 1] = flags[114:, 2] = True
    ds = FlagsDataset(flags)
    sampler = PartialLabelSampler(ds, 10, seed=0)
    batches = batches_of(list(sampler), 10)
    per_batch = [int(flags[b, 2].sum()) for b in batches]
    assert per_batch == [1, 0] * 6 or per_batch == [0, 1] * 6


def test_deterministic_given_seed_and_epoch():
    ds = regime_dataset('randomlabels', 50)
    a = PartialLabelSampler(ds, 4, seed=7)
    b = PartialLabelSampler(ds, 4, seed=7)
    a.set_epoch(2)
    b.set_epoch(2)
    assert list(a) == list(b)
    assert list(a) == list(a)  # iterating again gives the same epoch
    b.set_epoch(3)
    assert list(a) != list(b)
    assert list(PartialLabelSampler(ds, 4, seed=8)) != list(
        PartialLabelSampler(ds, 4, seed=7))
    inf = [take(PartialLabelSampler(ds, 4, infinite=True, seed=7), 200)
           for _ in range(2)]
    assert inf[0] == inf[1]


@pytest.mark.parametrize('kind', ['onelabel', 'randomlabels'])
def test_two_ranks_disjoint_union_and_balanced(kind):
    ds = regime_dataset(kind, 96)
    for epoch in range(3):
        shares = []
        for rank in range(2):
            sampler = PartialLabelSampler(ds, 3, seed=0, rank=rank,
                                          world_size=2)
            sampler.set_epoch(epoch)
            shares.append(list(sampler))
            assert len(shares[-1]) == len(sampler) == 48
            for batch in batches_of(shares[-1], 3):
                if kind == 'onelabel':
                    assert ds.flags[batch].any(0).all()
        assert not set(shares[0]) & set(shares[1])
        assert sorted(shares[0] + shares[1]) == list(range(96))


def test_two_ranks_pad_like_default_sampler():
    ds = regime_dataset('onelabel', 25)
    shares = [list(PartialLabelSampler(ds, 4, seed=0, rank=r, world_size=2))
              for r in range(2)]
    assert len(shares[0]) == len(shares[1]) == 13  # ceil(25 / 2)
    # one image repeats, as the padding of MMEngine's DefaultSampler
    assert sorted(set(shares[0] + shares[1])) == list(range(25))
    unpadded = [list(PartialLabelSampler(ds, 4, seed=0, rank=r, world_size=2,
                                         round_up=False)) for r in range(2)]
    assert sorted(unpadded[0] + unpadded[1]) == list(range(25))


def test_infinite_ranks_interleave_to_the_single_rank_stream():
    ds = regime_dataset('onelabel', 30)
    single = take(PartialLabelSampler(ds, 3, infinite=True, seed=1), 120)
    ranks = [batches_of(take(PartialLabelSampler(
        ds, 3, infinite=True, seed=1, rank=r, world_size=2), 60), 3)
        for r in range(2)]
    merged = [i for pair in zip(*ranks) for batch in pair for i in batch]
    assert merged == single


def test_full_labels_reduce_to_a_seeded_shuffle():
    ds = regime_dataset('full', 40)
    indices = list(PartialLabelSampler(ds, 4, seed=0))
    assert sorted(indices) == list(range(40))
    assert indices != list(range(40))

    class NoFlags:
        def __len__(self):
            return 10
    assert label_flags_of(NoFlags()).shape == (10, 1)
    assert sorted(PartialLabelSampler(NoFlags(), 2, seed=0)) == list(
        range(10))


def test_no_shuffle_keeps_dataset_order():
    ds = regime_dataset('onelabel', 10)
    assert list(PartialLabelSampler(ds, 3, shuffle=False)) == list(range(10))
    assert take(PartialLabelSampler(ds, 3, shuffle=False, infinite=True),
                12) == list(range(10)) + [0, 1]


def test_bad_arguments():
    ds = regime_dataset('onelabel', 10)
    with pytest.raises(ValueError, match='rank=2'):
        PartialLabelSampler(ds, 2, seed=0, rank=2, world_size=2)
    with pytest.raises(ValueError, match='batch_size=0'):
        PartialLabelSampler(ds, 0, seed=0)
    with pytest.raises(ValueError, match='non-empty'):
        PartialLabelSampler(FlagsDataset(np.zeros((0, 3))), 2, seed=0)


def test_real_dataset_in_an_mmengine_dataloader(tiny_procedural_root):
    from mmengine.runner import Runner
    ds = DATASETS.build(dict(
        type='NYUv2Dataset', data_root=tiny_procedural_root, split='train',
        index_file='splits/train.txt', tasks=TASKS, pipeline=[],
        label_regime=dict(type='onelabel', seed=0)))
    assert ds.label_regime is not None
    sampler = DATA_SAMPLERS.build(
        dict(type='PartialLabelSampler', batch_size=3, infinite=True),
        default_args=dict(dataset=ds, seed=0))
    order = take(sampler, 3 * len(ds))
    regime = ds.label_regime
    flags = np.array([regime.flags[regime.image_ids.index(
        ds.get_data_info(i)['img_id'])] for i in order])
    assert flags.reshape(-1, 3, 3).any(1).all()
    loader = Runner.build_dataloader(
        dict(batch_size=3, num_workers=0, dataset=ds, collate_fn=list,
             sampler=dict(type='mtpsl.PartialLabelSampler', batch_size=3,
                          infinite=True)), seed=0)
    for batch in itertools.islice(loader, 8):
        labelled = np.array([[info['label_flags'][t] for t in TASKS]
                             for info in batch])
        assert labelled.any(0).all()
