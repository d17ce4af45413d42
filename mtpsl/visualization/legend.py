"""Class legends and colour bars (with units) drawn beside picture rows."""
from __future__ import annotations

from typing import Optional

import cv2
import numpy as np

from .colorize import colorize_depth, label_palette

_FONT = cv2.FONT_HERSHEY_SIMPLEX


def class_legend(num_classes: int, names: Optional[list] = None,
                 height: int = 96, width: int = 140) -> np.ndarray:
    """Swatches of the label palette, one line per class (id and name)."""
    palette = label_palette(num_classes)
    rows = max(num_classes, 1)
    line = max(min(height // rows, 14), 6)
    img = np.full((max(height, line * rows), width, 3), 255, np.uint8)
    for c in range(num_classes):
        y = c * line
        img[y + 1:y + line - 1, 2:line] = palette[c]
        text = f'{c} {names[c]}' if names and c < len(names) else str(c)
        cv2.putText(img, text, (line + 4, y + line - 2), _FONT,
                    0.3, (0, 0, 0), 1, cv2.LINE_AA)
    return img


def colour_bar(vmin: float, vmax: float, unit: str, height: int = 96,
               width: int = 70) -> np.ndarray:
    """A vertical bar of the depth colour map, ``vmax`` at the top, labelled
    with both ends and ``unit``."""
    ramp = np.linspace(vmax, vmin, height, dtype=np.float32)
    ramp = np.maximum(ramp, 1e-6)[:, None].repeat(16, axis=1)
    img = np.full((height, width, 3), 255, np.uint8)
    img[:, :16] = colorize_depth(ramp, vmin=vmin, vmax=vmax)
    for y, value in ((10, vmax), (height - 4, vmin)):
        cv2.putText(img, f'{value:.3g}', (19, y), _FONT, 0.3, (0, 0, 0), 1,
                    cv2.LINE_AA)
    cv2.putText(img, unit, (19, height // 2 + 3), _FONT, 0.3, (0, 0, 0), 1,
                cv2.LINE_AA)
    return img
