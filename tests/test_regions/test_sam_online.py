"""The online SAM source: computes and caches a missing map in the offline
layout (safe with several processes at once), reads cached ``.npy`` maps
and the release's 8-bit ``<i>.png`` maps as they are."""
import multiprocessing as mp
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

import mtpsl  # noqa: F401  (first: it makes torchvision importable on CPU)
from mtpsl.regions import read_region_map
from mtpsl.registry import REGION_SOURCES

sa = pytest.importorskip('segment_anything',
                         reason='pip install -e ".[sam]" for the SAM tests')

from test_generate_tool import _tiny_sam  # noqa: E402

LOOSE = dict(pred_iou_thresh=0.0, stability_score_thresh=0.0,
             points_per_side=4)


@pytest.fixture
def tiny_layout(tiny_procedural_root, tmp_path, monkeypatch):
    monkeypatch.setitem(sa.sam_model_registry, 'vit_tiny_test', _tiny_sam)
    root = tmp_path / 'data'
    os.makedirs(root / 'train' / 'image')
    for i in range(3):
        shutil.copy(osp.join(tiny_procedural_root, 'val', 'image',
                             f'{i}.npy'),
                    root / 'train' / 'image' / f'{i}.npy')
    return str(root)


def _results(root, i):
    return dict(img_path=osp.join(root, 'train', 'image', f'{i}.npy'),
                img_id=str(i))


def _source():
    return REGION_SOURCES.build(dict(
        type='sam_online', model_type='vit_tiny_test', random_weights=True,
        **LOOSE))


def test_missing_map_is_computed_cached_then_read(tiny_layout):
    source = _source()
    ids, origin = source(_results(tiny_layout, 0))
    assert origin == osp.join(tiny_layout, 'train', 'sam', '0.npy')
    assert ids.shape == (32, 48) and ids.dtype == np.int64
    assert np.array_equal(read_region_map(origin), ids)
    assert osp.isfile(osp.join(tiny_layout, 'train', 'sam',
                               'regions_meta.json'))
    # a second call reads the cache: no model is needed any more
    source._mapper = None
    source._make_map = None
    again, _ = source(_results(tiny_layout, 0))
    assert np.array_equal(again, ids)
    # the offline reader finds the same file
    cached = REGION_SOURCES.build(dict(type='sam'))
    assert np.array_equal(cached(_results(tiny_layout, 0))[0], ids)


def _worker(root, i, queue):
    ids, path = _source()(_results(root, i))
    queue.put((path, ids.tobytes()))


def test_processes_writing_at_once_leave_whole_maps(tiny_layout):
    ctx = mp.get_context('fork')     # the workers inherit the tiny registry
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(tiny_layout, i % 2, queue))
             for i in range(4)]
    for p in procs:
        p.start()
    out = [queue.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    folder = osp.join(tiny_layout, 'train', 'sam')
    assert sorted(os.listdir(folder)) == ['0.npy', '1.npy',
                                          'regions_meta.json']
    for path, data in out:
        assert read_region_map(path).tobytes() == data


def test_release_png_layout_reads_as_it_is(tiny_layout):
    folder = osp.join(tiny_layout, 'train', 'sam')
    os.makedirs(folder)
    gray = (np.arange(32 * 48) // 100 % 7).astype(np.uint8).reshape(32, 48)
    cv2.imwrite(osp.join(folder, '1.png'), gray)            # 8-bit gray
    cv2.imwrite(osp.join(folder, '2.png'), np.dstack([gray] * 3))  # as RGB
    for source in (REGION_SOURCES.build(dict(type='sam')), _source()):
        for i in (1, 2):
            ids, path = source(_results(tiny_layout, i))
            assert path.endswith(f'{i}.png')
            assert np.array_equal(ids, gray.astype(np.int64))


def test_settings_errors_are_clear(tiny_layout, tmp_path):
    with pytest.raises(ValueError, match='checkpoint=PATH'):
        REGION_SOURCES.build(dict(type='sam_online'))
    with pytest.raises(FileNotFoundError, match='not found'):
        REGION_SOURCES.build(dict(type='sam_online',
                                  checkpoint=str(tmp_path / 'none.pth')))
    with pytest.raises(ValueError, match='unknown'):
        REGION_SOURCES.build(dict(type='sam_online', random_weights=True,
                                  points=3))
