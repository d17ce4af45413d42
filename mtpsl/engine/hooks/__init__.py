from .label_regime_hook import SaveLabelRegimeHook
from .visualization_hook import MultiTaskVisualizationHook
from .loss_rampup_hook import LossRampUpHook
from .pseudo_label_hook import HiTTsPseudoLabelHook
from .rank_agreement_hook import RankAgreementHook
from .unsupervised_loss_hook import UnsupervisedLossLogHook

__all__ = ['MultiTaskVisualizationHook', 'SaveLabelRegimeHook',
           'LossRampUpHook', 'RankAgreementHook',
           'UnsupervisedLossLogHook', 'HiTTsPseudoLabelHook']
