"""Turn dense maps (labels, depth, normals, ids) into uint8 RGB pictures and tile them into grids."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

# Distinct colours for the first classes (NYUv2-13 order reads naturally with them); more are generated.
_BASE_PALETTE = np.array([
    [0, 0, 255], [232, 88, 47], [0, 217, 0], [148, 0, 240], [222, 241, 23], [255, 205, 205],
    [0, 223, 228], [106, 135, 204], [116, 28, 41], [240, 35, 235], [0, 166, 156], [249, 139, 0],
    [225, 228, 194], [128, 128, 0], [70, 70, 70], [255, 110, 180], [0, 90, 0], [160, 82, 45],
    [100, 149, 237], [255, 255, 255],
], np.uint8)


def to_uint8_rgb(img: np.ndarray) -> np.ndarray:
    """Float [0,1] or uint8 image (HxW or HxWx1/3) to uint8 HxWx3."""
    a = np.asarray(img)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.dtype != np.uint8:
        a = (np.clip(a.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"expected an HxW or HxWx3 image, got shape {np.shape(img)}")
    return np.ascontiguousarray(a)


def label_palette(num_classes: int) -> np.ndarray:
    """(num_classes, 3) uint8 palette; fixed for the first 20, golden-ratio hues after that."""
    if num_classes <= len(_BASE_PALETTE):
        return _BASE_PALETTE[:num_classes].copy()
    extra = np.arange(num_classes - len(_BASE_PALETTE))
    hsv = np.stack([(extra * 0.618034 * 180) % 180, np.full_like(extra, 200), 160 + (extra * 37) % 96], 1)
    rgb = cv2.cvtColor(hsv.astype(np.uint8)[None], cv2.COLOR_HSV2RGB)[0]
    return np.concatenate([_BASE_PALETTE, rgb], 0)


def colorize_label(label: np.ndarray, num_classes: int, ignore_index: int = -1) -> np.ndarray:
    """Semantic label map to RGB; ignore (and out-of-range) pixels are black."""
    lab = np.asarray(label)
    lab = lab[:, :, 0] if lab.ndim == 3 else lab
    lab = np.rint(lab).astype(np.int64)
    ok = (lab >= 0) & (lab < num_classes) & (lab != ignore_index)
    out = np.zeros(lab.shape + (3,), np.uint8)
    out[ok] = label_palette(num_classes)[lab[ok]]
    return out


def colorize_depth(depth: np.ndarray, vmin: float | None = None, vmax: float | None = None,
                   colormap: int = cv2.COLORMAP_VIRIDIS) -> np.ndarray:
    """Depth to a perceptual colour map (near = dark); invalid (<= 0 or non-finite) is black."""
    d = np.asarray(depth, np.float64)
    d = d[:, :, 0] if d.ndim == 3 else d
    valid = np.isfinite(d) & (d > 0)
    if vmin is None:
        vmin = float(d[valid].min()) if valid.any() else 0.0
    if vmax is None:
        vmax = float(d[valid].max()) if valid.any() else 1.0
    scaled = np.clip((d - vmin) / max(vmax - vmin, 1e-9), 0, 1)
    scaled = np.where(valid, scaled, 0.0)
    rgb = cv2.cvtColor(cv2.applyColorMap((scaled * 255).astype(np.uint8), colormap), cv2.COLOR_BGR2RGB)
    rgb[~valid] = 0
    return rgb


def colorize_normal(normal: np.ndarray) -> np.ndarray:
    """Unit normals (HxWx3 in [-1,1]) as (n+1)/2 RGB; all-zero (invalid) is black."""
    n = np.asarray(normal, np.float32)
    if n.ndim != 3 or n.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 normal map, got shape {n.shape}")
    invalid = ~np.any(n != 0, axis=2)
    rgb = to_uint8_rgb((n + 1.0) * 0.5)
    rgb[invalid] = 0
    return rgb


def colorize_ids(ids: np.ndarray, seed: int = 0) -> np.ndarray:
    """Instance/region ids to distinct random colours; id 0 is black."""
    a = np.asarray(ids)
    a = a[:, :, 0] if a.ndim == 3 else a
    a = a.astype(np.int64)
    uniq, inv = np.unique(a, return_inverse=True)
    rng = np.random.default_rng(seed)
    hues = (uniq * 0.618034 + rng.random()) % 1.0
    hsv = np.stack([hues * 180, 150 + (uniq * 53) % 106, 140 + (uniq * 29) % 116], 1).astype(np.uint8)
    colors = cv2.cvtColor(hsv[None], cv2.COLOR_HSV2RGB)[0]
    colors[uniq == 0] = 0
    return colors[inv.reshape(a.shape)]


def draw_boundaries(image_rgb: np.ndarray, ids: np.ndarray, color: Sequence[int] = (255, 255, 255)) -> np.ndarray:
    """Copy of the image with pixels whose id differs from the right/lower neighbour painted."""
    out = to_uint8_rgb(image_rgb).copy()
    a = np.asarray(ids)
    a = a[:, :, 0] if a.ndim == 3 else a
    if a.shape != out.shape[:2]:
        raise ValueError(f"ids shape {a.shape} does not match image shape {out.shape[:2]}")
    edge = np.zeros(a.shape, bool)
    edge[:, :-1] |= a[:, :-1] != a[:, 1:]
    edge[:-1, :] |= a[:-1, :] != a[1:, :]
    out[edge] = np.asarray(color, np.uint8)
    return out


def _fit(img: np.ndarray, h: int, w: int) -> np.ndarray:
    """Resize (nearest, keeps label colours crisp) and pad to exactly h x w."""
    img = to_uint8_rgb(img)
    s = min(h / img.shape[0], w / img.shape[1])
    nh, nw = max(1, int(round(img.shape[0] * s))), max(1, int(round(img.shape[1] * s)))
    img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_NEAREST)
    out = np.zeros((h, w, 3), np.uint8)
    out[:nh, :nw] = img
    return out


def make_grid(rows: list[list[np.ndarray]], titles=None, min_cell_width: int = 160, pad: int = 4) -> np.ndarray:
    """Tile pictures row by row; titles: column titles (list of str) or per-cell (list of lists)."""
    if not rows or not any(rows):
        raise ValueError("make_grid needs at least one picture")
    cells = [c for r in rows for c in r]
    h = max(np.asarray(c).shape[0] for c in cells)
    w = max(np.asarray(c).shape[1] for c in cells)
    if w < min_cell_width:
        h, w = int(round(h * min_cell_width / w)), min_cell_width
    ncol = max(len(r) for r in rows)
    per_cell = titles is not None and len(titles) > 0 and not isinstance(titles[0], str)
    font_scale = max(0.35, min(0.8, w / 400))
    th = int(22 * font_scale / 0.5) if titles is not None else 0
    canvas = np.full((len(rows) * (h + th + pad) + pad, ncol * (w + pad) + pad, 3), 30, np.uint8)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            y, x = pad + i * (h + th + pad), pad + j * (w + pad)
            canvas[y + th:y + th + h, x:x + w] = _fit(img, h, w)
            text = None
            if per_cell and i < len(titles) and j < len(titles[i]):
                text = titles[i][j]
            elif titles is not None and not per_cell and j < len(titles):
                text = titles[j]
            if text:
                cv2.putText(canvas, str(text), (x + 2, y + th - 5), cv2.FONT_HERSHEY_SIMPLEX, font_scale,
                            (235, 235, 235), 1, cv2.LINE_AA)
    return canvas
