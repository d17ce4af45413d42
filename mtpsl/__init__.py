"""mtpsl: multi-task dense prediction under partial supervision."""
from .utils.compat import install_mmcv_ops_stub, install_torchvision_guard
from .version import __version__

# Before anything imports mmseg.models: with mmcv-lite, mmcv.ops cannot be
# imported, so a pure-Python stand-in is installed (only then).
install_mmcv_ops_stub()
# Before anything imports torchvision (MMEngine's environment report, SAM):
# where its compiled ops cannot load, a pure-PyTorch nms is registered (only
# then, and only when torchvision is actually imported).
install_torchvision_guard()

__all__ = ['__version__']
