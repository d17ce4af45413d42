"""Samplers of mtpsl (partial-label aware batching)."""
from .partial_label_sampler import (BalancedOrder, PartialLabelSampler,
                                    batch_sizes, label_flags_of)

__all__ = ['PartialLabelSampler', 'BalancedOrder', 'batch_sizes',
           'label_flags_of']
