"""tools/generate_region_maps.py end to end with randomly initialised SAMs:
a tiny one (fast) for resume and sharding, and vit_b itself once."""
import os
import os.path as osp

import numpy as np
import pytest
import torch

import mtpsl  # noqa: F401  (first: it makes torchvision importable on CPU)

sa = pytest.importorskip('segment_anything',
                         reason='pip install -e ".[sam]" for the SAM tests')

from tools.generate_region_maps import main  # noqa: E402

# Keep the random decoder's masks: default thresholds drop all of them.
LOOSE = ['--pred-iou-thresh', '0', '--stability-score-thresh', '0',
         '--points-per-side', '4', '--no-progress', '--threads', '1']


def _tiny_sam(checkpoint=None):
    """A SAM of the released architecture, shrunk: 64 px input, width 16."""
    from functools import partial

    from segment_anything.modeling import (ImageEncoderViT, MaskDecoder,
                                           PromptEncoder, Sam,
                                           TwoWayTransformer)
    dim = 16
    return Sam(
        image_encoder=ImageEncoderViT(
            depth=1, embed_dim=dim, img_size=64, mlp_ratio=2,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_heads=1,
            patch_size=16, qkv_bias=True, use_rel_pos=True,
            global_attn_indexes=(0,), window_size=0, out_chans=dim),
        prompt_encoder=PromptEncoder(embed_dim=dim,
                                     image_embedding_size=(4, 4),
                                     input_image_size=(64, 64),
                                     mask_in_chans=4),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(depth=1, embedding_dim=dim,
                                          mlp_dim=32, num_heads=1),
            transformer_dim=dim, iou_head_depth=2, iou_head_hidden_dim=16),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375])


@pytest.fixture
def tiny_sam(monkeypatch):
    monkeypatch.setitem(sa.sam_model_registry, 'vit_tiny_test', _tiny_sam)
    return ['--model-type', 'vit_tiny_test', '--random-weights']


def _files(folder):
    return {n: open(osp.join(folder, n), 'rb').read()
            for n in sorted(os.listdir(folder)) if n.endswith('.npy')}


def _layout(src_root, dst_root, n=4):
    """A NYUv2-layout copy of ``n`` procedural images (train split)."""
    import shutil
    os.makedirs(osp.join(dst_root, 'train', 'image'))
    for i in range(n):
        shutil.copy(osp.join(src_root, 'val', 'image', f'{i}.npy'),
                    osp.join(dst_root, 'train', 'image', f'{i}.npy'))
    return dst_root


def test_resume_and_two_shards_equal_one_run(tiny_procedural_root, tmp_path,
                                             tiny_sam, capsys):
    root = _layout(tiny_procedural_root, str(tmp_path / 'data'))
    run = [root] + tiny_sam + LOOSE
    one, resumed, sharded = (str(tmp_path / n) for n in
                             ('one', 'resumed', 'sharded'))
    assert main(run + ['--out-dir', one]) == 0
    summary = capsys.readouterr().out
    assert '4 images (4 computed, 0 already there)' in summary
    maps = _files(one)
    assert sorted(maps) == ['0.npy', '1.npy', '2.npy', '3.npy']
    ids = np.load(osp.join(one, '0.npy'))
    assert ids.dtype == np.uint16 and ids.shape == (32, 48) and ids.max() >= 1
    # interrupted after 2 images (--limit), then resumed
    assert main(run + ['--out-dir', resumed, '--limit', '2']) == 0
    assert main(run + ['--out-dir', resumed]) == 0
    assert '(2 computed, 2 already there)' in capsys.readouterr().out
    for i in range(2):
        assert main(run + ['--out-dir', sharded, '--shard', f'{i}/2']) == 0
    assert _files(resumed) == maps and _files(sharded) == maps
    # by default beside the images, where LoadRegionMap(type='sam') reads
    assert main(run + ['--limit', '1']) == 0
    assert osp.isfile(osp.join(root, 'train', 'sam', '0.npy'))
    # another setting into the same folder is refused, naming it
    assert main(run + ['--points-per-side', '2', '--out-dir', one]) == 2
    assert 'points_per_side' in capsys.readouterr().err


def test_config_input_and_png_output(tiny_procedural_root, tmp_path,
                                     tiny_sam):
    from conftest import tiny_train_config
    cfg = tiny_train_config(tiny_procedural_root, str(tmp_path / 'work'))
    out = str(tmp_path / 'maps')
    assert main([cfg, '--split', 'val', '--format', 'png', '--out-dir', out]
                + tiny_sam + LOOSE) == 0
    assert sorted(os.listdir(out)) == sorted(
        f'{i}.png' for i in open(osp.join(tiny_procedural_root, 'splits',
                                          'val.txt')).read().split()) + \
        ['regions_meta.json']


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get('MTPSL_TEST_SAM_VIT_B'),
                    reason='set MTPSL_TEST_SAM_VIT_B=1: 20-200 s on 2 cores')
def test_real_vit_b_random_weights_one_image(tmp_path):
    """The released vit_b architecture (random weights) on one 32x48 image.

    Slow whatever the image size, since SAM encodes at 1024 px: 20-200 s on
    2 shared CPU cores, so it runs only when asked for."""
    folder = tmp_path / 'images'
    folder.mkdir()
    np.save(folder / 'a.npy', np.random.default_rng(0).random(
        (32, 48, 3)).astype(np.float32))
    out = str(tmp_path / 'sam')
    assert main([str(folder), '--model-type', 'vit_b', '--random-weights',
                 '--points-per-side', '2', '--no-progress',
                 '--out-dir', out]) == 0
    ids = np.load(osp.join(out, 'a.npy'))
    assert ids.shape == (32, 48) and ids.dtype == np.uint16
