"""mtpsl: multi-task dense prediction under partial supervision."""
from .utils.compat import install_mmcv_ops_stub
from .version import __version__

# Before anything imports mmseg.models: with mmcv-lite, mmcv.ops cannot be
# imported, so a pure-Python stand-in is installed (only then).
install_mmcv_ops_stub()

__all__ = ['__version__']
