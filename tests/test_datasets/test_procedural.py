"""Tests of the procedural indoor-scene generator: geometry, conventions, determinism, on-disk layout."""

import json
import os

import numpy as np
import pytest

from mtpsl.datasets.procedural import (CLASS_NAMES, PRESETS, Primitive, Scene, generate_dataset, load_sample,
                                       make_camera, render, render_scene)
from mtpsl.datasets.procedural.writer import MAP_KEYS, sample_seed
from mtpsl.visualization.colorize import (colorize_depth, colorize_ids, colorize_label, colorize_normal,
                                          draw_boundaries, make_grid)

FLOOR, CEILING, WINDOW = CLASS_NAMES.index("floor"), CLASS_NAMES.index("ceiling"), CLASS_NAMES.index("window")
SALIENT_NAMES = {"bed", "books", "chair", "furniture", "objects", "sofa", "table", "tv"}
H, W = 48, 64


@pytest.fixture(scope="module")
def scenes():
    """A handful of rendered scenes with debug extras."""
    return [render_scene(s, H, W, debug=True) for s in range(8)]


def camera_rays(cam):
    """Camera-frame ray directions (a, b, 1) per pixel, independent of the renderer."""
    u, v = np.meshgrid(np.arange(cam.width), np.arange(cam.height))
    return np.stack([(u - cam.cx) / cam.fx, (v - cam.cy) / cam.fy, np.ones(u.shape)], -1)


def test_constants():
    assert CLASS_NAMES == ("bed", "books", "ceiling", "chair", "floor", "furniture", "objects", "painting",
                           "sofa", "table", "tv", "wall", "window")
    assert PRESETS["nyuv2"] == dict(height=288, width=384, num_train=795, num_test=654)
    assert PRESETS["small"] == dict(height=96, width=128, num_train=400, num_test=100)


def test_determinism():
    a, b, c = render_scene(11, 24, 32), render_scene(11, 24, 32), render_scene(12, 24, 32)
    for key in MAP_KEYS:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["image"], c["image"])
    assert not np.array_equal(a["depth"], c["depth"])
    assert render_scene([0, 0, 3], 24, 32)["image"].tobytes() == render_scene((0, 0, 3), 24, 32)["image"].tobytes()


def test_dtypes_shapes_ranges(scenes):
    for out in scenes:
        assert out["image"].dtype == np.float32 and out["image"].shape == (H, W, 3)
        assert out["label"].dtype == np.float32 and out["label"].shape == (H, W)
        assert out["depth"].dtype == np.float32 and out["depth"].shape == (H, W, 1)
        assert out["normal"].dtype == np.float32 and out["normal"].shape == (H, W, 3)
        assert out["instance"].dtype == np.int32 and out["instance"].shape == (H, W)
        assert out["edge"].dtype == np.uint8 and out["saliency"].dtype == np.uint8
        assert 0.0 <= out["image"].min() and out["image"].max() <= 1.0 and out["image"].std() > 0.02
        assert set(np.unique(out["label"]).tolist()) <= set(range(-1, 13))
        assert 0.0 <= out["depth"].min() and out["depth"].max() <= 10.0
        assert set(np.unique(out["edge"])) <= {0, 1} and set(np.unique(out["saliency"])) <= {0, 1}
        assert out["instance"].min() >= 0


def test_normals_and_invalid_masks(scenes):
    shares = []
    for out in scenes:
        depth, n = out["depth"][..., 0], out["normal"]
        valid = depth > 0
        norm = np.linalg.norm(n, axis=-1)
        np.testing.assert_allclose(norm[valid], 1.0, atol=1e-5)
        assert np.all(n[~valid] == 0)  # normal invalid exactly where depth invalid
        rays = camera_rays(out["camera"])
        assert np.all(np.einsum("hwc,hwc->hw", n, rays)[valid] < 0)  # oriented towards the camera
        assert np.all(depth[out["label_full"] == WINDOW] == 0)  # glass has no depth
        ignore = out["label"] == -1
        np.testing.assert_array_equal(out["label"][~ignore], out["label_full"][~ignore])
        shares.append(ignore.mean())
    assert 0.003 < np.mean(shares) < 0.08 and max(shares) < 0.25


