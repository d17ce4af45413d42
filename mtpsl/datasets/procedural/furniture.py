"""Furniture groups built from boxes, cylinders and spheres in an object-local frame (+z = front)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from .constants import BED, BOOKS, CHAIR, FURNITURE, OBJECTS, PAINTING, SOFA, TABLE, TV, WINDOW
from .primitives import rot_y

if TYPE_CHECKING:
    from .scene import SceneBuilder


def hsv_color(h: float, s: float, v: float) -> np.ndarray:
    """HSV (all in [0, 1]) to RGB."""
    k = (np.array([5.0, 3.0, 1.0]) + h * 6.0) % 6.0
    return v - v * s * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)


def wood_color(rng: np.random.Generator) -> np.ndarray:
    """Natural wood tone or (sometimes) white/black lacquer."""
    if rng.random() < 0.2:
        return np.full(3, rng.choice([rng.uniform(0.75, 0.92), rng.uniform(0.08, 0.2)]))
    return np.array([0.55, 0.38, 0.22]) * rng.uniform(0.6, 1.35) + rng.uniform(-0.04, 0.04, 3)


def fabric_color(rng: np.random.Generator) -> np.ndarray:
    """Muted upholstery colour."""
    return hsv_color(rng.random(), rng.uniform(0.1, 0.55), rng.uniform(0.3, 0.85))


def vivid_color(rng: np.random.Generator) -> np.ndarray:
    """Saturated colour for books and small objects."""
    return hsv_color(rng.random(), rng.uniform(0.4, 0.9), rng.uniform(0.35, 0.95))


class Group:
    """One object instance; parts are given in its local frame (origin on the floor, +z = front)."""

    def __init__(self, b: "SceneBuilder", center: np.ndarray, yaw: float, class_id: int):
        self.b, self.origin, self.yaw, self.R = b, np.asarray(center, float), yaw, rot_y(yaw)
        self.class_id, self.inst = class_id, b.new_id()

    def _world(self, c) -> np.ndarray:
        return self.origin + self.R @ np.asarray(c, float)

    def box(self, c, half, material: str, color, class_id: int | None = None, inst: int | None = None) -> None:
        """Box part; class/instance default to the group's."""
        self.b.add("box", self._world(c), half, self.class_id if class_id is None else class_id,
                   self.inst if inst is None else inst, material, color, yaw=self.yaw)

    def cyl(self, c, r: float, hh: float, material: str, color, class_id: int | None = None,
            inst: int | None = None) -> None:
        """Vertical cylinder part centred at c."""
        self.b.add("cylinder", self._world(c), (r, hh, r), self.class_id if class_id is None else class_id,
                   self.inst if inst is None else inst, material, color, yaw=self.yaw)

    def sphere(self, c, r: float, material: str, color, class_id: int | None = None, inst: int | None = None) -> None:
        """Sphere part centred at c."""
        self.b.add("sphere", self._world(c), (r, r, r), self.class_id if class_id is None else class_id,
                   self.inst if inst is None else inst, material, color, yaw=self.yaw)


def legs(g: Group, hw: float, hd: float, h: float, color, inset: float = 0.04, t: float = 0.025) -> None:
    """Four square legs under a rectangle of half size (hw, hd) reaching height h."""
    for sx in (-1, 1):
        for sz in (-1, 1):
            g.box((sx * (hw - inset), h / 2, sz * (hd - inset)), (t, h / 2, t), "wood", color)


