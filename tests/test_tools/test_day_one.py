"""Day-one fixes: strict JSON from test.py --out, a fixed task order and a
legend / colour bars in pictures, make_val_split's message."""
import json
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from conftest import REPO

sys.path.insert(0, osp.join(REPO, 'tools'))


def test_out_is_strict_json():
    from test import strict_json_metrics
    out = strict_json_metrics({'sem_seg/IoU.sofa': float('nan'),
                               'depth/abs_err': 0.5,
                               'x/y': float('inf')})
    text = json.dumps(out, allow_nan=False)  # raises on NaN
    back = json.loads(text)
    assert back['sem_seg/IoU.sofa'] is None and back['depth/abs_err'] == 0.5
    assert 'no pixel of this class' in back['null_reasons'][
        'sem_seg/IoU.sofa']
    assert set(back['null_reasons']) == {'sem_seg/IoU.sofa', 'x/y'}


def _maps():
    g = torch.Generator().manual_seed(0)
    return {'normal': torch.nn.functional.normalize(
                torch.randn(3, 24, 32, generator=g), dim=0),
            'depth': torch.rand(1, 24, 32, generator=g) + 0.1,
            'sem_seg': torch.randint(0, 5, (1, 24, 32), generator=g)}


def test_picture_rows_keep_the_task_order_and_have_keys():
    from mtpsl.visualization import draw_prediction
    img = np.full((24, 32, 3), 0.5, np.float32)
    preds = _maps()
    gts = {k: v.clone() for k, v in preds.items()}
    a = draw_prediction(img, preds, gts, {'sem_seg': 5})
    b = draw_prediction(img, dict(reversed(list(preds.items()))), gts,
                        {'sem_seg': 5})
    assert np.array_equal(a, b)
    without_gt = draw_prediction(img, preds, {}, {'sem_seg': 5})
    assert without_gt.shape[1] < a.shape[1]


def test_legend_and_colour_bar_show_the_palette_and_scale():
    from mtpsl.visualization.colorize import colorize_depth, label_palette
    from mtpsl.visualization.legend import class_legend, colour_bar
    legend = class_legend(3, height=60)
    for c, colour in enumerate(label_palette(3)):
        assert (legend == colour).all(-1).any(), c
    bar = colour_bar(0.0, 4.0, 'm', height=50)
    top = colorize_depth(np.full((1, 1), 4.0, np.float32), vmin=0, vmax=4)
    assert np.array_equal(bar[0, 0], top[0, 0])  # vmax at the top
    assert (bar[:, 19:] < 128).any()  # the labels are drawn


def test_make_val_split_says_what_is_needed():
    from make_val_split import carve, fewest_images
    with pytest.raises(ValueError, match='at least 6 images'):
        carve(2, 0.1, 0)
    assert fewest_images(0.5) == 2
    train, val = carve(6, 0.1, 0)
    assert len(val) == 1 and len(train) == 5


def test_browse_dataset_says_what_is_missing(tiny_procedural_root, tmp_path):
    import shutil

    from browse_dataset import main as browse
    root = tmp_path / 'd'
    shutil.copytree(tiny_procedural_root, root)
    assert browse([str(root), '--num', '1', '--out',
                   str(tmp_path / 'ok.png')]) == 0
    shutil.rmtree(root / 'train' / 'normal')
    label = np.load(root / 'train' / 'label' / '0.npy')
    label[0, 0] = 40
    np.save(root / 'train' / 'label' / '0.npy', label)
    assert browse([str(root), '--num', '1', '--out',
                   str(tmp_path / 'g.png')]) == 1
