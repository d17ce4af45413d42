from .formatting import PackMultiTaskInputs
from .loading import LoadMultiTaskNpy, load_npy

__all__ = ['LoadMultiTaskNpy', 'PackMultiTaskInputs', 'load_npy']