def small_object(g: Group, x: float, z: float, y: float, rng: np.random.Generator) -> None:
    """A cup, vase, bowl, ball, box or book stack standing at (x, y, z) in group coordinates."""
    kind = rng.choice(["cup", "vase", "ball", "box", "books", "plant"])
    col, inst = vivid_color(rng), g.b.new_id()
    if kind == "cup":
        g.cyl((x, y + 0.05, z), rng.uniform(0.03, 0.05), 0.05, "plastic", col, OBJECTS, inst)
    elif kind == "vase":
        hh = rng.uniform(0.08, 0.18)
        g.cyl((x, y + hh, z), rng.uniform(0.04, 0.07), hh, "plastic", col, OBJECTS, inst)
    elif kind == "ball":
        r = rng.uniform(0.04, 0.09)
        g.sphere((x, y + r, z), r, "plastic", col, OBJECTS, inst)
    elif kind == "box":
        h = rng.uniform(0.03, 0.12)
        g.box((x, y + h / 2, z), (rng.uniform(0.04, 0.12), h / 2, rng.uniform(0.04, 0.1)), "plastic", col, OBJECTS, inst)
    elif kind == "books":
        yy = y
        for _ in range(int(rng.integers(1, 4))):
            t = rng.uniform(0.015, 0.04)
            g.box((x, yy + t / 2, z), (rng.uniform(0.08, 0.12), t / 2, rng.uniform(0.1, 0.15)), "book",
                  vivid_color(rng), BOOKS, g.b.new_id())
            yy += t
    else:
        g.cyl((x, y + 0.06, z), 0.06, 0.06, "plastic", col * 0.6 + 0.2, OBJECTS, inst)
        g.sphere((x, y + 0.2, z), rng.uniform(0.09, 0.13), "fabric", np.array([0.2, 0.45, 0.15]), OBJECTS, inst)


def scatter(g: Group, hw: float, hd: float, y: float, n: int, z0: float = 0.0) -> None:
    """Put up to n small objects on a horizontal surface of half size (hw, hd) at height y."""
    rng, spots = g.b.rng, []
    for _ in range(n):
        x, z = rng.uniform(-hw + 0.09, hw - 0.09), z0 + rng.uniform(-hd + 0.09, hd - 0.09)
        if all(np.hypot(x - a, z - c) > 0.2 for a, c in spots):
            spots.append((x, z))
            small_object(g, x, z, y, rng)


def build_bed(g: Group, w: float, d: float, h: float) -> None:
    """Frame, mattress, blanket, headboard and pillows."""
    rng, wood = g.b.rng, wood_color(g.b.rng)
    g.box((0, 0.18, 0), (w / 2, 0.18, d / 2), "wood", wood)
    g.box((0, 0.46, 0.02), (w / 2 - 0.03, 0.1, d / 2 - 0.04), "fabric", np.full(3, rng.uniform(0.8, 0.95)))
    g.box((0, 0.575, 0.25), (w / 2 - 0.01, 0.02, d / 2 - 0.28), "fabric", fabric_color(rng))
    g.box((0, h / 2, -d / 2 + 0.04), (w / 2, h / 2, 0.04), "wood", wood)
    for sx in ((-1, 1) if w > 1.2 else (0,)):
        g.box((sx * w / 4, 0.62, -d / 2 + 0.3), (min(0.3, w / 4 - 0.03), 0.06, 0.16), "fabric",
              np.full(3, rng.uniform(0.75, 0.95)), OBJECTS, g.b.new_id())


def build_cabinet(g: Group, w: float, d: float, h: float) -> None:
    """Closed storage furniture (wardrobe, dresser, nightstand) with items on top if low."""
    rng = g.b.rng
    col = wood_color(rng)
    g.box((0, h / 2 + 0.03, 0), (w / 2, h / 2 - 0.03, d / 2), "wood", col)
    g.box((0, 0.03, 0.02), (w / 2 - 0.02, 0.03, d / 2 - 0.02), "wood", col * 0.6)  # plinth
    if h < 1.3:
        scatter(g, w / 2, d / 2, h + 0.03, int(rng.integers(0, 4)))


def build_shelf(g: Group, w: float, d: float, h: float) -> None:
    """Open bookcase: sides, back, boards and rows of books (one instance per book)."""
    rng, col, t = g.b.rng, wood_color(g.b.rng), 0.018
    for sx in (-1, 1):
        g.box((sx * (w / 2 - t), h / 2, 0), (t, h / 2, d / 2), "wood", col)
    g.box((0, h / 2, -d / 2 + 0.01), (w / 2 - 2 * t, h / 2, 0.01), "wood", col * 0.8)
    levels = int(rng.integers(3, 6))
    ys = np.linspace(0.05, h - t, levels + 1)
    for y in ys:
        g.box((0, y, 0), (w / 2 - 2 * t, t, d / 2), "wood", col)
    for y0, y1 in zip(ys[:-1], ys[1:]):
        x, x_end = -w / 2 + 2.5 * t, w / 2 - 2.5 * t - 0.06
        fill_end = x + (x_end - x) * rng.uniform(0.4, 1.0)
        while x < fill_end:
            bw = rng.uniform(0.02, 0.06)
            bh = min(rng.uniform(0.15, 0.32), y1 - y0 - t - 0.03)
            bd = min(rng.uniform(0.14, 0.22), d - 0.04)
            g.box((x + bw / 2, y0 + t + bh / 2, -d / 2 + 0.02 + bd / 2), (bw / 2 - 0.001, bh / 2, bd / 2), "book",
                  vivid_color(rng), BOOKS, g.b.new_id())
            x += bw
        if rng.random() < 0.4 and x_end - x > 0.15:
            small_object(g, (x + x_end) / 2 + 0.03, 0.0, y0 + t, rng)


