"""Vectorised analytic ray casting of planes, yawed boxes, vertical cylinders and spheres.

Rays are parameterised as X = o + t * R @ (a, b, 1) with a = (u - cx) / fx, b = (v - cy) / fy,
so the hit parameter t *is* the z-depth along the optical axis (not the ray length).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .primitives import Camera, Primitive, Scene

EPS = 1e-6
NEAR = 0.02  # corners closer than this to the image plane disable screen-space culling


@dataclass
class Hits:
    """Per-pixel ray-cast result, flattened to H*W."""

    depth: np.ndarray  # (N,) z-depth, 0 where nothing was hit
    index: np.ndarray  # (N,) primitive index, -1 where nothing was hit
    points: np.ndarray  # (N, 3) world hit points
    normals: np.ndarray  # (N, 3) world unit normals facing the camera
    local: np.ndarray  # (N, 3) hit point in the primitive's local frame
    face: np.ndarray  # (N,) local axis (0, 1, 2) the surface normal is closest to
    groups: list[tuple[int, np.ndarray]]  # (primitive index, flat pixel indices) per hit primitive


class RayBundle:
    """World ray directions of a camera plus cached per-yaw rotated directions."""

    def __init__(self, cam: Camera):
        a = (np.arange(cam.width) - cam.cx) / cam.fx
        b = (np.arange(cam.height) - cam.cy) / cam.fy
        A, B = np.meshgrid(a, b)
        R = cam.R
        self.cam = cam
        self.d = [R[i, 0] * A + R[i, 1] * B + R[i, 2] for i in range(3)]
        self._yaw_cache: dict[float, tuple[np.ndarray, ...]] = {}

    def local(self, yaw: float) -> tuple[np.ndarray, ...]:
        """Directions rotated into a frame with the given yaw, and their reciprocals."""
        key = round(float(yaw), 9)
        if key not in self._yaw_cache:
            c, s = np.cos(yaw), np.sin(yaw)
            dx, dy, dz = self.d
            lx, lz = c * dx - s * dz, s * dx + c * dz
            with np.errstate(divide="ignore"):
                self._yaw_cache[key] = (lx, dy, lz, 1.0 / lx, 1.0 / dy, 1.0 / lz)
        return self._yaw_cache[key]


def screen_block(prim: Primitive, cam: Camera) -> tuple[slice, slice] | None:
    """Pixel rectangle that can contain the primitive (None if off-screen)."""
    H, W = cam.height, cam.width
    if prim.kind == "plane":
        return slice(0, H), slice(0, W)
    pc = (prim.corners() - cam.position[None, :]) @ cam.R  # camera-frame corners
    z = pc[:, 2]
    if np.all(z <= NEAR):
        return None
    if np.any(z <= NEAR):
        return slice(0, H), slice(0, W)
    u = cam.fx * pc[:, 0] / z + cam.cx
    v = cam.fy * pc[:, 1] / z + cam.cy
    u0, u1 = max(int(np.floor(u.min())) - 1, 0), min(int(np.ceil(u.max())) + 2, W)
    v0, v1 = max(int(np.floor(v.min())) - 1, 0), min(int(np.ceil(v.max())) + 2, H)
    if u0 >= u1 or v0 >= v1:
        return None
    return slice(v0, v1), slice(u0, u1)


def intersect_plane(prim: Primitive, o: np.ndarray, d: list[np.ndarray]) -> np.ndarray:
    """Hit parameter of an infinite plane (inf where missed or behind)."""
    n = prim.normal
    denom = n[0] * d[0] + n[1] * d[1] + n[2] * d[2]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = float(np.dot(prim.center - o, n)) / denom
    return np.where(t > EPS, t, np.inf)


def intersect_box(prim: Primitive, o: np.ndarray, dl: tuple[np.ndarray, ...]) -> np.ndarray:
    """Slab test against a yawed box; dl = local directions and reciprocals."""
    ol = prim.rotation().T @ (o - prim.center)
    tmin, tmax = None, None
    with np.errstate(invalid="ignore"):
        for ax in range(3):
            inv = dl[3 + ax]
            t1 = (-prim.size[ax] - ol[ax]) * inv
            t2 = (prim.size[ax] - ol[ax]) * inv
            lo, hi = np.minimum(t1, t2), np.maximum(t1, t2)
            tmin = lo if tmin is None else np.maximum(tmin, lo)
            tmax = hi if tmax is None else np.minimum(tmax, hi)
        hit = (tmin <= tmax) & (tmin > EPS)
    return np.where(hit, tmin, np.inf)


def intersect_cylinder(prim: Primitive, o: np.ndarray, d: list[np.ndarray]) -> np.ndarray:
    """Vertical capped cylinder; the camera is assumed outside its side wall or above/below it."""
    r, hh = prim.size[0], prim.size[1]
    px, pz = o[0] - prim.center[0], o[2] - prim.center[2]
    y0, y1 = prim.center[1] - hh, prim.center[1] + hh
    dx, dy, dz = d
    best = np.full(dx.shape, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = px * px + pz * pz - r * r
        if c > 0:  # outside the infinite cylinder: the near root is the visible side
            a = dx * dx + dz * dz
            b = px * dx + pz * dz
            disc = b * b - a * c
            t = (-b - np.sqrt(np.maximum(disc, 0.0))) / a
            y = o[1] + t * dy
            ok = (disc >= 0) & (t > EPS) & (y >= y0) & (y <= y1)
            best = np.where(ok, t, best)
        cap = y1 if o[1] > y1 else (y0 if o[1] < y0 else None)
        if cap is not None:
            t = (cap - o[1]) / dy
            qx, qz = px + t * dx, pz + t * dz
            ok = (t > EPS) & (qx * qx + qz * qz <= r * r) & (t < best)
            best = np.where(ok, t, best)
    return best


def intersect_sphere(prim: Primitive, o: np.ndarray, d: list[np.ndarray]) -> np.ndarray:
    """Near intersection with a sphere seen from outside."""
    r = prim.size[0]
    oc = o - prim.center
    dx, dy, dz = d
    a = dx * dx + dy * dy + dz * dz
    b = oc[0] * dx + oc[1] * dy + oc[2] * dz
    c = float(oc @ oc) - r * r
    disc = b * b - a * c
    with np.errstate(invalid="ignore"):
        t = (-b - np.sqrt(np.maximum(disc, 0.0))) / a
    return np.where((disc >= 0) & (t > EPS), t, np.inf)


def _hit_depths(prim: Primitive, rays: RayBundle, block: tuple[slice, slice]) -> np.ndarray:
    """Dispatch to the intersection routine on a pixel block."""
    o = rays.cam.position
    if prim.kind == "box":
        return intersect_box(prim, o, tuple(x[block] for x in rays.local(prim.yaw)))
    d = [x[block] for x in rays.d]
    if prim.kind == "plane":
        return intersect_plane(prim, o, d)
    if prim.kind == "cylinder":
        return intersect_cylinder(prim, o, d)
    if prim.kind == "sphere":
        return intersect_sphere(prim, o, d)
    raise ValueError(f"unknown primitive kind {prim.kind!r}")


def _local_normals(prim: Primitive, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outward local normals and face axis for local hit points p (n, 3)."""
    n = np.zeros_like(p)
    if prim.kind == "box":
        face = np.argmax(np.abs(p) - prim.size[None, :], axis=1)
        rows = np.arange(len(p))
        n[rows, face] = np.sign(p[rows, face])
        n[rows, face] = np.where(n[rows, face] == 0, 1.0, n[rows, face])
    elif prim.kind == "cylinder":
        r, hh = prim.size[0], prim.size[1]
        rho = np.hypot(p[:, 0], p[:, 2])
        cap = np.abs(hh - np.abs(p[:, 1])) < np.abs(rho - r)
        safe = np.maximum(rho, 1e-12)
        n[:, 0] = np.where(cap, 0.0, p[:, 0] / safe)
        n[:, 2] = np.where(cap, 0.0, p[:, 2] / safe)
        n[:, 1] = np.where(cap, np.sign(p[:, 1]), 0.0)
        face = np.where(cap, 1, np.where(np.abs(p[:, 0]) > np.abs(p[:, 2]), 0, 2))
    elif prim.kind == "sphere":
        n = p / np.linalg.norm(p, axis=1, keepdims=True)
        face = np.argmax(np.abs(n), axis=1)
    else:
        n[:] = prim.normal[None, :]
        face = np.full(len(p), int(np.argmax(np.abs(prim.normal))))
    return n, face


