from .label_regime_hook import SaveLabelRegimeHook
from .visualization_hook import MultiTaskVisualizationHook
from .loss_rampup_hook import LossRampUpHook
from .rank_agreement_hook import RankAgreementHook

__all__ = ['MultiTaskVisualizationHook', 'SaveLabelRegimeHook',
           'LossRampUpHook', 'RankAgreementHook']
