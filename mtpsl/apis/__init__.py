from .config import ConfigError, load_config

__all__ = ['ConfigError', 'load_config']
