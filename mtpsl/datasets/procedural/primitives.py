"""Scene primitives, scene container and pinhole camera."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .constants import NYU_FOCAL

KINDS = ("plane", "box", "cylinder", "sphere")


@dataclass
class Primitive:
    """One analytic surface; boxes and cylinders may be rotated about the vertical axis."""

    kind: str
    center: np.ndarray  # world position (plane: any point on it)
    size: np.ndarray  # box: half extents; cylinder: (r, half height, r); sphere: (r, r, r)
    class_id: int
    instance_id: int
    material: str
    color: np.ndarray  # base albedo in [0, 1]
    yaw: float = 0.0  # rotation about world +y (radians)
    normal: np.ndarray | None = None  # plane only: unit normal pointing into the room
    tex_seed: float = 0.0  # per-primitive texture variation

    def rotation(self) -> np.ndarray:
        """Local-to-world rotation about +y."""
        return rot_y(self.yaw)

    def corners(self) -> np.ndarray:
        """8 world-space corners of a bounding box of the primitive (not for planes)."""
        signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)
        local = signs * self.size[None, :]
        return local @ self.rotation().T + self.center[None, :]


@dataclass
class Light:
    """Point light (position) or directional light (direction towards the light)."""

    kind: str
    vector: np.ndarray
    intensity: float
    color: np.ndarray


@dataclass
class Scene:
    """A furnished room: primitives, lights and room size (x width, y height, z depth)."""

    primitives: list[Primitive]
    lights: list[Light] = field(default_factory=list)
    ambient: float = 0.35
    room: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass
class Camera:
    """Pinhole camera; R holds camera axes (x right, y down, z forward) as world columns."""

    position: np.ndarray
    R: np.ndarray
    fx: float
    fy: float
    cx: float
    cy: float
    height: int
    width: int

    def intrinsics(self) -> dict[str, float]:
        """fx, fy, cx, cy as plain floats."""
        return dict(fx=float(self.fx), fy=float(self.fy), cx=float(self.cx), cy=float(self.cy))


def rot_y(yaw: float) -> np.ndarray:
    """Rotation matrix about the world +y axis."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def nyu_intrinsics(height: int, width: int) -> tuple[float, float, float, float]:
    """NYUv2-like intrinsics scaled to the resolution; pixel centres are at integer coordinates."""
    f = NYU_FOCAL * width / 640.0
    return f, f, (width - 1) / 2.0, (height - 1) / 2.0


def camera_rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Camera-to-world rotation; pitch > 0 looks down, yaw about world +y, roll about the view axis."""
    up = np.array([0.0, 1.0, 0.0])
    f = np.array([np.sin(yaw) * np.cos(pitch), -np.sin(pitch), np.cos(yaw) * np.cos(pitch)])
    r = np.cross(f, up)
    r /= np.linalg.norm(r)
    d = np.cross(f, r)
    cr, sr = np.cos(roll), np.sin(roll)
    r, d = cr * r + sr * d, -sr * r + cr * d
    return np.stack([r, d, f], axis=1)


def make_camera(position, yaw: float, pitch: float, roll: float, height: int, width: int) -> Camera:
    """Camera at `position` with NYUv2-like intrinsics for the given resolution."""
    fx, fy, cx, cy = nyu_intrinsics(height, width)
    return Camera(np.asarray(position, float), camera_rotation(yaw, pitch, roll), fx, fy, cx, cy, height, width)