def test_golden_floor_plane():
    h, pitch, yaw = 1.4, 0.3, 0.7
    floor = Primitive("plane", np.zeros(3), np.zeros(3), FLOOR, 1, "planks", np.full(3, 0.5),
                      normal=np.array([0.0, 1.0, 0.0]))
    cam = make_camera((2.0, h, -1.0), yaw, pitch, 0.0, 30, 40)
    out = render(Scene([floor]), cam, np.random.default_rng(0), debug=True)
    depth, n = out["depth"][..., 0], out["normal"]
    fx, fy, cx, cy = cam.fx, cam.fy, cam.cx, cam.cy
    assert np.isclose(fx, 518.8579 * 40 / 640) and np.isclose(cx, 19.5) and np.isclose(cy, 14.5)
    for v in (20, 25, 29):
        for u in (0, 17, 39):
            b = (v - cy) / fy
            expected = h / (b * np.cos(pitch) + np.sin(pitch))
            assert depth[v, u] == pytest.approx(expected, rel=1e-5)
            np.testing.assert_allclose(n[v, u], [0.0, -np.cos(pitch), -np.sin(pitch)], atol=1e-6)
    horizon = cy - fy * np.tan(pitch)  # rows above it look at the sky: no hit, invalid, ignore
    assert np.all(depth[: int(np.floor(horizon)) - 1] == 0)
    assert np.all(out["label"][: int(np.floor(horizon)) - 1] == -1)
    assert np.all(out["instance"][int(np.ceil(horizon)) + 1:] == 1)


def test_golden_floor_with_roll():
    h, pitch, roll = 1.1, 0.2, 0.05
    floor = Primitive("plane", np.zeros(3), np.zeros(3), FLOOR, 1, "tiles", np.full(3, 0.5),
                      normal=np.array([0.0, 1.0, 0.0]))
    cam = make_camera((0.0, h, 0.0), -2.0, pitch, roll, 24, 32)
    out = render(Scene([floor]), cam, np.random.default_rng(0))
    up_cam = cam.R.T @ np.array([0.0, 1.0, 0.0])
    X = out["depth"] * camera_rays(cam)
    valid = out["depth"][..., 0] > 0
    assert valid.mean() > 0.3
    np.testing.assert_allclose(X[valid] @ up_cam, -h, atol=1e-5)
    np.testing.assert_allclose(out["normal"][valid], np.broadcast_to(up_cam, (valid.sum(), 3)), atol=1e-6)


def test_depth_normal_consistency_planes(scenes):
    checked = 0
    for out in scenes:
        X = out["depth"] * camera_rays(out["camera"])  # back-projected camera-frame points
        valid = out["depth"][..., 0] > 0
        for prim_id in np.unique(out["primitive"][valid]):
            prim = out["scene"].primitives[prim_id]
            mask = valid & (out["primitive"] == prim_id)
            if prim.kind != "plane" or mask.sum() < 20:
                continue
            n = out["normal"][mask]
            np.testing.assert_allclose(n, np.broadcast_to(n[0], n.shape), atol=1e-6)
            offsets = np.einsum("ij,ij->i", X[mask], n)
            assert np.ptp(offsets) < 1e-4  # all points satisfy n . X = const
            if prim.class_id == FLOOR:
                assert offsets.mean() == pytest.approx(-out["camera"].position[1], abs=1e-4)
            checked += 1
    assert checked >= 8


def test_edge_rule(scenes):
    for out in scenes:
        lab = out["label_full"]
        expected = np.zeros(lab.shape, np.uint8)
        for y in range(lab.shape[0]):
            for x in range(lab.shape[1]):
                right = x + 1 < lab.shape[1] and lab[y, x] != lab[y, x + 1]
                down = y + 1 < lab.shape[0] and lab[y, x] != lab[y + 1, x]
                expected[y, x] = right or down
        np.testing.assert_array_equal(out["edge"], expected)


def test_saliency_rule(scenes):
    salient_ids = [CLASS_NAMES.index(c) for c in SALIENT_NAMES]
    for out in scenes:
        np.testing.assert_array_equal(out["saliency"], np.isin(out["label_full"], salient_ids).astype(np.uint8))
        lab = out["label"]
        assert not np.any(out["saliency"][np.isin(lab, [2, 4, 7, 11, 12])])


def test_instances(scenes):
    for out in scenes:
        inst, lab, prim = out["instance"], out["label_full"], out["primitive"]
        for cls in (FLOOR, CEILING):
            assert len(np.unique(inst[lab == cls])) <= 1  # one surface, one id
        for i in np.unique(inst):
            classes = np.unique(lab[inst == i])
            assert len(classes) == 1  # every region has a single class
            assert (i == 0) == (classes[0] == -1)
        for p in np.unique(prim):
            assert len(np.unique(inst[prim == p])) == 1


