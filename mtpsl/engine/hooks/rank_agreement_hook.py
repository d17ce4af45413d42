"""Check after training that every rank holds the same parameters."""
from __future__ import annotations

import hashlib
import json
import os.path as osp
from typing import Dict

import torch
from mmengine.hooks import Hook

from mtpsl.registry import HOOKS


def tensor_digests(tensors: Dict[str, torch.Tensor]) -> Dict[str, str]:
    """SHA-1 of each tensor's bytes, by name."""
    return {name: hashlib.sha1(
        t.detach().cpu().contiguous().numpy().tobytes()).hexdigest()
        for name, t in tensors.items()}


def parameter_digests(module: torch.nn.Module) -> Dict[str, str]:
    """:func:`tensor_digests` of a model's parameters (DDP unwrapped)."""
    module = getattr(module, 'module', module)
    return tensor_digests(dict(module.named_parameters()))


@HOOKS.register_module()
class RankAgreementHook(Hook):
    """After training, compare every rank's parameters bit for bit.

    DDP averages gradients, so every rank must step to identical parameters
    (buffers such as batch-norm statistics may differ and are not compared,
    except those named by ``buffers``: e.g. a method's bank of the gathered
    policy, which every rank fills alike). Each rank writes
    ``param_digests_rank{r}.json`` to the work dir; a mismatch raises,
    naming the first tensor that differs and the ranks.

    Args:
        buffers: prefixes of the buffer names to compare too (e.g.
            ``('methods.rc.bank.', )``).
    """

    priority = 'VERY_LOW'

    def __init__(self, buffers=()) -> None:
        self.buffers = tuple(buffers)

    def after_train(self, runner) -> None:
        """Write this rank's digests and compare them with every rank's."""
        from mmengine.dist import all_gather_object, get_rank, get_world_size
        digests = parameter_digests(runner.model)
        if self.buffers:
            module = getattr(runner.model, 'module', runner.model)
            chosen = {name: b for name, b in module.named_buffers()
                      if name.startswith(self.buffers)}
            if not chosen:
                raise KeyError(f'RankAgreementHook: no buffer starts with '
                               f'{self.buffers}')
            digests.update(tensor_digests(chosen))
        rank = get_rank()
        path = osp.join(runner.work_dir, f'param_digests_rank{rank}.json')
        with open(path, 'w') as f:
            json.dump(digests, f, indent=1, sort_keys=True)
        if get_world_size() == 1:
            return
        every = all_gather_object(digests)
        for other, theirs in enumerate(every):
            for name, digest in digests.items():
                if theirs.get(name) != digest:
                    raise RuntimeError(
                        f'RankAgreementHook: {name!r} differs '
                        f'between rank {rank} and rank {other} after '
                        'training (DDP ranks diverged)')
        runner.logger.info(f'RankAgreementHook: {len(digests)} tensors '
                           f'identical on {len(every)} ranks')
