from .base import BaseCrossTaskMethod, MethodBundle, ViewBundle
from .film_mapper import PairFiLMMapper
<<<<<<< HEAD
from .region_contrast import RegionContrast
from .toolkit import (encode_prediction, encode_target,
=======
from .toolkit import (consistency_pairs, encode_prediction, encode_target,
>>>>>>> xtcfid
                      labelled_unlabelled_pairs)
from .xtc import XTC

__all__ = ['BaseCrossTaskMethod', 'MethodBundle', 'ViewBundle',
<<<<<<< HEAD
           'PairFiLMMapper', 'RegionContrast', 'XTC', 'encode_prediction',
=======
           'PairFiLMMapper', 'XTC', 'consistency_pairs', 'encode_prediction',
>>>>>>> xtcfid
           'encode_target', 'labelled_unlabelled_pairs']
