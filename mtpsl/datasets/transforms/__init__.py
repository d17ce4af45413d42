from .depth_target import InverseDepth, inverse_depth
from .formatting import DeclareFields, PackMultiTaskInputs
from .geometric import RandomFlip, RandomScaleCrop, Resize, warp_maps
from .loading import LoadMultiTaskNpy, load_npy
from .loading_pascal import LoadPascalContext
from .photometric import PhotoMetricDistortion
from .pseudo import LoadPseudoSupervision
from .regions import LoadRegionMap
from .two_view import (PackTwoViewInputs, TwoViewTransform, map_pixels,
                       relate_views, view_params)

__all__ = ['LoadMultiTaskNpy', 'LoadPascalContext', 'LoadRegionMap',
           'PackMultiTaskInputs', 'load_npy', 'InverseDepth', 'inverse_depth',
           'RandomScaleCrop', 'Resize', 'RandomFlip', 'warp_maps',
           'PhotoMetricDistortion', 'TwoViewTransform', 'PackTwoViewInputs',
           'relate_views', 'map_pixels', 'view_params', 'DeclareFields',
           'LoadPseudoSupervision']
