"""Procedural indoor scenes with exact multi-task ground truth (NYUv2-style layout)."""

from .constants import CLASS_NAMES, GENERATOR_VERSION, IGNORE_INDEX, MAX_DEPTH, PRESETS, SALIENT_CLASSES
from .primitives import Camera, Primitive, Scene, make_camera, nyu_intrinsics
from .raycast import cast
from .render import render, render_scene, semantic_edges
from .writer import generate_dataset, load_sample

__all__ = [
    "CLASS_NAMES", "GENERATOR_VERSION", "IGNORE_INDEX", "MAX_DEPTH", "PRESETS", "SALIENT_CLASSES",
    "Camera", "Primitive", "Scene", "make_camera", "nyu_intrinsics", "cast", "render", "render_scene",
    "semantic_edges", "generate_dataset", "load_sample",
]
