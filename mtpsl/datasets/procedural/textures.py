"""Procedural per-material albedo, evaluated on the local hit coordinates of each primitive."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .primitives import Primitive

# For a face whose normal is local axis k, texture coordinates (u, v) are these local axes.
FACE_U = np.array([2, 0, 0])
FACE_V = np.array([1, 2, 1])


def hash2(i: np.ndarray, j: np.ndarray, seed: float) -> np.ndarray:
    """Deterministic pseudo-random value in [0, 1) per integer lattice point."""
    x = np.sin(i * 127.1 + j * 311.7 + seed * 17.13) * 43758.5453
    return x - np.floor(x)


def value_noise(u: np.ndarray, v: np.ndarray, seed: float) -> np.ndarray:
    """Smooth (bilinearly interpolated, smoothstepped) lattice noise in [0, 1]."""
    i, j = np.floor(u), np.floor(v)
    fu, fv = u - i, v - j
    fu, fv = fu * fu * (3 - 2 * fu), fv * fv * (3 - 2 * fv)
    a, b = hash2(i, j, seed), hash2(i + 1, j, seed)
    c, d = hash2(i, j + 1, seed), hash2(i + 1, j + 1, seed)
    return (a + (b - a) * fu) * (1 - fv) + (c + (d - c) * fu) * fv


def fbm(u: np.ndarray, v: np.ndarray, seed: float, scale: float, octaves: int = 2) -> np.ndarray:
    """Sum of noise octaves, roughly in [0, 1]."""
    total, amp, norm = 0.0, 1.0, 0.0
    for o in range(octaves):
        total = total + amp * value_noise(u * scale, v * scale, seed + o)
        norm += amp
        amp, scale = amp * 0.5, scale * 2.0
    return total / norm


def face_uv(prim: Primitive, p: np.ndarray, face: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Face coordinates (u, v) and the face's half sizes along them."""
    rows = np.arange(len(p))
    iu, iv = FACE_U[face], FACE_V[face]
    return p[rows, iu], p[rows, iv], prim.size[iu], prim.size[iv]


def edge_distance(u, v, su, sv) -> np.ndarray:
    """Distance from a face point to the nearest face border (metres)."""
    return np.minimum(su - np.abs(u), sv - np.abs(v))


def tex_paint(prim, p, face, world):
    """Matte wall paint with large soft blotches."""
    u, v, _, _ = face_uv(prim, p, face)
    s = 0.9 + 0.1 * fbm(u, v, prim.tex_seed, 2.0) + 0.03 * (hash2(np.floor(u * 150), np.floor(v * 150), 1.0) - 0.5)
    return prim.color[None, :] * s[:, None]


def tex_planks(prim, p, face, world):
    """Wooden floor planks with gaps, per-plank tint and grain."""
    u, v = p[:, 0], p[:, 2]
    pw = 0.14 + 0.06 * (prim.tex_seed % 1.0)
    row = np.floor(u / pw)
    off = hash2(row, row * 0.0, prim.tex_seed) * 1.3
    col = np.floor((v + off) / 1.3)
    tint = 0.8 + 0.35 * hash2(row, col, prim.tex_seed)
    grain = 0.9 + 0.1 * np.sin(v * 9.0 + 25.0 * u + 5.0 * fbm(u, v, prim.tex_seed, 3.0))
    gap = ((u / pw) % 1.0 < 0.04) | (((v + off) / 1.3) % 1.0 < 0.01)
    s = np.where(gap, 0.45, tint * grain)
    return prim.color[None, :] * s[:, None]


def tex_tiles(prim, p, face, world):
    """Square floor tiles with light grout lines."""
    u, v = p[:, 0], p[:, 2]
    size = 0.3 + 0.3 * (prim.tex_seed % 1.0)
    i, j = np.floor(u / size), np.floor(v / size)
    tint = 0.92 + 0.1 * hash2(i, j, prim.tex_seed)
    grout = ((u / size) % 1.0 < 0.03) | ((v / size) % 1.0 < 0.03)
    alb = prim.color[None, :] * tint[:, None]
    return np.where(grout[:, None], 0.85, alb)


