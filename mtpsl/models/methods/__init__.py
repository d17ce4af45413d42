from .base import BaseCrossTaskMethod, MethodBundle, ViewBundle
from .film_mapper import PairFiLMMapper
from .hitts import HiTTsPseudoSupervision
from .toolkit import (encode_prediction, encode_target,
                      labelled_unlabelled_pairs)
from .xtc import XTC

__all__ = ['BaseCrossTaskMethod', 'MethodBundle', 'ViewBundle',
           'PairFiLMMapper', 'HiTTsPseudoSupervision', 'XTC',
           'encode_prediction', 'encode_target', 'labelled_unlabelled_pairs']
