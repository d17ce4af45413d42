"""Random furnished room layout (world frame: y up, floor at y = 0, room spans [0,W]x[0,H]x[0,D])."""

from __future__ import annotations

import numpy as np

from . import furniture as fu
from .constants import CEILING, FLOOR, WALL
from .primitives import Camera, Light, Primitive, Scene, make_camera

ROOM_TYPES = ("bedroom", "living", "dining", "office")


class SceneBuilder:
    """Accumulates primitives, instance ids, floor footprints and wall-decor rectangles."""

    def __init__(self, rng: np.random.Generator, room: tuple[float, float, float]):
        self.rng = rng
        self.room = room
        self.prims: list[Primitive] = []
        self.next_id = 1
        self.footprints: list[tuple[float, float, float, float]] = []
        self.decor: list[tuple[int, float, float, float, float]] = []

    def new_id(self) -> int:
        """Fresh instance id (ids start at 1; 0 means nothing)."""
        self.next_id += 1
        return self.next_id - 1

    def add(self, kind: str, center, size, class_id: int, inst: int, material: str, color,
            yaw: float = 0.0, normal=None) -> Primitive:
        """Append one primitive in world coordinates."""
        prim = Primitive(kind, np.asarray(center, float), np.asarray(size, float), class_id, inst,
                         material, np.clip(np.asarray(color, float), 0, 1), float(yaw),
                         None if normal is None else np.asarray(normal, float),
                         float(self.rng.uniform(0, 1000)))
        self.prims.append(prim)
        return prim

    def fits(self, box: tuple[float, float, float, float], margin: float = 0.05) -> bool:
        """True if a floor rectangle lies inside the room and overlaps no footprint."""
        x0, z0, x1, z1 = box
        W, _, D = self.room
        if x0 < 0.0 or z0 < 0.0 or x1 > W or z1 > D:
            return False
        return all(x1 + margin <= a0 or a1 + margin <= x0 or z1 + margin <= b0 or b1 + margin <= z0
                   for a0, b0, a1, b1 in self.footprints)

    def decor_fits(self, wall: int, s0: float, s1: float, y0: float, y1: float) -> bool:
        """True if a wall rectangle overlaps no earlier wall decoration on the same wall."""
        return all(w != wall or s1 + 0.1 <= a0 or a1 + 0.1 <= s0 or y1 + 0.1 <= b0 or b1 + 0.1 <= y0
                   for w, a0, a1, b0, b1 in self.decor)