def tex_fabric(prim, p, face, world):
    """Woven fabric: fine cross-hatching plus soft noise."""
    u, v, _, _ = face_uv(prim, p, face)
    weave = np.sin(u * 350.0) * np.sin(v * 350.0)
    s = 0.85 + 0.06 * weave + 0.15 * fbm(u, v, prim.tex_seed, 6.0)
    return prim.color[None, :] * s[:, None]


def tex_wood(prim, p, face, world):
    """Wood grain running along the longer side of each face."""
    u, v, su, sv = face_uv(prim, p, face)
    across = np.where(su >= sv, v, u)
    along = np.where(su >= sv, u, v)
    ring = 0.5 + 0.5 * np.sin(70.0 * across + 3.0 * fbm(along, across, prim.tex_seed, 2.5) * 2 * np.pi)
    s = 0.8 + 0.2 * ring * ring
    return prim.color[None, :] * s[:, None]


def tex_book(prim, p, face, world):
    """Coloured cover with bright bands on the spine and pale page edges."""
    yn = p[:, 1] / prim.size[1]
    band = (np.abs(np.abs(yn) - 0.7) < 0.06) & (face != 1)
    alb = np.where(band[:, None], prim.color[None, :] * 0.4 + 0.5, prim.color[None, :])
    pages = (face == 1) | ((face == 2) & (p[:, 2] < 0))
    return np.where(pages[:, None], np.array([0.92, 0.9, 0.82]), alb)


def tex_window(prim, p, face, world):
    """Bright sky gradient (emissive) with a white frame and one mullion."""
    u, v, su, sv = face_uv(prim, p, face)
    t = np.clip((world[:, 1] - 0.7) / 1.8, 0, 1)[:, None]
    sky = (1 - t) * np.array([0.97, 0.98, 1.0]) + t * np.array([0.55, 0.75, 1.0])
    frame = (edge_distance(u, v, su, sv) < 0.05) | (np.abs(u) < 0.02)
    return np.where(frame[:, None], 0.92, sky)


def tex_art(prim, p, face, world):
    """Random smooth colour pattern framed in dark wood."""
    u, v, su, sv = face_uv(prim, p, face)
    r = np.random.default_rng(int(prim.tex_seed * 1000))
    fr, ph = r.uniform(3, 15, (3, 2)), r.uniform(0, 2 * np.pi, 3)
    art = np.stack([0.5 + 0.5 * np.sin(fr[c, 0] * u + fr[c, 1] * v + ph[c]) for c in range(3)], 1)
    art = 0.55 * art + 0.45 * prim.color[None, :] * (0.7 + 0.6 * fbm(u, v, prim.tex_seed, 4.0)[:, None])
    frame = (edge_distance(u, v, su, sv) < 0.035) | (face != 2)
    return np.where(frame[:, None], np.array([0.25, 0.16, 0.09]), np.clip(art, 0, 1))


def tex_screen(prim, p, face, world):
    """Dark TV screen with a faint reflection gradient and a black bezel."""
    u, v, su, sv = face_uv(prim, p, face)
    glow = 0.05 + 0.08 * np.clip((u / su + v / sv) * 0.5 + 0.5, 0, 1)
    bezel = (edge_distance(u, v, su, sv) < 0.025) | (face != 2)
    return np.where(bezel, 0.03, glow)[:, None] * np.array([[0.9, 0.95, 1.0]])


def tex_plastic(prim, p, face, world):
    """Nearly uniform colour with slight mottling."""
    s = 0.93 + 0.07 * fbm(p[:, 0] + p[:, 2], p[:, 1], prim.tex_seed, 10.0)
    return prim.color[None, :] * s[:, None]


MATERIALS: dict[str, Callable] = {
    "paint": tex_paint, "ceiling": tex_paint, "planks": tex_planks, "tiles": tex_tiles,
    "carpet": tex_fabric, "fabric": tex_fabric, "wood": tex_wood, "book": tex_book,
    "window": tex_window, "art": tex_art, "screen": tex_screen, "plastic": tex_plastic,
    "metal": tex_plastic,
}
EMISSIVE = frozenset({"window"})


def albedo(prim: Primitive, p: np.ndarray, face: np.ndarray, world: np.ndarray) -> np.ndarray:
    """Albedo (n, 3) for the pixels of one primitive."""
    try:
        fn = MATERIALS[prim.material]
    except KeyError:
        raise ValueError(f"unknown material {prim.material!r}; known: {sorted(MATERIALS)}") from None
    return fn(prim, p, face, world)