def make_tiny(root, **kw):
    args = dict(num_train=5, num_test=2, height=24, width=32, seed=3, workers=1, progress=False)
    args.update(kw)
    return generate_dataset(root, **args)


def test_layout_and_idempotency(tmp_path, capsys):
    root = tmp_path / "ds"
    meta = make_tiny(root)
    for folder, n in (("train", 5), ("val", 2)):
        for key in MAP_KEYS:
            assert sorted(os.listdir(root / folder / key)) == sorted(f"{i}.npy" for i in range(n))
    s = load_sample(root, "train", 4)
    assert s["image"].dtype == np.float32 and s["image"].shape == (24, 32, 3)
    assert s["label"].dtype == np.float32 and s["depth"].shape == (24, 32, 1)
    assert s["instance"].dtype == np.int32 and s["edge"].dtype == np.uint8 and s["saliency"].dtype == np.uint8
    ref = render_scene(sample_seed(3, "test", 1), 24, 32)
    np.testing.assert_array_equal(load_sample(root, "val", 1)["depth"], ref["depth"])
    tr = [int(x) for x in (root / "splits" / "train.txt").read_text().split()]
    va = [int(x) for x in (root / "splits" / "val.txt").read_text().split()]
    assert tr == sorted(tr) and va == sorted(va) and len(va) == 1
    assert not set(tr) & set(va) and sorted(tr + va) == list(range(5))
    on_disk = json.loads((root / "meta.json").read_text())
    assert on_disk == meta
    assert meta["class_names"] == list(CLASS_NAMES) and meta["height"] == 24 and meta["num_test"] == 2
    assert meta["intrinsics"]["fx"] == pytest.approx(518.8579 * 32 / 640)
    assert meta["counts"] == {"train": 4, "val": 1, "test": 2}

    stamps = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    assert make_tiny(root, progress=True) == meta
    assert "up to date" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()} == stamps

    with pytest.raises(FileExistsError, match="overwrite"):
        make_tiny(root, seed=4)
    assert make_tiny(root, seed=4, overwrite=True)["seed"] == 4


def test_interrupted_run_is_regenerated(tmp_path):
    root = tmp_path / "ds"
    make_tiny(root)
    (root / "meta.json").unlink()  # as if killed before the end
    (root / ".generating").write_text("{}")
    (root / "train" / "image" / "3.npy").unlink()
    meta = make_tiny(root)
    assert (root / "meta.json").exists() and (root / "train" / "image" / "3.npy").exists()
    assert not (root / ".generating").exists() and meta["num_train"] == 5


def test_refuses_foreign_directory(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=str(tmp_path)):
        make_tiny(tmp_path)


def test_worker_count_does_not_change_output(tmp_path):
    make_tiny(tmp_path / "a", workers=1)
    make_tiny(tmp_path / "b", workers=2)
    for folder, n in (("train", 5), ("val", 2)):
        for i in range(n):
            a, b = load_sample(tmp_path / "a", folder, i), load_sample(tmp_path / "b", folder, i)
            for key in MAP_KEYS:
                np.testing.assert_array_equal(a[key], b[key])


def test_colorize_helpers(scenes):
    out = scenes[0]
    lab = colorize_label(out["label"], 13)
    assert lab.dtype == np.uint8 and lab.shape == (H, W, 3)
    assert np.all(lab[out["label"] == -1] == 0)
    assert len({tuple(c) for c in colorize_label(np.arange(13)[None, :], 13)[0]}) == 13
    dep = colorize_depth(out["depth"], vmin=0.0, vmax=10.0)
    assert np.all(dep[out["depth"][..., 0] == 0] == 0)
    nrm = colorize_normal(out["normal"])
    assert np.all(nrm[out["depth"][..., 0] == 0] == 0)
    ids = colorize_ids(out["instance"])
    assert ids.shape == (H, W, 3) and np.all(ids[out["instance"] == 0] == 0)
    assert draw_boundaries(out["image"], out["instance"]).shape == (H, W, 3)
    grid = make_grid([[lab, dep], [nrm, ids]], titles=["a", "b"])
    assert grid.dtype == np.uint8 and grid.ndim == 3 and grid.shape[1] > 2 * 160
