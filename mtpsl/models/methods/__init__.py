from .base import BaseCrossTaskMethod, MethodBundle, ViewBundle
from .film_mapper import PairFiLMMapper
from .region_contrast import RegionContrast
from .toolkit import (encode_prediction, encode_target,
                      labelled_unlabelled_pairs)
from .xtc import XTC

__all__ = ['BaseCrossTaskMethod', 'MethodBundle', 'ViewBundle',
           'PairFiLMMapper', 'RegionContrast', 'XTC', 'encode_prediction',
           'encode_target', 'labelled_unlabelled_pairs']
