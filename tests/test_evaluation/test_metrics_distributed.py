"""Every task metric and Delta_MTL on 2 gloo processes equal 1 process.

Each rank gets its share of an odd number of images as MMEngine's
DefaultSampler deals them (rank r: images r, r + 2, ..., padded by wrapping
around), so the gather must also drop the padding image.
"""
import pickle

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from conftest import free_port
from mmengine.structures import PixelData

pytestmark = pytest.mark.slow

NUM_IMAGES = 5
WORLD_SIZE = 2


def _samples():
    """Seeded images with the GT and predictions of all six tasks."""
    from mtpsl.structures import MultiTaskDataSample
    rng = np.random.default_rng(0)
    out = []
    for i in range(NUM_IMAGES):
        h, w = 10 + i, 12
        # image 2 has no people: no human-parts GT, a NO_GT result
        s = MultiTaskDataSample(metainfo=dict(
            img_path=f'{i}.npy', label_flags=dict(human_parts=i != 2)))
        for task, c in (('sem_seg', 4), ('human_parts', 3)):
            gt = torch.from_numpy(rng.integers(-1, c, (1, h, w)))
            if task == 'sem_seg' or i != 2:
                s.set_gt(task, gt)
            s.set_pred(task, torch.from_numpy(rng.integers(0, c, (1, h, w))))
        depth = rng.uniform(0.5, 5, (1, h, w))
        depth[rng.random((1, h, w)) < 0.2] = 0
        s.set_gt('depth', torch.from_numpy(depth))
        s.set_pred('depth', torch.from_numpy(rng.uniform(-0.5, 5, (1, h, w))))
        s.set_gt('normal', torch.from_numpy(rng.normal(size=(3, h, w))))
        s.set_pred('normal', torch.from_numpy(rng.normal(size=(3, h, w))))
        for task in ('saliency', 'edge'):
            gt = rng.integers(-1, 2, (1, h, w))
            prob = rng.random((1, h, w))
            s.set_gt(task, torch.from_numpy(gt))
            s.set_pred(task, torch.from_numpy((prob > 0.5).astype(np.int64)))
            s.set_field(PixelData(data=torch.from_numpy(prob)),
                        f'pred_{task}_prob', dtype=PixelData)
        out.append(s)
    return out


def _evaluator():
    from mtpsl.evaluation import MultiTaskEvaluator
    refs = dict(sem_seg={'mIoU': 20.0, 'pixel_acc': 25.0},
                human_parts={'mIoU': 30.0}, depth={'abs_err': 1.5},
                normal={'mean': 80.0, 'median': 80.0},
                saliency={'maxF': 50.0}, edge={'odsF': 40.0})
    return MultiTaskEvaluator(
        [dict(type='SemSegMetric', num_classes=4),
         dict(type='SemSegMetric', task='human_parts', num_classes=3),
         dict(type='DepthMetric'), dict(type='NormalMetric'),
         dict(type='SaliencyMetric'), dict(type='EdgeMetric', max_dist=0.1)],
        delta_mtl=dict(references=refs, source='made up for the test'))


def _evaluate(indices, size=NUM_IMAGES):
    import mtpsl  # noqa: F401
    samples = _samples()
    evaluator = _evaluator()
    for i in range(0, len(indices), 2):  # batches of 2
        evaluator.process([samples[j] for j in indices[i:i + 2]])
    return evaluator.evaluate(size)


def _worker(rank, port, out_file):
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                            rank=rank, world_size=WORLD_SIZE)
    try:
        total = -(-NUM_IMAGES // WORLD_SIZE) * WORLD_SIZE
        order = [i % NUM_IMAGES for i in range(total)]
        metrics = _evaluate(order[rank:total:WORLD_SIZE])
        with open(f'{out_file}.{rank}', 'wb') as f:
            pickle.dump(metrics, f)
    finally:
        dist.destroy_process_group()


def test_two_processes_equal_one(tmp_path):
    single = _evaluate(list(range(NUM_IMAGES)))
    out_file = str(tmp_path / 'metrics')
    mp.spawn(_worker, args=(free_port(), out_file), nprocs=WORLD_SIZE,
             join=True)
    assert len(single) > 20 and 'delta_mtl/all' in single
    for rank in range(WORLD_SIZE):
        with open(f'{out_file}.{rank}', 'rb') as f:
            double = pickle.load(f)
        assert double.keys() == single.keys()
        for key, value in single.items():
            assert double[key] == pytest.approx(value, rel=1e-12, abs=1e-12,
                                                nan_ok=True), key
    # the padding image, if it were kept, would change the result
    padded = _evaluate(list(range(NUM_IMAGES)) + [0], size=NUM_IMAGES + 1)
    assert padded['depth/abs_err'] != pytest.approx(single['depth/abs_err'])
