"""One picture per image: the ground truth and the predictions of several
models side by side, one row per task, with a legend per row (class
colours, a depth colour bar in metres, the normal colour code)."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .colorize import colorize_label, colorize_normal, label_palette


def depth_range(maps: Sequence[np.ndarray], low: float = 1.0,
                high: float = 99.0) -> tuple:
    """One colour range for every depth panel of a row: the ``low`` and
    ``high`` percentiles of the valid (finite, positive) values of all of
    them together, the ground truth and the predictions. A range of the
    ground truth alone would clip a prediction that is too deep into one
    colour and hide its structure; the percentiles keep a few stray pixels
    from flattening the rest. ``(0, 1)`` when nothing is valid."""
    values = [np.asarray(m, np.float64).ravel() for m in maps]
    values = np.concatenate(values) if values else np.zeros(0)
    values = values[np.isfinite(values) & (values > 0)]
    if not values.size:
        return 0.0, 1.0
    vmin, vmax = np.percentile(values, [low, high])
    return float(vmin), float(max(vmax, vmin + 1e-6))


def draw_side_by_side(path: str, image: np.ndarray,
                      gts: Mapping[str, np.ndarray],
                      preds: Mapping[str, Mapping[str, np.ndarray]],
                      class_names: Sequence[str],
                      title: str = '') -> None:
    """Write ``path``: row 0 the image; then per task (sem_seg, depth,
    normal) the GT and each model's prediction (``preds = {model name:
    {task: array}}``, arrays as ``inference_model`` returns them)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    tasks = [t for t in ('sem_seg', 'depth', 'normal') if t in gts]
    names = list(preds)
    cols = 1 + len(names)
    fig, axes = plt.subplots(1 + len(tasks), cols, squeeze=False,
                             figsize=(2.6 * cols + 2.2,
                                      2.1 * (1 + len(tasks))))
    axes[0][0].imshow(np.clip(image, 0, 1))
    axes[0][0].set_title('image', fontsize=8)
    for ax in axes.flat:
        ax.axis('off')
    for r, task in enumerate(tasks, start=1):
        panels = [('ground truth', gts[task])] + [
            (name, preds[name][task]) for name in names]
        if task == 'depth':
            vmin, vmax = depth_range([a for _, a in panels])
        for c, (name, arr) in enumerate(panels):
            ax = axes[r][c]
            if task == 'sem_seg':
                ax.imshow(colorize_label(np.asarray(arr).squeeze(),
                                         len(class_names)))
            elif task == 'depth':
                im = ax.imshow(np.asarray(arr, np.float64).squeeze(),
                               cmap='viridis', vmin=vmin, vmax=vmax)
            else:
                ax.imshow(colorize_normal(np.asarray(arr, np.float32)))
            ax.set_title(f'{task}: {name}', fontsize=8)
        legend_ax = axes[r][-1]
        if task == 'sem_seg':
            palette = label_palette(len(class_names)) / 255.0
            present = np.unique(np.concatenate(
                [np.asarray(a).ravel() for _, a in panels]))
            handles = [Patch(color=palette[k], label=class_names[k])
                       for k in present if 0 <= k < len(class_names)]
            legend_ax.legend(handles=handles, loc='center left',
                             bbox_to_anchor=(1.02, 0.5), fontsize=6,
                             frameon=False)
        elif task == 'depth':
            bar = fig.colorbar(im, ax=legend_ax, fraction=0.05, pad=0.04)
            bar.set_label('depth (m)', fontsize=7)
            bar.ax.tick_params(labelsize=6)
        else:
            legend_ax.text(1.05, 0.5, 'RGB = (n + 1) / 2\nred: x (right)\n'
                           'green: y\nblue: z', transform=legend_ax.transAxes,
                           fontsize=6, va='center')
    if title:
        fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)

