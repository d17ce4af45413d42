"""The best constant predictor: the floor any trained model must beat.

Fitted on the training split (majority class, mean valid depth, mean valid
normal direction) and scored with the same metrics as a model.
"""
from __future__ import annotations

from typing import Dict, Iterable, List

import numpy as np
import torch
import torch.nn.functional as F

from mtpsl.structures import MultiTaskDataSample, task_spec


def fit_constant_predictor(samples: Iterable[MultiTaskDataSample],
                           num_classes: Dict[str, int]
                           ) -> Dict[str, torch.Tensor]:
    """Per-task constant (C,) fitted on the GT of ``samples``."""
    hist: Dict[str, np.ndarray] = {}
    sums: Dict[str, torch.Tensor] = {}
    counts: Dict[str, int] = {}
    for s in samples:
        for key in s.keys():
            if not key.startswith('gt_'):
                continue
            task, gt = key[3:], s.gt(key[3:])
            if task_spec(task).kind == 'label':
                c = num_classes[task]
                g = gt.reshape(-1)
                g = g[(g >= 0) & (g < c)]
                hist[task] = hist.get(task, np.zeros(c, np.int64)) + \
                    np.bincount(g.numpy(), minlength=c)
            else:
                valid = (gt != 0).any(0)
                sums[task] = sums.get(task, 0) + gt[:, valid].double().sum(1)
                counts[task] = counts.get(task, 0) + int(valid.sum())
    out: Dict[str, torch.Tensor] = {}
    for task, h in hist.items():
        out[task] = torch.tensor([int(h.argmax())])
    for task, s in sums.items():
        mean = s / max(counts[task], 1)
        out[task] = (F.normalize(mean, dim=0) if task == 'normal'
                     else mean).float()
    return out


def constant_predictions(constants: Dict[str, torch.Tensor],
                         samples: List[MultiTaskDataSample]
                         ) -> List[MultiTaskDataSample]:
    """Fill ``pred_<task>`` of each sample with the constant, at GT size."""
    for s in samples:
        for task, value in constants.items():
            gt = s.gt(task)
            if gt is None:
                continue
            h, w = gt.shape[-2:]
            s.set_pred(task, value.view(-1, 1, 1).expand(-1, h, w).clone())
    return samples
