from .formatting import PackMultiTaskInputs
from .geometric import RandomFlip, RandomScaleCrop, Resize, warp_maps
from .loading import LoadMultiTaskNpy, load_npy
from .photometric import PhotoMetricDistortion
from .two_view import (PackTwoViewInputs, TwoViewTransform, map_pixels,
                       relate_views, view_params)

__all__ = ['LoadMultiTaskNpy', 'PackMultiTaskInputs', 'load_npy',
           'RandomScaleCrop', 'Resize', 'RandomFlip', 'warp_maps',
           'PhotoMetricDistortion', 'TwoViewTransform', 'PackTwoViewInputs',
           'relate_views', 'map_pixels', 'view_params']
from .depth_target import InverseDepth, inverse_depth  # noqa: E402
from .loading_pascal import LoadPascalContext  # noqa: E402
from .regions import LoadRegionMap  # noqa: E402