def cast(scene: Scene, cam: Camera) -> Hits:
    """Nearest hit per pixel, with normals and local coordinates of the hit surface."""
    rays = RayBundle(cam)
    H, W = cam.height, cam.width
    tbest = np.full((H, W), np.inf)
    index = np.full((H, W), -1, np.int32)
    for k, prim in enumerate(scene.primitives):
        block = screen_block(prim, cam)
        if block is None:
            continue
        t = _hit_depths(prim, rays, block)
        tb, ib = tbest[block], index[block]  # views into the full buffers
        closer = t < tb
        tb[closer] = t[closer]
        ib[closer] = k
    return _shade_geometry(scene, cam, rays, tbest.ravel(), index.ravel())


def _shade_geometry(scene: Scene, cam: Camera, rays: RayBundle, t: np.ndarray, index: np.ndarray) -> Hits:
    """Hit points, camera-facing world normals and local coordinates, grouped by primitive."""
    N = t.size
    hit = index >= 0
    depth = np.where(hit, t, 0.0)
    dirs = np.stack([x.ravel() for x in rays.d], axis=1)
    points = cam.position[None, :] + depth[:, None] * dirs
    normals = np.zeros((N, 3))
    local = np.zeros((N, 3))
    face = np.zeros(N, np.int8)
    order = np.argsort(index, kind="stable")
    counts = np.bincount(index + 1, minlength=len(scene.primitives) + 1)
    bounds = np.cumsum(counts)
    groups = []
    for k, prim in enumerate(scene.primitives):
        if counts[k + 1] == 0:
            continue
        pix = order[bounds[k]:bounds[k + 1]]
        Rk = prim.rotation()
        p = (points[pix] - prim.center[None, :]) @ Rk
        n_loc, f = _local_normals(prim, p)
        n = n_loc @ Rk.T
        # Orient towards the camera (matters only for a camera inside a primitive's volume).
        facing = np.einsum("ij,ij->i", n, dirs[pix])
        n[facing > 0] *= -1.0
        normals[pix], local[pix], face[pix] = n, p, f
        groups.append((k, pix))
    return Hits(depth, index, points, normals, local, face, groups)
