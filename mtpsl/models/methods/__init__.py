from .base import BaseCrossTaskMethod, MethodBundle, ViewBundle
from .film_mapper import PairFiLMMapper
from .toolkit import (consistency_pairs, encode_prediction, encode_target,
                      labelled_unlabelled_pairs)
from .xtc import XTC

__all__ = ['BaseCrossTaskMethod', 'MethodBundle', 'ViewBundle',
           'PairFiLMMapper', 'XTC', 'consistency_pairs', 'encode_prediction',
           'encode_target', 'labelled_unlabelled_pairs']
