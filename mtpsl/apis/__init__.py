from .config import ConfigError, load_config
from .inference import inference_model, init_model, load_weights, read_image

__all__ = ['ConfigError', 'load_config', 'inference_model', 'init_model',
           'load_weights', 'read_image']
