"""A DDP wrapper that also works for a model on the CPU (gloo)."""
from __future__ import annotations

from mmengine.model import MMDistributedDataParallel

from mtpsl.registry import MODEL_WRAPPERS
from mtpsl.utils.compat import ddp_device_ids


@MODEL_WRAPPERS.register_module()
class CPUAwareDistributedDataParallel(MMDistributedDataParallel):
    """MMEngine's DDP wrapper, minus ``device_ids`` for a CPU module.

    MMEngine passes ``device_ids=[LOCAL_RANK]``, which DDP refuses for a
    module whose parameters live on the CPU.
    """

    def __init__(self, module, device_ids=None, **kwargs) -> None:
        super().__init__(module=module,
                         device_ids=ddp_device_ids(module, device_ids),
                         **kwargs)
