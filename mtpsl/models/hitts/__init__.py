"""HiTTs: hierarchical task tokens (Zhang et al.), re-implemented from the
paper (no public code exists); configs/hitts/README.md lists every choice."""
from .attention import (InterTaskAffinity, TokenFeatureAttention, mix_tasks,
                        task_affinity)
from .decoder import HiTTsDecoder
from .fine_grained import FineGrainedTokens, orthogonal_basis, refine_logits
from .joint_stage import HiTTsJointStage
from .global_tokens import GlobalTokenLearning, TokenQuery, feature_mask
from .losses import MaskedAngleLoss, feature_loss
from .multiscale import MultiScaleGlobalTokenLearning

__all__ = ['InterTaskAffinity', 'TokenFeatureAttention', 'mix_tasks',
           'task_affinity', 'HiTTsDecoder', 'FineGrainedTokens',
           'orthogonal_basis', 'refine_logits', 'GlobalTokenLearning',
           'TokenQuery', 'feature_mask', 'feature_loss', 'MaskedAngleLoss',
           'MultiScaleGlobalTokenLearning', 'HiTTsJointStage']