def build_table(g: Group, w: float, d: float, h: float) -> None:
    """Rectangular or round table with objects on top."""
    rng, col = g.b.rng, wood_color(g.b.rng)
    if rng.random() < 0.25:
        r = min(w, d) / 2
        g.cyl((0, h - 0.02, 0), r, 0.02, "wood", col)
        g.cyl((0, (h - 0.04) / 2, 0), 0.05, (h - 0.04) / 2, "wood", col)
        hw = hd = r * 0.7
    else:
        g.box((0, h - 0.02, 0), (w / 2, 0.02, d / 2), "wood", col)
        legs(g, w / 2, d / 2, h - 0.04, col)
        hw, hd = w / 2, d / 2
    scatter(g, hw, hd, h, int(rng.integers(0, 5)))


def build_chair(g: Group, w: float, d: float, h: float) -> None:
    """Seat, four legs and a backrest (back towards local -z)."""
    rng = g.b.rng
    col = wood_color(rng) if rng.random() < 0.6 else vivid_color(rng)
    seat = 0.45
    g.box((0, seat, 0), (w / 2, 0.025, d / 2), "wood", col)
    legs(g, w / 2, d / 2, seat - 0.025, col, inset=0.03, t=0.018)
    g.box((0, seat + 0.25, -d / 2 + 0.02), (w / 2, 0.22, 0.02), "wood", col)


def build_sofa(g: Group, w: float, d: float, h: float) -> None:
    """Base, seat cushion, back and arms; optional throw pillows."""
    rng, col = g.b.rng, fabric_color(g.b.rng)
    arm = 0.15
    g.box((0, 0.2, 0), (w / 2, 0.2, d / 2), "fabric", col * 0.85)
    g.box((0, 0.45, 0.08), (w / 2 - arm, 0.06, d / 2 - 0.1), "fabric", col)
    g.box((0, 0.6, -d / 2 + 0.1), (w / 2, 0.3, 0.1), "fabric", col)
    for sx in (-1, 1):
        g.box((sx * (w / 2 - arm / 2), 0.5, 0), (arm / 2, 0.12, d / 2), "fabric", col * 0.95)
    if w > 1.4 and rng.random() < 0.6:
        for sx in (-1, 1):
            g.box((sx * (w / 2 - arm - 0.25), 0.68, -d / 2 + 0.28), (0.2, 0.17, 0.06), "fabric",
                  vivid_color(rng), OBJECTS, g.b.new_id())


def build_tv_stand(g: Group, w: float, d: float, h: float) -> None:
    """Low cabinet with a flat TV standing on it."""
    rng = g.b.rng
    g.box((0, h / 2, 0), (w / 2, h / 2, d / 2), "wood", wood_color(rng))
    tw = min(w - 0.1, rng.uniform(0.8, 1.3))
    th = tw * 0.58
    g.box((0, h + 0.03, -0.05), (0.15, 0.03, 0.08), "plastic", np.full(3, 0.1), TV, g.inst_tv)
    g.box((0, h + 0.06 + th / 2, -0.05), (tw / 2, th / 2, 0.03), "screen", np.full(3, 0.05), TV, g.inst_tv)


