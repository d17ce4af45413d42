"""Region maps for region-aware methods: SAM, superpixels, patches, oracle.

Each source is registered in ``mtpsl.registry.REGION_SOURCES`` and used by
the ``LoadRegionMap`` transform; ``tools/generate_region_maps.py`` makes the
cached SAM maps. See ``docs/regions.md``.
"""
from .io import read_image_rgb, read_region_map, write_region_map
from .merge import (masks_to_region_ids, num_regions, paint_order,
                    relabel_raster_order, sam_records_to_region_ids)
from .sam_online import OnlineSamRegions
from .sources import (OracleRegions, PatchRegions, RegionSource, SamRegions,
                      grid_ids)
from .superpixels import SuperpixelRegions, compute_superpixels

__all__ = ['masks_to_region_ids', 'sam_records_to_region_ids', 'paint_order',
           'relabel_raster_order', 'num_regions', 'read_region_map',
           'write_region_map', 'read_image_rgb', 'RegionSource', 'SamRegions',
           'PatchRegions', 'OracleRegions', 'SuperpixelRegions',
           'compute_superpixels', 'grid_ids', 'OnlineSamRegions']
