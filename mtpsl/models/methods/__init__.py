from .base import BaseCrossTaskMethod, MethodBundle, ViewBundle
from .film_mapper import PairFiLMMapper
from .toolkit import (encode_prediction, encode_target,
                      labelled_unlabelled_pairs)
from .ttnet import TaskTransferNet
from .xtasc import XTasC
from .xtc import XTC

__all__ = ['BaseCrossTaskMethod', 'MethodBundle', 'ViewBundle',
           'PairFiLMMapper', 'XTC', 'encode_prediction', 'encode_target',
           'labelled_unlabelled_pairs', 'TaskTransferNet', 'XTasC']
