"""Shared plumbing of the per-task metrics."""
from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

Stats = Union[np.ndarray, Tuple[np.ndarray, ...]]

# The result entry of an image without GT for the task. Not None: MMEngine's
# gather drops None entries, which would shift the positions by which it
# trims the sampler's padding.
NO_GT = 'no-gt'


def _field(sample: Any, key: str) -> Optional[torch.Tensor]:
    """``sample[key]`` as a tensor, for data samples and their dict form."""
    value = sample.get(key) if isinstance(sample, dict) else \
        getattr(sample, key, None)
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get('data')
    elif hasattr(value, 'data') and not isinstance(value, torch.Tensor):
        value = value.data
    return value


def _meta(sample: Any, key: str) -> Any:
    """A metainfo value, for data samples and their dict form."""
    return sample.get(key) if isinstance(sample, dict) else \
        sample.metainfo.get(key)


class TaskMetric(BaseMetric):
    """A metric of one task, accumulating per-image sufficient statistics.

    ``process`` appends one statistics vector per image (so MMEngine's
    gathering across processes, which trims the sampler's padding by image
    count, stays exact); ``compute_metrics`` sums them (int64 counts, float64
    sums).
    """

    task: str = ''

    def __init__(self, task: Optional[str] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None
                 ) -> None:
        if task is not None:
            self.task = task
        super().__init__(collect_device=collect_device,
                         prefix=prefix or self.task)

    def pairs(self, data_samples: Sequence[Any]
              ) -> List[Optional[Tuple[torch.Tensor, torch.Tensor]]]:
        """(prediction, GT) per image, None for an image whose label flags
        say it has no GT for the task (e.g. PASCAL human parts on an image
        without people); errors on any other missing field or on sizes."""
        out: List[Optional[Tuple[torch.Tensor, torch.Tensor]]] = []
        for s in data_samples:
            pred = _field(s, f'pred_{self.task}')
            gt = _field(s, f'gt_{self.task}')
            where = _meta(s, 'img_path') or '?'
            flags = _meta(s, 'label_flags') or {}
            if gt is None and flags.get(self.task, True) is False:
                out.append(None)
                continue
            if pred is None or gt is None:
                raise KeyError(f'{type(self).__name__}: image {where} has no '
                               f'{"prediction" if pred is None else "GT"} '
                               f'for task {self.task!r}')
            if pred.shape[-2:] != gt.shape[-2:]:
                raise ValueError(f'{type(self).__name__}: image {where}: '
                                 f'prediction {tuple(pred.shape)} and GT '
                                 f'{tuple(gt.shape)} differ in size')
            out.append((pred.detach().cpu(), gt.detach().cpu()))
        return out

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Append one statistics vector per image (``NO_GT`` for an image
        without GT for the task: every image must add one entry, as MMEngine's
        gather interleaves the processes' results by position)."""
        for pair in self.pairs(data_samples):
            self.results.append(NO_GT if pair is None else
                                self.image_stats(*pair))

    def image_stats(self, pred: torch.Tensor, gt: torch.Tensor) -> Stats:
        """Sufficient statistics of one image: an int or float vector, or a
        tuple of them (summed part by part)."""
        raise NotImplementedError

    def compute_metrics(self, results: list) -> dict:
        """Metrics from the summed statistics."""
        results = [r for r in results if not isinstance(r, str)]
        if not results:
            raise ValueError(f'{type(self).__name__}({self.task}): no image '
                             'was evaluated')
        if isinstance(results[0], tuple):
            total: Stats = tuple(sum_stats([r[i] for r in results])
                                 for i in range(len(results[0])))
        else:
            total = sum_stats(results)
        return self.metrics_from_stats(total)

    def metrics_from_stats(self, stats: Stats) -> dict:
        raise NotImplementedError


def sum_stats(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Sum of per-image vectors: int64 for integer counts (exact whatever
    the order), float64 otherwise; one running total, no stacked copy."""
    first = np.asarray(arrays[0])
    total = np.zeros(first.shape, np.int64 if first.dtype.kind in 'iub'
                     else np.float64)
    for a in arrays:
        total += a
    return total
