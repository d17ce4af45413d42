from .visualization_hook import MultiTaskVisualizationHook

__all__ = ['MultiTaskVisualizationHook']
from .label_regime_hook import SaveLabelRegimeHook  # noqa: F401,E402
