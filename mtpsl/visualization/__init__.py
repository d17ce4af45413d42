from .colorize import (colorize_depth, colorize_ids, colorize_label,
                       colorize_normal, draw_boundaries, make_grid,
                       to_uint8_rgb)
from .prediction_picture import draw_prediction

__all__ = ['colorize_depth', 'colorize_ids', 'colorize_label',
           'colorize_normal', 'draw_boundaries', 'make_grid', 'to_uint8_rgb',
           'draw_prediction']
