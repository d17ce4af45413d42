"""Writing region maps: resume and sharding give the files of one
uninterrupted run, byte for byte; the tool's errors."""
import os
import os.path as osp

import numpy as np
import pytest
import torch

from mtpsl.regions.sam import load_sam_checkpoint
from mtpsl.regions.writer import (check_meta, generate_maps, parse_shard,
                                  shard_items)


def _images(folder, n=5):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    items = []
    for i in range(n):
        path = osp.join(folder, f'{i}.npy')
        np.save(path, rng.random((8, 10, 3)).astype(np.float32))
        items.append((str(i), path))
    return items


def _stub_map(image):
    """Deterministic stand-in for SAM: ids from the image's brightness."""
    return (image.mean(-1) // 64).astype(np.int64) + 1


def _files(folder):
    return {n: open(osp.join(folder, n), 'rb').read()
            for n in sorted(os.listdir(folder))}


def test_resume_and_shards_match_one_run(tmp_path):
    items = _images(str(tmp_path / 'image'))
    one = str(tmp_path / 'one')
    summary = generate_maps(items, _stub_map, one, progress=False)
    assert summary['computed'] == 5 and summary['regions_min'] >= 1
    calls = []

    def crash_on_third(image):
        if len(calls) == 2:
            raise KeyboardInterrupt('simulated crash')
        calls.append(1)
        return _stub_map(image)

    resumed = str(tmp_path / 'resumed')
    with pytest.raises(KeyboardInterrupt):
        generate_maps(items, crash_on_third, resumed, progress=False)
    assert len(os.listdir(resumed)) == 2
    s = generate_maps(items, _stub_map, resumed, progress=False)
    assert (s['computed'], s['skipped']) == (3, 2)
    sharded = str(tmp_path / 'sharded')
    for i in range(2):
        generate_maps(items, _stub_map, sharded, shard=(i, 2), progress=False)
    assert _files(one) == _files(resumed) == _files(sharded)
    assert len(_files(one)) == 5  # no temporary files left


def test_png_maps_and_progress_line(tmp_path, capsys):
    import sys
    items = _images(str(tmp_path / 'image'), n=2)
    generate_maps(items, _stub_map, str(tmp_path / 'out'), suffix='.png',
                  stream=sys.stdout)
    assert sorted(os.listdir(tmp_path / 'out')) == ['0.png', '1.png']
    assert '2/2' in capsys.readouterr().out


def test_shards_are_disjoint_and_cover_everything():
    items = [(str(i), '') for i in range(7)]
    parts = [shard_items(items, i, 3) for i in range(3)]
    assert sorted(sum(parts, [])) == sorted(items)
    assert parse_shard('1/3') == (1, 3)
    assert parse_shard(None, dict(RANK='2', WORLD_SIZE='4')) == (2, 4)
    assert parse_shard(None, {}) == (0, 1)
    with pytest.raises(ValueError, match='i/n'):
        parse_shard('1-3')
    with pytest.raises(ValueError, match='0 <= i < n'):
        parse_shard('3/3')


def test_other_settings_are_refused(tmp_path):
    check_meta(str(tmp_path), dict(points_per_side=32), overwrite=False)
    check_meta(str(tmp_path), dict(points_per_side=32), overwrite=False)
    with pytest.raises(ValueError, match='points_per_side: 32 there, 8 now'):
        check_meta(str(tmp_path), dict(points_per_side=8), overwrite=False)
    check_meta(str(tmp_path), dict(points_per_side=8), overwrite=True)


def test_tool_missing_checkpoint_is_one_clear_line(tmp_path, capsys):
    from tools.generate_region_maps import main
    _images(str(tmp_path / 'image'), n=1)
    code = main([str(tmp_path / 'image'), '--model-type', 'vit_b',
                 '--checkpoint', str(tmp_path / 'sam_vit_b.pth')])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert 'SAM checkpoint not found' in err and 'sam_vit_b.pth' in err


def test_checkpoint_of_another_model_type_is_named(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    torch.save({'image_encoder.patch_embed.proj.weight':
                torch.zeros(1280, 3, 1, 1)}, path)
    with pytest.raises(ValueError, match='does not fit --model-type vit_b.*'
                                         'it looks like vit_h'):
        load_sam_checkpoint(path, 'vit_b')
    torch.save({'something': torch.zeros(1)}, path)
    with pytest.raises(ValueError, match='not a SAM checkpoint'):
        load_sam_checkpoint(path, 'vit_b')
    with pytest.raises(FileNotFoundError, match='SAM checkpoint not found'):
        load_sam_checkpoint(str(tmp_path / 'nope.pth'), 'vit_b')
