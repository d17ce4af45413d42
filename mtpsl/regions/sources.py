"""Region sources: where the region id map of a training image comes from.

A source is called with the results dict of the pipeline (``img``,
``img_path``, ``img_id``) and returns ``(ids, origin)``: an H x W int64 map
(0 = no region) and the file it was read from (or what it was computed
from), so errors can name it. Sources are chosen in the config by name:
``dict(type='sam', ...)``, ``'superpixels'``, ``'patches'``, ``'oracle'``.
"""
from __future__ import annotations

import os.path as osp
from typing import Optional, Sequence, Tuple

import numpy as np

from mtpsl.registry import REGION_SOURCES

from .io import REGION_SUFFIXES, read_region_map

RegionMap = Tuple[np.ndarray, str]


def sibling_folder(img_path: str, folder: str) -> str:
    """``.../<split>/<folder>`` for an image ``.../<split>/<images>/x``."""
    return osp.join(osp.dirname(osp.dirname(osp.abspath(img_path))), folder)


class RegionSource:
    """Base of the region sources."""

    def __call__(self, results: dict) -> RegionMap:
        """``(H x W int64 ids, origin)`` for the image in ``results``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in vars(self).items()
                         if not k.startswith('_'))
        return f'{type(self).__name__}({args})'


@REGION_SOURCES.register_module(name=['sam', 'SamRegions'])
class SamRegions(RegionSource):
    """Cached region maps made by ``tools/generate_region_maps.py``.

    The map of image ``img_id`` is ``<root>/<img_id>.npy`` (or ``.png``); with
    no ``root``, ``<folder>`` beside the folder holding the image (the tool's
    default output: ``ROOT/train/sam/3.npy`` for ``ROOT/train/image/3.npy``).

    Args:
        root: folder of the maps; None = ``folder`` beside the images.
        folder: name of that sibling folder.
        suffix: ``'.npy'`` or ``'.png'``; None tries both, in that order.
    """

    def __init__(self, root: Optional[str] = None, folder: str = 'sam',
                 suffix: Optional[str] = None) -> None:
        if suffix is not None and suffix not in REGION_SUFFIXES:
            raise ValueError(f'sam regions: suffix must be one of '
                             f'{REGION_SUFFIXES}, got {suffix!r}')
        self.root, self.folder, self.suffix = root, folder, suffix

    def path_candidates(self, results: dict) -> Sequence[str]:
        """Where the map of this image may be, in the order tried."""
        folder = self.root if self.root is not None else sibling_folder(
            results['img_path'], self.folder)
        suffixes = (self.suffix,) if self.suffix else REGION_SUFFIXES
        return [osp.join(folder, f'{results["img_id"]}{s}') for s in suffixes]

    def __call__(self, results: dict) -> RegionMap:
        candidates = self.path_candidates(results)
        for path in candidates:
            if osp.isfile(path):
                return read_region_map(path), path
        raise FileNotFoundError(
            f'SAM region map of image {results["img_path"]} not found (looked '
            f'for {" and ".join(candidates)}); make the maps with '
            'tools/generate_region_maps.py')


def grid_ids(hw: Tuple[int, int], grid: Tuple[int, int]) -> np.ndarray:
    """Ids 1..rows*cols (raster order) of a rows x cols grid over H x W."""
    (h, w), (rows, cols) = hw, grid
    if rows > h or cols > w:
        raise ValueError(f'a {rows}x{cols} grid does not fit a {h}x{w} image')
    row_of = (np.arange(h) * rows) // h
    col_of = (np.arange(w) * cols) // w
    return (row_of[:, None] * cols + col_of[None, :] + 1).astype(np.int64)


@REGION_SOURCES.register_module(name=['patches', 'PatchRegions'])
class PatchRegions(RegionSource):
    """A regular grid of patches: the patch-aware ablation of the paper.

    Give either ``grid=(rows, cols)`` (patches of near-equal size covering
    any image) or ``patch_size=(h, w)`` in pixels (the last row / column is
    smaller when the size does not divide the image).
    """

    def __init__(self, grid: Optional[Sequence[int]] = None,
                 patch_size: Optional[Sequence[int]] = None) -> None:
        if (grid is None) == (patch_size is None):
            raise ValueError('patches regions: give exactly one of grid=(rows, '
                             'cols) or patch_size=(h, w)')
        for name, v in (('grid', grid), ('patch_size', patch_size)):
            if v is not None and (len(v) != 2 or any(int(x) < 1 for x in v)):
                raise ValueError(f'patches regions: {name} must be two '
                                 f'positive integers, got {v!r}')
        self.grid = None if grid is None else tuple(int(x) for x in grid)
        self.patch_size = (None if patch_size is None else
                           tuple(int(x) for x in patch_size))

    def ids_for(self, hw: Tuple[int, int]) -> np.ndarray:
        """The patch map of an H x W image."""
        h, w = hw
        if self.grid is not None:
            return grid_ids(hw, self.grid)
        ph, pw = self.patch_size
        cols = -(-w // pw)
        rows_of = np.arange(h) // ph
        cols_of = np.arange(w) // pw
        return (rows_of[:, None] * cols + cols_of[None, :] + 1).astype(np.int64)

    def __call__(self, results: dict) -> RegionMap:
        return (self.ids_for(results['img'].shape[:2]),
                f'patches of {results["img_path"]}')


@REGION_SOURCES.register_module(name=['oracle', 'OracleRegions'])
class OracleRegions(RegionSource):
    """The procedural dataset's instance map: what a perfect SAM would give.

    Reads ``<folder>/<img_id>.npy`` beside the image folder (``instance`` in
    the procedural layout); ids are kept as the generator wrote them.
    """

    def __init__(self, folder: str = 'instance') -> None:
        self.folder = folder

    def __call__(self, results: dict) -> RegionMap:
        path = osp.join(sibling_folder(results['img_path'], self.folder),
                        f'{results["img_id"]}.npy')
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'oracle region map not found: {path} (the oracle source needs '
                f'the procedural dataset\'s {self.folder}/ maps)')
        return read_region_map(path), path