def build_floor_object(g: Group, w: float, d: float, h: float) -> None:
    """Plant, bin, ball, storage box or floor lamp."""
    rng, col = g.b.rng, vivid_color(g.b.rng)
    kind = rng.choice(["plant", "bin", "ball", "box", "lamp"])
    if kind == "plant":
        g.cyl((0, 0.15, 0), 0.14, 0.15, "plastic", col)
        g.sphere((0, 0.5, 0), rng.uniform(0.2, 0.3), "fabric", np.array([0.18, 0.42, 0.14]))
    elif kind == "bin":
        g.cyl((0, 0.17, 0), 0.14, 0.17, "plastic", col)
    elif kind == "ball":
        g.sphere((0, 0.15, 0), 0.15, "plastic", col)
    elif kind == "box":
        g.box((0, 0.15, 0), (0.2, 0.15, 0.17), "plastic", col)
    else:
        g.cyl((0, 0.02, 0), 0.14, 0.02, "metal", np.full(3, 0.2))
        g.cyl((0, 0.75, 0), 0.015, 0.73, "metal", np.full(3, 0.3))
        g.cyl((0, 1.55, 0), 0.18, 0.13, "fabric", np.full(3, 0.9))


# name -> (class, builder, against_wall, (w range, d range, h range))
ITEMS: dict[str, tuple[int, Callable, bool, tuple]] = {
    "bed": (BED, build_bed, True, ((1.3, 1.9), (1.9, 2.15), (0.9, 1.2))),
    "nightstand": (FURNITURE, build_cabinet, True, ((0.4, 0.55), (0.38, 0.45), (0.45, 0.6))),
    "wardrobe": (FURNITURE, build_cabinet, True, ((0.8, 1.6), (0.55, 0.62), (1.8, 2.2))),
    "dresser": (FURNITURE, build_cabinet, True, ((0.8, 1.4), (0.42, 0.5), (0.75, 1.0))),
    "cabinet": (FURNITURE, build_cabinet, True, ((0.6, 1.4), (0.4, 0.5), (0.7, 1.1))),
    "shelf": (FURNITURE, build_shelf, True, ((0.7, 1.2), (0.28, 0.34), (1.3, 2.0))),
    "chair": (CHAIR, build_chair, False, ((0.42, 0.48), (0.42, 0.48), (0.9, 0.95))),
    "armchair": (SOFA, build_sofa, False, ((0.8, 0.95), (0.8, 0.9), (0.9, 0.9))),
    "sofa": (SOFA, build_sofa, True, ((1.6, 2.4), (0.85, 0.95), (0.9, 0.9))),
    "coffee_table": (TABLE, build_table, False, ((0.8, 1.2), (0.5, 0.7), (0.38, 0.46))),
    "dining_table": (TABLE, build_table, False, ((1.1, 1.8), (0.75, 1.0), (0.72, 0.78))),
    "desk": (TABLE, build_table, True, ((1.0, 1.6), (0.6, 0.72), (0.72, 0.76))),
    "tv_stand": (FURNITURE, build_tv_stand, True, ((1.0, 1.7), (0.38, 0.45), (0.42, 0.6))),
    "floor_object": (OBJECTS, build_floor_object, False, ((0.45, 0.45), (0.45, 0.45), (0.3, 0.3))),
}


def _footprint(c: np.ndarray, w: float, d: float, yaw: float) -> tuple[float, float, float, float]:
    """Axis-aligned floor rectangle around a yawed w x d rectangle."""
    ex = abs(np.cos(yaw)) * w / 2 + abs(np.sin(yaw)) * d / 2
    ez = abs(np.sin(yaw)) * w / 2 + abs(np.cos(yaw)) * d / 2
    return c[0] - ex, c[2] - ez, c[0] + ex, c[2] + ez


def _find_spot(b: "SceneBuilder", w: float, d: float, wall: bool):
    """(center, yaw, footprint, wall index or -1) for a free spot, or None."""
    from .scene import facing_yaw, wall_frame

    rng = b.rng
    W, _, D = b.room
    for _ in range(30):
        if wall:
            k = int(rng.integers(4))
            o, a, n, length = wall_frame(b.room, k)
            if length < w + 0.1:
                continue
            c = o + a * rng.uniform(w / 2 + 0.05, length - w / 2 - 0.05) + n * (d / 2 + 0.02)
            yaw = facing_yaw(n)
        else:
            k = -1
            c = np.array([rng.uniform(0.4, W - 0.4), 0.0, rng.uniform(0.4, D - 0.4)])
            yaw = rng.integers(4) * np.pi / 2 + rng.uniform(-0.3, 0.3)
        fp = _footprint(c, w, d, yaw)
        if b.fits(fp):
            return c, yaw, fp, k
    return None


