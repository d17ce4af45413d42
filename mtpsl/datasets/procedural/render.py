"""Render one procedural scene: RGB, semantics, depth, normals, instances, edges, saliency."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from .constants import IGNORE_INDEX, MAX_DEPTH, SALIENT_CLASSES, WINDOW
from .primitives import Camera, Scene
from .raycast import Hits, cast
from .scene import sample_scene
from .textures import EMISSIVE, albedo


def semantic_edges(label: np.ndarray) -> np.ndarray:
    """1 where a pixel's label differs from its right or lower neighbour (uint8)."""
    e = np.zeros(label.shape, bool)
    e[:, :-1] |= label[:, :-1] != label[:, 1:]
    e[:-1, :] |= label[:-1, :] != label[1:, :]
    return e.astype(np.uint8)


def ignore_band_radius(width: int) -> int:
    """Half width (pixels) of the ignore band around invalid-depth regions."""
    return max(1, int(round(width / 128)))


OCCLUSION_RATIO = 0.9  # a neighbour this much closer marks an occlusion boundary


def ignore_mask(depth: np.ndarray, radius: int) -> np.ndarray:
    """Unlabelled pixels, mimicking NYUv2 annotation gaps (depth 0 = invalid).

    (a) pixels within `radius` (Chebyshev) of the valid/invalid depth boundary, on both sides;
    (b) valid pixels with a valid pixel within `radius` that is closer than OCCLUSION_RATIO times
        their depth, i.e. the background side of an occlusion boundary.
    """
    valid = depth > 0
    kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    near_invalid = cv2.dilate((~valid).astype(np.uint8), kernel, borderType=cv2.BORDER_REPLICATE) > 0
    near_valid = cv2.dilate(valid.astype(np.uint8), kernel, borderType=cv2.BORDER_REPLICATE) > 0
    closest = cv2.erode(np.where(valid, depth, np.inf).astype(np.float32), kernel,
                        borderType=cv2.BORDER_REPLICATE)
    behind = valid & (closest < OCCLUSION_RATIO * depth)
    return (near_invalid & near_valid) | behind


def shade(scene: Scene, hits: Hits, alb: np.ndarray, emissive: np.ndarray, exposure: float) -> np.ndarray:
    """Lambertian shading: ambient + point/directional lights; emissive pixels keep their albedo."""
    n, X = hits.normals, hits.points
    light = np.full((len(n), 3), scene.ambient)
    for lt in scene.lights:
        if lt.kind == "point":
            L = lt.vector[None, :] - X
            dist = np.linalg.norm(L, axis=1, keepdims=True)
            L = L / np.maximum(dist, 1e-9)
            att = 1.0 / (1.0 + 0.06 * dist[:, 0] ** 2)
        else:
            L, att = lt.vector[None, :], 1.0
        lam = np.maximum(np.einsum("ij,ij->i", n, L), 0.0) * att * lt.intensity
        light += lam[:, None] * lt.color[None, :]
    rgb = tone_map(alb * light * exposure)
    return np.where(emissive[:, None], alb, rgb)


def tone_map(x: np.ndarray, knee: float = 0.75) -> np.ndarray:
    """Identity below the knee, smooth roll-off to 1 above it (avoids flat blown-out walls)."""
    over = np.maximum(x - knee, 0.0)
    return np.minimum(x, knee) + (1.0 - knee) * (1.0 - np.exp(-over / (1.0 - knee)))


def render(scene: Scene, cam: Camera, rng: np.random.Generator, debug: bool = False) -> dict[str, np.ndarray]:
    """Ray-cast a scene and derive all maps; `rng` only drives exposure and sensor noise."""
    H, W = cam.height, cam.width
    hits = cast(scene, cam)
    prims = scene.primitives
    cls_of = np.array([p.class_id for p in prims] + [IGNORE_INDEX], np.int32)  # index -1 -> last
    inst_of = np.array([p.instance_id for p in prims] + [0], np.int32)
    label_full = cls_of[hits.index]
    hit = hits.index >= 0
    valid = hit & (label_full != WINDOW) & (hits.depth <= MAX_DEPTH)

    alb = np.zeros((H * W, 3))
    emissive = np.zeros(H * W, bool)
    for k, pix in hits.groups:
        alb[pix] = albedo(prims[k], hits.local[pix], hits.face[pix], hits.points[pix])
        emissive[pix] = prims[k].material in EMISSIVE
    image = shade(scene, hits, alb, emissive, float(rng.uniform(0.85, 1.15)))
    image = image.reshape(H, W, 3) + rng.normal(0.0, rng.uniform(0.005, 0.02), (H, W, 3))

    normal_cam = hits.normals @ cam.R  # world -> camera frame (rows)
    depth = np.where(valid, hits.depth, 0.0).reshape(H, W).astype(np.float32)
    label_full2 = label_full.reshape(H, W)
    label = np.where(ignore_mask(depth, ignore_band_radius(W)), IGNORE_INDEX, label_full2)
    out = {
        "image": np.clip(image, 0.0, 1.0).astype(np.float32),
        "label": label.astype(np.float32),
        "depth": depth[:, :, None],
        "normal": np.where(valid[:, None], normal_cam, 0.0).reshape(H, W, 3).astype(np.float32),
        "instance": inst_of[hits.index].reshape(H, W),
        "edge": semantic_edges(label_full2),
        "saliency": np.isin(label_full2, SALIENT_CLASSES).astype(np.uint8),
    }
    if debug:
        out.update(label_full=label_full2, primitive=hits.index.reshape(H, W), camera=cam, scene=scene)
    return out


def render_scene(seed: int | Sequence[int], height: int, width: int, *, debug: bool = False) -> dict:
    """Render the random scene of `seed`; the layout and camera pose do not depend on the resolution.

    With debug=True the dict also holds label_full (label before the ignore band), primitive
    (per-pixel primitive index), camera and scene.
    """
    if int(height) < 1 or int(width) < 1:
        raise ValueError(f"height and width must be positive, got {height}x{width}")
    layout_ss, pixel_ss = np.random.SeedSequence(seed).spawn(2)
    scene, cam = sample_scene(np.random.default_rng(layout_ss), int(height), int(width))
    return render(scene, cam, np.random.default_rng(pixel_ss), debug=debug)
