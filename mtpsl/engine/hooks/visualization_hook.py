"""Write one picture per test image (``tools/test.py --show-dir``)."""
from __future__ import annotations

import os
import os.path as osp
from typing import Optional

import cv2
import numpy as np
from mmengine.hooks import Hook

from mtpsl.registry import HOOKS
from mtpsl.structures import TASK_SPECS


@HOOKS.register_module()
class MultiTaskVisualizationHook(Hook):
    """After each test iteration, draw image, GT, prediction and error.

    Args:
        out_dir: folder for the PNG files (``<img_id>.png``).
        limit: stop after this many pictures (None: all).
    """

    def __init__(self, out_dir: str, limit: Optional[int] = None) -> None:
        self.out_dir = out_dir
        self.limit = limit
        self._written = 0

    def before_test(self, runner) -> None:
        os.makedirs(self.out_dir, exist_ok=True)
        self._written = 0

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs=None) -> None:
        from mtpsl.visualization import draw_prediction
        num_classes = self._num_classes(runner)
        for inputs, sample in zip(data_batch['inputs'], outputs):
            if self.limit is not None and self._written >= self.limit:
                return
            image = inputs.detach().cpu().float().numpy().transpose(1, 2, 0)
            if image.max() > 1.0:
                image = image / 255.0
            tasks = [k[5:] for k in sample.keys()
                     if k.startswith('pred_') and k[5:] in TASK_SPECS]
            picture = draw_prediction(
                image, {t: sample.pred(t).cpu() for t in tasks},
                {t: (sample.gt(t).cpu() if sample.gt(t) is not None
                     else None) for t in tasks}, num_classes)
            name = str(sample.metainfo.get('img_id', self._written))
            cv2.imwrite(osp.join(self.out_dir, f'{name}.png'),
                        np.ascontiguousarray(picture[..., ::-1]))
            self._written += 1

    @staticmethod
    def _num_classes(runner) -> dict:
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        out = {}
        for task, head in getattr(model, 'heads', {}).items():
            cls = getattr(head, 'cls', None)
            if cls is not None:
                out[task] = cls.out_channels
        return out
