from .label_regime_hook import SaveLabelRegimeHook
from .visualization_hook import MultiTaskVisualizationHook

__all__ = ['MultiTaskVisualizationHook', 'SaveLabelRegimeHook']
