"""SAM in the training pipeline: the map of an image that has none yet is
computed on the spot and cached in the offline layout.

The paper feeds each training image to SAM alongside the network; the
cached maps of ``tools/generate_region_maps.py`` are the fast way, this
source the way to start training without running the tool first. Maps go
where the tool writes them (``<split>/sam/<img_id>.npy``), with the same
``regions_meta.json``, so the two share a folder; existing maps (``.npy``,
or the release's 8-bit ``<i>.png``, gray value = id) are read as they are.

Safe with several DataLoader workers and ranks at once: every map is
written to a temporary file of its own and renamed into place (atomic on
one file system), so a reader sees no map or a whole one; two processes
computing the same image write the same map (SAM is deterministic) and the
last rename wins.
"""
from __future__ import annotations

import os.path as osp
from typing import Any, Optional

from mtpsl.registry import REGION_SOURCES

from .io import read_image_rgb, read_region_map, write_region_map
from .sam import GENERATOR_DEFAULTS, sam_meta_record
from .sources import RegionMap, SamRegions
from .writer import check_meta


@REGION_SOURCES.register_module(name=['sam_online', 'OnlineSamRegions'])
class OnlineSamRegions(SamRegions):
    """Cached SAM maps; SAM itself for an image without one.

    Args:
        checkpoint: a SAM checkpoint of the segment-anything release.
        model_type: ``'vit_h'``, ``'vit_l'`` or ``'vit_b'``.
        root, folder, suffix: where maps are looked for, as ``sam``.
        write_format: ``'npy'`` or ``'png'`` (16-bit) for new maps.
        device: where SAM runs (``'cpu'``; ``'cuda'`` needs DataLoader
            workers started with ``spawn``, or ``num_workers=0``).
        random_weights, seed: SAM with seeded random weights instead of a
            checkpoint (tests and timings only; the maps mean nothing).
        **generator_cfg: ``SamAutomaticMaskGenerator`` parameters.
    """

    def __init__(self, checkpoint: Optional[str] = None,
                 model_type: str = 'vit_h', root: Optional[str] = None,
                 folder: str = 'sam', suffix: Optional[str] = None,
                 write_format: str = 'npy', device: str = 'cpu',
                 random_weights: bool = False, seed: int = 0,
                 **generator_cfg: Any) -> None:
        super().__init__(root=root, folder=folder, suffix=suffix)
        unknown = sorted(set(generator_cfg) - set(GENERATOR_DEFAULTS))
        if unknown:
            raise ValueError(f'sam_online regions: unknown '
                             f'SamAutomaticMaskGenerator parameters {unknown};'
                             f' known: {sorted(GENERATOR_DEFAULTS)}')
        if write_format not in ('npy', 'png'):
            raise ValueError(f"sam_online regions: write_format must be 'npy'"
                             f" or 'png', got {write_format!r}")
        if random_weights == (checkpoint is not None):
            raise ValueError('sam_online regions: give checkpoint=PATH (or, '
                             'for tests only, random_weights=True)')
        if checkpoint is not None and not osp.isfile(checkpoint):
            raise FileNotFoundError(f'SAM checkpoint not found: {checkpoint}')
        self.checkpoint, self.model_type = checkpoint, model_type
        self.write_format, self.device = write_format, device
        self.random_weights, self.seed = bool(random_weights), int(seed)
        self.generator_cfg = dict(generator_cfg)
        self._mapper = None            # built in the process that needs it
        self._checked = set()          # folders whose record was checked

    def _make_map(self):
        if self._mapper is None:
            from .sam import SamRegionMapper, build_sam
            model = build_sam(self.model_type, self.checkpoint,
                              self.random_weights, self.seed, self.device)
            self._mapper = SamRegionMapper(model, **self.generator_cfg)
        return self._mapper

    def __getstate__(self) -> dict:
        """Workers get the settings, not a built model."""
        state = dict(self.__dict__)
        state['_mapper'] = None
        return state

    def __call__(self, results: dict) -> RegionMap:
        candidates = self.path_candidates(results)
        for path in candidates:
            if osp.isfile(path):
                return read_region_map(path), path
        folder = osp.dirname(candidates[0])
        if folder not in self._checked:
            check_meta(folder, sam_meta_record(
                self.model_type, self.checkpoint, self.random_weights,
                self.seed, self.generator_cfg, self.write_format), False)
            self._checked.add(folder)
        image = read_image_rgb(results['img_path'])
        ids = self._make_map()(image)
        path = osp.join(folder, f'{results["img_id"]}.{self.write_format}')
        write_region_map(path, ids)
        return ids, path
