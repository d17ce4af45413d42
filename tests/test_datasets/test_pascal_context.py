"""PascalContextDataset + LoadPascalContext on tiny trees of real formats."""
import os
import os.path as osp
import sys

import numpy as np
import pytest
import scipy.io
import torch
from PIL import Image

import mtpsl  # noqa: F401
from mtpsl.datasets import PascalContextDataset
from mtpsl.datasets.pascal_context import PASCAL_TASK_FILES
from mtpsl.datasets.transforms.loading_pascal import (LoadPascalContext,
                                                      label_edges)

sys.path.insert(0, osp.dirname(__file__))
from _tiny_pascal import TRAIN_IDS, VAL_IDS, make_tiny_pascal  # noqa: E402

TASKS = ('sem_seg', 'human_parts', 'normal', 'saliency', 'edge')
PIPELINE = [dict(type='LoadPascalContext'), dict(type='PackMultiTaskInputs')]


def _ds(root, **kwargs):
    kwargs.setdefault('pipeline', PIPELINE)
    return PascalContextDataset(data_root=str(root), **kwargs)


def _expected(ref, task):
    """Ground truth as C x H x W tensors, decoded by hand."""
    if task == 'sem_seg':
        out = ref['semseg'].astype(np.int64)
        out[ref['semseg'] == 255] = -1
    elif task == 'human_parts':
        out = ref['parts']
    elif task == 'saliency':
        out = (ref['sal'] >= 128).astype(np.int64)
    elif task == 'edge':
        lm = ref['label_map']
        out = np.zeros(lm.shape, np.int64)
        half = lm.shape[1] // 2
        out[:, half - 1:half + 1] = 1  # both sides of the vertical border
    else:
        n = ref['normal'].astype(np.float64) / 255 * 2 - 1
        n /= np.linalg.norm(n, axis=-1, keepdims=True)
        n[(ref['normal'] == 0).all(-1)] = 0
        n[1, 2] = 0
        assert np.count_nonzero(np.abs(n).sum(-1) == 0) == 2
        return torch.from_numpy(n.transpose(2, 0, 1).astype(np.float32))
    return torch.from_numpy(out)[None]


def test_loads_shapes_and_contents(tmp_path):
    ref = make_tiny_pascal(tmp_path)
    for split, ids in (('train', TRAIN_IDS), ('val', VAL_IDS)):
        ds = _ds(tmp_path, split=split, test_mode=split == 'val')
        assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == \
            list(ids)
        for i, r in enumerate(ref[split]):
            item = ds[i]
            s = item['data_samples']
            h, w = r['rgb'].shape[:2]
            img = item['inputs']
            assert img.shape == (3, h, w) and img.dtype == torch.float32
            want = torch.from_numpy(r['rgb'].transpose(2, 0, 1) / 255.0)
            assert (img - want).abs().max() < 0.06  # JPEG loss only
            assert s.metainfo['img_path'] == osp.join(
                str(tmp_path), 'JPEGImages', f'{r["id"]}.jpg')
            for task in TASKS:
                if task == 'human_parts' and r['parts'] is None:
                    continue
                gt = s.gt(task)
                assert gt.dtype == (torch.float32 if task == 'normal' else
                                    torch.int64)
                exp = _expected(r, task)
                assert gt.shape == exp.shape, task
                if task == 'normal':
                    assert torch.allclose(gt, exp, atol=1e-6)
                else:
                    assert torch.equal(gt, exp), task


def test_human_parts_unlabelled_without_people(tmp_path):
    make_tiny_pascal(tmp_path)
    for split, kwargs in (('train', dict(label_regime=dict(type='full'))),
                          ('train', {}), ('val', dict(test_mode=True))):
        ds = _ds(tmp_path, split=split, **kwargs)
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            # train 0 (person parts) and val 0 (parts map) have people.
            people = i == 0
            assert info['label_flags']['human_parts'] is people
            assert ('human_parts' in info['gt_paths']) is people
            s = ds[i]['data_samples']
            assert ('gt_human_parts' in s) is people
            assert s.is_labelled('human_parts') is people
            assert all(info['label_flags'][t] for t in TASKS
                       if t != 'human_parts')


def test_published_split_regime(tmp_path):
    make_tiny_pascal(tmp_path)
    a, b, c = TRAIN_IDS
    split = dict(semseg=[a], human_parts=[a, b], edge=[c], normals=[b],
                 sal=[c, a])
    path = tmp_path / 'onelabel.npy'
    np.save(path, split, allow_pickle=True)
    ds = _ds(tmp_path, label_regime=dict(type='from_file', path=str(path)))
    flags = {ds.get_data_info(i)['img_id']: ds.get_data_info(i)['label_flags']
             for i in range(len(ds))}
    on = {img_id: {t for t, f in fl.items() if f}
          for img_id, fl in flags.items()}
    # b is listed for human_parts but has no parts file: unlabelled.
    assert on == {a: {'sem_seg', 'human_parts', 'saliency'},
                  b: {'normal'}, c: {'edge', 'saliency'}}
    s = ds[1]['data_samples']
    assert s.labelled_tasks() == ['normal']


