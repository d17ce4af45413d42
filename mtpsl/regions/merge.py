"""Merging overlapping class-agnostic masks into one region id map.

The rule (deterministic, documented in ``docs/regions.md``):

1. Order the masks by area, largest first; equal areas by predicted IoU,
   highest first; then by their index in the input list.
2. Paint them in that order onto a map of zeros, each with its own id, so a
   later (smaller) mask overwrites an earlier (larger) one where they
   overlap: the small object on a table keeps its own region, and the table
   keeps the rest. Pixels no mask covers stay 0 (no region).
3. Relabel the ids that survive as 1..K in raster order (row by row, left to
   right) of their first pixel. A mask hidden entirely by smaller ones
   leaves no id behind.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

MAX_REGIONS = np.iinfo(np.uint16).max  # region maps are stored as uint16


def paint_order(areas: Sequence[float],
                scores: Optional[Sequence[float]] = None) -> np.ndarray:
    """Indices of the masks in painting order (step 1 of the rule)."""
    areas = np.asarray(areas, dtype=np.float64)
    scores = (np.zeros_like(areas) if scores is None else
              np.asarray(scores, dtype=np.float64))
    if scores.shape != areas.shape:
        raise ValueError(f'{len(scores)} scores for {len(areas)} masks')
    index = np.arange(len(areas))
    # np.lexsort sorts by the LAST key first.
    return np.lexsort((index, -scores, -areas))


def relabel_raster_order(ids: np.ndarray) -> np.ndarray:
    """Map the nonzero ids to 1..K by raster order of first appearance."""
    ids = np.asarray(ids)
    flat = ids.ravel()
    values, first, inverse = np.unique(flat, return_index=True,
                                       return_inverse=True)
    first = np.where(values == 0, -1, first)  # 0 sorts first, stays 0
    new_id = np.empty(len(values), dtype=np.int64)
    new_id[np.argsort(first, kind='stable')] = np.arange(len(values))
    if not (values == 0).any():
        new_id += 1
    return new_id[inverse.ravel()].reshape(ids.shape)


def masks_to_region_ids(masks: Sequence[np.ndarray],
                        areas: Optional[Sequence[float]] = None,
                        scores: Optional[Sequence[float]] = None,
                        shape: Optional[tuple] = None) -> np.ndarray:
    """Merge boolean H x W masks into an int64 id map (0 = no region).

    ``areas`` default to the masks' pixel counts; ``scores`` (e.g. SAM's
    ``predicted_iou``) break ties of area. ``shape`` is needed only when
    there are no masks.
    """
    masks = [np.asarray(m, dtype=bool) for m in masks]
    if not masks:
        if shape is None:
            raise ValueError('no masks and no shape: cannot size the map')
        return np.zeros(tuple(shape)[:2], dtype=np.int64)
    hw = masks[0].shape
    for i, m in enumerate(masks):
        if m.shape != hw:
            raise ValueError(f'mask {i} has shape {m.shape}, mask 0 {hw}')
    if areas is None:
        areas = [int(m.sum()) for m in masks]
    if len(areas) != len(masks):
        raise ValueError(f'{len(areas)} areas for {len(masks)} masks')
    canvas = np.zeros(hw, dtype=np.int64)
    for i in paint_order(areas, scores):
        canvas[masks[i]] = i + 1
    return relabel_raster_order(canvas)


def sam_records_to_region_ids(records: Sequence[dict],
                              shape: tuple) -> np.ndarray:
    """Merge the output of ``SamAutomaticMaskGenerator.generate``.

    Each record needs ``segmentation`` (binary mask), ``area`` and
    ``predicted_iou``.
    """
    return masks_to_region_ids([r['segmentation'] for r in records],
                               areas=[r['area'] for r in records],
                               scores=[r['predicted_iou'] for r in records],
                               shape=shape)


def num_regions(ids: np.ndarray) -> int:
    """Number of distinct nonzero ids."""
    values = np.unique(np.asarray(ids))
    return int((values != 0).sum())
