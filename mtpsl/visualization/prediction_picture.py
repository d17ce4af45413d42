"""One picture per image: the input, then GT / prediction / error per task."""
from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np
import torch

from mtpsl.evaluation.metrics.normal import angular_errors
from mtpsl.structures import TASK_NAMES, task_spec
from .colorize import (colorize_depth, colorize_label, colorize_normal,
                       make_grid, to_uint8_rgb)
from .legend import class_legend, colour_bar


def _hwc(t: torch.Tensor) -> np.ndarray:
    """C x H x W tensor -> H x W (C == 1) or H x W x C array."""
    a = t.detach().cpu().numpy()
    return a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)


def _error_map(task: str, pred: torch.Tensor, gt: torch.Tensor,
               vmax: float) -> np.ndarray:
    """Per-pixel error as colours (black = not labelled)."""
    if task_spec(task).kind == 'label':
        valid = gt[0] >= 0
        wrong = (pred[0] != gt[0]) & valid
        out = np.zeros(gt.shape[-2:] + (3,), np.uint8)
        out[valid.numpy()] = (40, 160, 40)  # correct: green
        out[wrong.numpy()] = (220, 40, 40)  # wrong: red
        return out
    if task == 'normal':
        err = np.zeros(gt.shape[-2:], np.float32)
        valid = (gt != 0).any(0)
        err[valid.numpy()] = angular_errors(pred, gt).float().numpy()
        # 0..60 degrees on the colour scale; invalid pixels stay black
        err = np.where(valid.numpy(), np.maximum(err, 1e-3), 0.0)
        return colorize_depth(err, vmin=0.0, vmax=60.0)
    err = (pred - gt).abs()[0].numpy()
    valid = (gt != 0).any(0).numpy()
    return colorize_depth(np.where(valid, np.maximum(err, 1e-6), 0.0),
                          vmin=0.0, vmax=vmax)


def draw_prediction(image: np.ndarray, preds: Dict[str, torch.Tensor],
                    gts: Dict[str, Optional[torch.Tensor]],
                    num_classes: Dict[str, int]) -> np.ndarray:
    """Grid: row 0 the image; one row per task with GT, prediction, error.

    Depth GT and prediction share one colour scale; label errors are green
    (right) / red (wrong); normal errors map 0..60 degrees.
    """
    rows: List[List[np.ndarray]] = [[to_uint8_rgb(image)]]
    titles: List[List[str]] = [['image']]
    height = int(image.shape[0])
    # a fixed row order (the canonical task order), whatever the dict order
    for task in sorted(preds, key=lambda t: (
            TASK_NAMES.index(t) if t in TASK_NAMES else len(TASK_NAMES), t)):
        pred = preds[task]
        gt = gts.get(task)
        unit = 'm' if task == 'depth' else ''
        if task_spec(task).kind == 'label':
            def draw(t):
                return colorize_label(_hwc(t), num_classes.get(task, 2))
            key = [class_legend(num_classes.get(task, 2), height=height)]
            key_names = ['classes']
        elif task == 'normal':
            def draw(t):
                return colorize_normal(_hwc(t))
            key, key_names = [], []
        else:
            vmax = float(max(pred.max(), gt.max() if gt is not None else 0))
            def draw(t, vmax=vmax):
                return colorize_depth(_hwc(t), vmin=0.0, vmax=vmax)
            key = [colour_bar(0.0, vmax, f'{task} {unit}'.strip(), height)]
            key_names = [f'{task} scale']
        row = [draw(pred)]
        names = [f'{task} pred']
        if gt is not None:
            scale = float(gt[gt != 0].abs().max()) if bool((gt != 0).any()) \
                else 1.0
            row = [draw(gt)] + row + [_error_map(task, pred, gt, scale / 4)]
            names = [f'{task} GT'] + names + [f'{task} error']
            if task_spec(task).kind != 'label':
                err_max, err_unit = ((60.0, 'deg') if task == 'normal' else
                                     (scale / 4, unit))
                key.append(colour_bar(0.0, err_max, f'err {err_unit}'.strip(),
                                      height))
                key_names.append(f'{task} error scale')
        rows.append(row + key)
        titles.append(names + key_names)
    return make_grid(rows, titles=titles)