def test_index_file_carves_split(tmp_path):
    make_tiny_pascal(tmp_path)
    (tmp_path / 'val_ids.txt').write_text(f'{TRAIN_IDS[2]}\n')
    ds = _ds(tmp_path, index_file='val_ids.txt', test_mode=True)
    assert len(ds) == 1 and ds.get_data_info(0)['img_id'] == TRAIN_IDS[2]
    (tmp_path / 'bad_ids.txt').write_text('2099_000001\n')
    with pytest.raises(ValueError, match='bad_ids.txt.*2099_000001'):
        _ds(tmp_path, index_file='bad_ids.txt')


def test_label_edges_golden():
    lm = np.array([[1, 1, 2],
                   [1, 1, 2],
                   [3, 3, 3]])
    np.testing.assert_array_equal(label_edges(lm), [[0, 1, 1],
                                                    [1, 1, 1],
                                                    [1, 1, 1]])
    assert not label_edges(np.zeros((2, 3))).any()


def _load(root, img_id, task):
    folder, ext = PASCAL_TASK_FILES[task]
    results = dict(img_path=osp.join(str(root), 'JPEGImages',
                                     f'{img_id}.jpg'),
                   gt_paths={task: osp.join(str(root), folder,
                                            f'{img_id}{ext}')})
    return LoadPascalContext()(results)


@pytest.mark.parametrize('task,rel', [
    ('sem_seg', 'semseg/pascal-context/{}.png'),
    ('normal', 'normals_distill/{}.png'),
    ('saliency', 'sal_distill/{}.png'),
    ('edge', 'pascal-context/trainval/{}.mat'),
    ('human_parts', 'human_parts/{}.mat'),
])
def test_missing_and_corrupt_files_named(tmp_path, task, rel):
    make_tiny_pascal(tmp_path)
    path = osp.join(str(tmp_path), rel.format(TRAIN_IDS[0]))
    os.remove(path)
    with pytest.raises(FileNotFoundError, match=path):
        _load(tmp_path, TRAIN_IDS[0], task)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG not really' * 4)
    with pytest.raises(ValueError, match=f'corrupt.*{path}'):
        _load(tmp_path, TRAIN_IDS[0], task)


def test_wrong_size_and_out_of_range_named(tmp_path):
    ref = make_tiny_pascal(tmp_path)
    img_id = TRAIN_IDS[0]
    path = osp.join(str(tmp_path), 'semseg', 'pascal-context',
                    f'{img_id}.png')
    Image.fromarray(np.zeros((3, 3), np.uint8)).save(path)
    with pytest.raises(ValueError, match=f'{path}: size'):
        _load(tmp_path, img_id, 'sem_seg')
    bad = ref['train'][0]['semseg'].copy()
    bad[1, 2] = 21
    Image.fromarray(bad).save(path)
    with pytest.raises(ValueError, match=f'{path}: label 21 outside'):
        _load(tmp_path, img_id, 'sem_seg')
    Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(path)
    with pytest.raises(ValueError, match=f'{path}: expected a single'):
        _load(tmp_path, img_id, 'sem_seg')
    path = osp.join(str(tmp_path), 'pascal-context', 'trainval',
                    f'{img_id}.mat')
    scipy.io.savemat(path, dict(Labels=np.zeros((6, 8))))
    with pytest.raises(ValueError, match=f"{path}: no variable 'LabelMap'"):
        _load(tmp_path, img_id, 'edge')
    parts = osp.join(str(tmp_path), 'human_parts', f'{VAL_IDS[0]}.mat')
    scipy.io.savemat(parts, dict(human_parts=np.full((6, 8), 9, np.uint8)))
    with pytest.raises(ValueError, match=f'{parts}: label 9 outside'):
        _load(tmp_path, VAL_IDS[0], 'human_parts')


def test_missing_image_at_listing_and_corrupt_image(tmp_path):
    make_tiny_pascal(tmp_path)
    path = osp.join(str(tmp_path), 'JPEGImages', f'{TRAIN_IDS[1]}.jpg')
    with open(path, 'wb') as f:
        f.write(b'not a jpeg')
    with pytest.raises(ValueError, match=f'corrupt.*{path}'):
        _ds(tmp_path)[1]
    os.remove(path)
    with pytest.raises(FileNotFoundError, match=path):
        _ds(tmp_path)
    with pytest.raises(FileNotFoundError, match='Context.*test.txt'):
        _ds(tmp_path, split='test')
