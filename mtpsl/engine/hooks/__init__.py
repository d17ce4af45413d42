from .label_regime_hook import SaveLabelRegimeHook
from .visualization_hook import MultiTaskVisualizationHook
from .loss_rampup_hook import LossRampUpHook
from .pseudo_label_hook import HiTTsPseudoLabelHook

__all__ = ['MultiTaskVisualizationHook', 'SaveLabelRegimeHook',
           'LossRampUpHook', 'HiTTsPseudoLabelHook']
