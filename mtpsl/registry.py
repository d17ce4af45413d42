"""Registries of mtpsl: children of MMEngine's root registries, scope ``mtpsl``.

Each registry names the modules that register into it (``locations``), so a
config finds ``type='MultiTaskModel'`` without any import trick, and classes of
MMSegmentation stay reachable with their scope written out
(``type='mmseg.ResNetV1c'``).
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS,
                   locations=['mtpsl.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=['mtpsl.engine'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS,
                 locations=['mtpsl.engine.hooks'])
LOG_PROCESSORS = Registry('log_processor', parent=MMENGINE_LOG_PROCESSORS,
                          locations=['mtpsl.engine'])

DATASETS = Registry('dataset', parent=MMENGINE_DATASETS,
                    locations=['mtpsl.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMENGINE_DATA_SAMPLERS,
                         locations=['mtpsl.datasets.samplers'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS,
                      locations=['mtpsl.datasets.transforms'])
# Label regimes (which tasks are labelled for which training image) are
# mtpsl's own concept, so this registry has no MMEngine parent.
def _build_label_regime(cfg, registry, default_args=None):
    from mtpsl.datasets.regimes.coverage import build_label_regime
    return build_label_regime(cfg, registry, default_args)


LABEL_REGIMES = Registry('label regime', scope='mtpsl',
                         build_func=_build_label_regime,
                         locations=['mtpsl.datasets.regimes'])

MODELS = Registry('model', parent=MMENGINE_MODELS,
                  locations=['mtpsl.models'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMENGINE_MODEL_WRAPPERS,
                          locations=['mtpsl.engine'])
WEIGHT_INITIALIZERS = Registry('weight initializer',
                               parent=MMENGINE_WEIGHT_INITIALIZERS,
                               locations=['mtpsl.models'])

OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS,
                      locations=['mtpsl.engine'])
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS,
                          locations=['mtpsl.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mtpsl.engine'])
PARAM_SCHEDULERS = Registry('parameter scheduler',
                            parent=MMENGINE_PARAM_SCHEDULERS,
                            locations=['mtpsl.engine'])

METRICS = Registry('metric', parent=MMENGINE_METRICS,
                   locations=['mtpsl.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMENGINE_EVALUATOR,
                     locations=['mtpsl.evaluation'])

VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS,
                       locations=['mtpsl.visualization'])
VISBACKENDS = Registry('vis_backend', parent=MMENGINE_VISBACKENDS,
                       locations=['mtpsl.visualization'])
# Where region maps come from (SAM, superpixels, patches, oracle): mtpsl's own.
REGION_SOURCES = Registry('region source', scope='mtpsl',
                          locations=['mtpsl.regions'])
