from .backbones import *  # noqa: F401,F403
from .balancers import *  # noqa: F401,F403
from .data_preprocessor import MultiTaskDataPreprocessor
from .heads import *  # noqa: F401,F403
from .joint import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .multitask_model import MultiTaskModel

__all__ = ['MultiTaskDataPreprocessor', 'MultiTaskModel']
from .methods import *  # noqa: F401,F403,E402
from .hitts import *  # noqa: F401,F403,E402