def place(b: "SceneBuilder", item: str) -> bool:
    """Place one furniture item (dining tables and desks come with chairs); False if no room."""
    class_id, build, wall, ranges = ITEMS[item]
    rng = b.rng
    w, d, h = (float(rng.uniform(*r)) for r in ranges)
    chairs = item in ("dining_table", "desk")
    extra = 1.0 if item == "dining_table" else (0.55 if item == "desk" else 0.0)
    spot = _find_spot(b, w + (extra if item == "dining_table" else 0.0), d + extra, wall)
    if spot is None:
        return False
    c, yaw, fp, k = spot
    b.footprints.append(fp)
    if item == "desk":  # the footprint included room for the chair in front
        c = c - rot_y(yaw) @ np.array([0.0, 0.0, extra / 2])
    g = Group(b, c, yaw, class_id)
    if item == "tv_stand":
        g.inst_tv = b.new_id()
    build(g, w, d, h)
    if chairs:
        _chairs_around(b, g, w, d, item == "desk")
    return True


def _chairs_around(b: "SceneBuilder", table: Group, w: float, d: float, desk: bool) -> None:
    """Chairs facing a table: one in front of a desk, 2-6 around a dining table."""
    rng = b.rng
    seats = [(0.0, d / 2 + 0.3, np.pi)] if desk else []
    if not desk:
        n = int(rng.integers(1, 4))
        xs = np.linspace(-w / 2, w / 2, n + 2)[1:-1]
        seats += [(x, s * (d / 2 + 0.25), 0.0 if s < 0 else np.pi) for x in xs for s in (-1, 1)]
        seats += [(s * (w / 2 + 0.25), 0.0, -s * np.pi / 2) for s in (-1, 1) if rng.random() < 0.5]
    cw, cd = rng.uniform(0.42, 0.48), rng.uniform(0.42, 0.48)
    for x, z, turn in seats:
        if rng.random() < 0.15:
            continue
        pos = table.origin + table.R @ np.array([x, 0.0, z])
        chair = Group(b, pos, table.yaw + turn + rng.uniform(-0.2, 0.2), CHAIR)
        build_chair(chair, cw, cd, 0.9)


def place_wall_item(b: "SceneBuilder", w: float, h: float, yc: float, thick: float, class_id: int,
                    material: str, color) -> bool:
    """Thin box on a free part of a random wall (windows, paintings)."""
    from .scene import facing_yaw, wall_frame

    rng = b.rng
    for _ in range(20):
        k = int(rng.integers(4))
        o, a, n, length = wall_frame(b.room, k)
        if length < w + 0.4:
            continue
        s = rng.uniform(w / 2 + 0.2, length - w / 2 - 0.2)
        if not b.decor_fits(k, s - w / 2, s + w / 2, yc - h / 2, yc + h / 2):
            continue
        c = o + a * s + n * (thick / 2)
        c[1] = yc
        b.add("box", c, (w / 2, h / 2, thick / 2), class_id, b.new_id(), material, color, yaw=facing_yaw(n))
        b.decor.append((k, s - w / 2, s + w / 2, yc - h / 2, yc + h / 2))
        return True
    return False


def place_window(b: "SceneBuilder") -> bool:
    """Window (glass and frame) flush with a wall; its depth is invalid."""
    rng, H = b.rng, b.room[1]
    y0, y1 = rng.uniform(0.7, 1.0), min(H - 0.2, rng.uniform(1.9, 2.4))
    return place_wall_item(b, rng.uniform(0.7, 1.6), y1 - y0, (y0 + y1) / 2, 0.02, WINDOW, "window",
                           np.array([0.75, 0.85, 1.0]))


def place_painting(b: "SceneBuilder") -> bool:
    """Framed picture hanging on a wall."""
    rng = b.rng
    return place_wall_item(b, rng.uniform(0.35, 1.0), rng.uniform(0.3, 0.8), rng.uniform(1.4, 1.8), 0.03,
                           PAINTING, "art", vivid_color(rng))