def wall_frame(room: tuple[float, float, float], wall: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(origin, along-wall unit vector, inward normal, length) of wall 0..3."""
    W, _, D = room
    frames = [
        ((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0), W),
        ((W, 0.0, D), (-1.0, 0.0, 0.0), (0.0, 0.0, -1.0), W),
        ((0.0, 0.0, D), (0.0, 0.0, -1.0), (1.0, 0.0, 0.0), D),
        ((W, 0.0, 0.0), (0.0, 0.0, 1.0), (-1.0, 0.0, 0.0), D),
    ]
    o, a, n, length = frames[wall]
    return np.array(o), np.array(a), np.array(n), length


def facing_yaw(direction: np.ndarray) -> float:
    """Yaw that turns local +z into the horizontal direction."""
    return float(np.arctan2(direction[0], direction[2]))


def build_room_shell(b: SceneBuilder) -> None:
    """Floor, ceiling and four walls as inward-facing infinite planes."""
    rng = b.rng
    W, H, D = b.room
    floor_mat = str(rng.choice(["planks", "tiles", "carpet"], p=[0.5, 0.3, 0.2]))
    floor_col = {"planks": fu.wood_color(rng), "tiles": rng.uniform(0.55, 0.85) * np.ones(3) * rng.uniform(0.9, 1.1, 3),
                 "carpet": fu.fabric_color(rng)}[floor_mat]
    b.add("plane", (0, 0, 0), (0, 0, 0), FLOOR, b.new_id(), floor_mat, floor_col, normal=(0, 1, 0))
    b.add("plane", (0, H, 0), (0, 0, 0), CEILING, b.new_id(), "ceiling", rng.uniform(0.85, 0.95) * np.ones(3),
          normal=(0, -1, 0))
    paint = rng.uniform(0.65, 0.92) + rng.uniform(-0.06, 0.06, 3)
    accent = int(rng.integers(0, 8))  # walls 0..3 may get an accent colour
    for wall in range(4):
        o, _, n, _ = wall_frame(b.room, wall)
        col = fu.fabric_color(rng) * 0.6 + 0.35 if wall == accent else paint
        b.add("plane", o, (0, 0, 0), WALL, b.new_id(), "paint", col, normal=n)


def sample_room_type(rng: np.random.Generator) -> str:
    """Room archetype deciding which furniture is placed."""
    return str(rng.choice(ROOM_TYPES, p=[0.3, 0.3, 0.2, 0.2]))


def furnish(b: SceneBuilder, room_type: str) -> None:
    """Place wall decor, furniture groups and loose objects for one room archetype."""
    rng = b.rng
    for _ in range(int(rng.integers(0, 3))):
        fu.place_window(b)
    plan = {
        "bedroom": ["bed", "nightstand", "nightstand", "wardrobe", "shelf", "dresser", "chair"],
        "living": ["sofa", "coffee_table", "tv_stand", "shelf", "shelf", "armchair", "cabinet"],
        "dining": ["dining_table", "cabinet", "shelf", "dresser"],
        "office": ["desk", "shelf", "shelf", "cabinet", "sofa"],
    }[room_type]
    keep = [item for i, item in enumerate(plan) if i < 2 or rng.random() < 0.7]
    for item in keep:
        fu.place(b, item)
    for _ in range(int(rng.integers(0, 3))):
        fu.place_painting(b)
    for _ in range(int(rng.integers(1, 5))):
        fu.place(b, "floor_object")


def add_lights(b: SceneBuilder, scene: Scene) -> None:
    """One ceiling point light and an optional directional (sun) light."""
    rng = b.rng
    W, H, D = b.room
    pos = np.array([W * rng.uniform(0.3, 0.7), H - 0.25, D * rng.uniform(0.3, 0.7)])
    scene.lights.append(Light("point", pos, rng.uniform(0.55, 0.9), np.array([1.0, 0.95, 0.85])))
    if rng.random() < 0.8:
        d = np.array([rng.normal(), rng.uniform(0.6, 1.5), rng.normal()])
        scene.lights.append(Light("directional", d / np.linalg.norm(d), rng.uniform(0.2, 0.45),
                                  np.array([0.9, 0.95, 1.0])))
    scene.ambient = float(rng.uniform(0.22, 0.38))


def sample_camera(b: SceneBuilder, height: int, width: int) -> Camera:
    """Random pose in free floor space, eye height 1.0-1.8 m, looking into the room."""
    rng = b.rng
    W, H, D = b.room
    for attempt in range(200):
        margin = 0.35 if attempt < 150 else 0.1
        x, z = rng.uniform(0.35, W - 0.35), rng.uniform(0.35, D - 0.35)
        if b.fits((x - margin, z - margin, x + margin, z + margin), margin=0.0) or attempt == 199:
            break
    for _ in range(50):
        tx, tz = rng.uniform(0.3, W - 0.3), rng.uniform(0.3, D - 0.3)
        if np.hypot(tx - x, tz - z) > 1.5:
            break
    yaw = np.arctan2(tx - x, tz - z) + rng.uniform(-0.3, 0.3)
    pitch = rng.uniform(-0.05, 0.4)
    roll = float(np.clip(rng.normal(0.0, 0.03), -0.08, 0.08))
    return make_camera((x, rng.uniform(1.0, 1.8), z), yaw, pitch, roll, height, width)


def sample_scene(rng: np.random.Generator, height: int, width: int) -> tuple[Scene, Camera]:
    """Random furnished room and a camera inside it (layout independent of resolution)."""
    room = (float(rng.uniform(3.0, 6.5)), float(rng.uniform(2.4, 3.0)), float(rng.uniform(3.0, 7.0)))
    b = SceneBuilder(rng, room)
    build_room_shell(b)
    furnish(b, sample_room_type(rng))
    scene = Scene(b.prims, room=room)
    add_lights(b, scene)
    cam = sample_camera(b, height, width)
    return scene, cam
