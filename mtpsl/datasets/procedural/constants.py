"""Class list, presets and fixed conventions of the procedural indoor dataset."""

from __future__ import annotations

GENERATOR_VERSION = "mtpsl-procedural-1.0"

# NYUv2 13-class protocol; index = class id.
CLASS_NAMES: tuple[str, ...] = (
    "bed", "books", "ceiling", "chair", "floor", "furniture", "objects",
    "painting", "sofa", "table", "tv", "wall", "window",
)
(BED, BOOKS, CEILING, CHAIR, FLOOR, FURNITURE, OBJECTS,
 PAINTING, SOFA, TABLE, TV, WALL, WINDOW) = range(13)
IGNORE_INDEX = -1

# Foreground ("salient") classes: movable furniture and objects, not room structure.
SALIENT_CLASSES: tuple[int, ...] = (BED, BOOKS, CHAIR, FURNITURE, OBJECTS, SOFA, TABLE, TV)

PRESETS: dict[str, dict[str, int]] = {
    "nyuv2": dict(height=288, width=384, num_train=795, num_test=654),
    "small": dict(height=96, width=128, num_train=400, num_test=100),
}

MAX_DEPTH = 10.0  # metres; farther surfaces are invalid like a structured-light sensor
NYU_FOCAL = 518.8579  # NYUv2 focal length in pixels at 640x480
SPLIT_CODES = {"train": 0, "test": 1}  # seed stream per split; test images live in val/
