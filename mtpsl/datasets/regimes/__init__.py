"""Label regimes: which tasks are labelled for which training image."""
from .builders import (build_fewshot, build_fractions, build_from_file,
                       build_full, build_onelabel, build_randomlabels)
from .published import (PASCAL_TASKS, PTH_COLUMNS, RestrictedUnpickler,
                        UnsafePickleError, load_pascal_split, load_pth_split,
                        load_published_split, safe_load_pickled_npy)
from .regime import LabelRegime, RegimeError, UnknownImageError, load_regime
from .subset import build_task_subset

__all__ = [
    'LabelRegime', 'RegimeError', 'UnknownImageError', 'load_regime',
    'build_full', 'build_onelabel', 'build_randomlabels', 'build_fewshot',
    'build_fractions', 'build_from_file', 'build_task_subset',
    'load_published_split',
    'load_pth_split', 'load_pascal_split', 'safe_load_pickled_npy',
    'RestrictedUnpickler', 'UnsafePickleError', 'PTH_COLUMNS', 'PASCAL_TASKS',
]
