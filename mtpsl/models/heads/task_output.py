"""The task-output contract: what every head returns for its task.

A head decodes the shared features into a task feature, classifies it into
raw logits and turns those into the task's activated prediction at input
size. :class:`TaskOutput` carries all of it, with the feature's stride and a
place for extras (bin logits and centres, tokens, a joint stage's maps), so
the model, the cross-task methods and the hooks read one typed record and
never re-infer strides or re-activate logits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Sequence, Union

import torch

Stride = Union[int, float]


def feature_stride(input_size: Sequence[int], feat: torch.Tensor) -> Stride:
    """Input pixels per pixel of ``feat`` along the height (an int when it
    divides exactly, e.g. 8 for a 36-row feature of a 288-row input)."""
    rows = int(feat.shape[-2])
    if rows <= 0:
        raise ValueError(f'feature_stride: a feature with {rows} rows')
    h = int(input_size[0])
    return h // rows if h % rows == 0 else h / rows


@dataclass
class TaskOutput:
    """One task's output for a batch.

    Attributes:
        feat: B x C x h x w decoder feature (after the joint stage, when the
            model has one): what feature-level methods regularise.
        logits: B x K x h' x w' raw classifier output at the head's own
            resolution (class scores; bin scores for a binned head; the
            unnormalised regression for depth and normals).
        pred: B x C x H x W activated prediction at input size (class
            logits for label tasks, metres or inverse depth for depth, unit
            vectors for normals).
        stride: input pixels per pixel of ``feat``.
        extras: anything else the head or the joint stage produced, e.g.
            ``bin_centres`` (K x C) and ``bin_probs`` for a binned head.
    """
    feat: torch.Tensor
    logits: torch.Tensor
    pred: torch.Tensor
    stride: Stride = 1
    extras: Dict[str, torch.Tensor] = field(default_factory=dict)

    def batch_slice(self, images: slice) -> 'TaskOutput':
        """The output of some images of the batch (e.g. one view of a
        joint two-view forward). Extras of 3 or more dims whose first dim
        is the batch are sliced; the others (``bin_centres``) are shared."""
        n = self.pred.shape[0]

        def cut(value):
            if (isinstance(value, torch.Tensor) and value.dim() >= 3
                    and value.shape[0] == n):
                return value[images]
            return value
        return TaskOutput(feat=self.feat[images], logits=self.logits[images],
                          pred=self.pred[images], stride=self.stride,
                          extras={k: cut(v) for k, v in self.extras.items()})
