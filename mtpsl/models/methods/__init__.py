from .base import BaseCrossTaskMethod, MethodBundle, ViewBundle
from .ccr import CCR
from .film_mapper import PairFiLMMapper
from .hitts import HiTTsPseudoSupervision
from .region_contrast import RegionContrast
from .toolkit import (consistency_pairs, encode_prediction, encode_target,
                      labelled_unlabelled_pairs, resample_target)
from .ttnet import TaskTransferNet
from .xtasc import XTasC
from .xtc import XTC

__all__ = ['BaseCrossTaskMethod', 'MethodBundle', 'ViewBundle',
           'PairFiLMMapper', 'RegionContrast', 'XTC', 'CCR', 'XTasC',
           'TaskTransferNet', 'HiTTsPseudoSupervision', 'consistency_pairs',
           'encode_prediction', 'encode_target', 'labelled_unlabelled_pairs',
           'resample_target']
