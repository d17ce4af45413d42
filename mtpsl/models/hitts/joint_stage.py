"""HiTTs as the model's joint decoding stage (docs/methods.md, HiTTs).

Between the per-task decoders and the classifiers: it sees every task's
decoder feature ``X_i`` (and the shared features, for the multi-scale
variant) and returns, per task, the token-refined feature ``F_i'`` at the
attention stride (the feature L_f regularises and the tool saves) and, as
extras, ``logits`` = G_i' of Eq. (4) (which replace the head's 1x1
classifier; the head still activates them, e.g. as soft-weighted bin centres
for a binned head), ``token`` (theta_i'), ``mask`` (M^f) and ``coarse``
(G_i, before the fine-grained tokens). It takes part in prediction.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence, Tuple

import torch

from mtpsl.registry import MODELS

from ..joint.base import BaseJointStage, Extras, Features
from .decoder import HiTTsDecoder
from .multiscale import MultiScaleGlobalTokenLearning


@MODELS.register_module()
class HiTTsJointStage(BaseJointStage):
    """Hierarchical task tokens over every task's decoder feature.

    Args:
        tasks: the model's tasks (the model passes them).
        num_bins: ``{task: C_p}``: classes of a label task, bins of a binned
            head, or the raw channels of a plain regression head (1 depth,
            3 normal).
        channels: channels of the decoder features (C).
        stride, attn_channels, heads, mlp_ratio: the global stage (see
            :class:`~mtpsl.models.hitts.GlobalTokenLearning`).
        use_tokens, inter, intra, fine_grained, orthogonal: Table 5's
            ablations (all True: HiTTs).
        basis: the orthogonal basis, ``'identity'`` or ``'random'``.
        multi_scale: None, or ``dict(in_channels=..., in_index=...)`` of the
            shared scales (supplement A.2, ResNet-18 + ASPP).
    """

    def __init__(self, tasks: Sequence[str], num_bins: Mapping[str, int],
                 channels: int, stride: int = 4, attn_channels: int = 38,
                 heads: int = 2, mlp_ratio: float = 7.0,
                 use_tokens: bool = True, inter: bool = True,
                 intra: bool = True, fine_grained: bool = True,
                 orthogonal: bool = True, basis: str = 'identity',
                 multi_scale: Optional[dict] = None, init_cfg=None) -> None:
        super().__init__(tasks, init_cfg=init_cfg)
        global_cfg = dict(stride=stride, attn_channels=attn_channels,
                          heads=heads, mlp_ratio=mlp_ratio,
                          use_tokens=use_tokens, inter=inter, intra=intra)
        self.decoder = HiTTsDecoder(self.tasks, num_bins, channels,
                                    global_cfg, fine_grained, orthogonal,
                                    basis)
        self.multi_scale = None
        if multi_scale is not None:
            if not use_tokens:
                raise ValueError('HiTTsJointStage: the multi-scale variant '
                                 'needs global tokens (use_tokens=True)')
            self.multi_scale = MultiScaleGlobalTokenLearning(
                self.tasks, channels, stride=stride,
                attn_channels=attn_channels, heads=heads,
                mlp_ratio=mlp_ratio, inter=inter, intra=intra,
                **multi_scale)
            # the single-scale stage is replaced, not run beside it
            del self.decoder.global_tokens
        self.stride = int(stride)

    def joint(self, task_feats: Features,
              shared_feats: Tuple[torch.Tensor, ...],
              input_size: Sequence[int]) -> Tuple[Features, Extras]:
        """``F_i'`` per task, and logits / token / mask as extras."""
        global_out = (self.multi_scale(task_feats, shared_feats)
                      if self.multi_scale is not None else None)
        out = self.decoder(task_feats, global_out)
        feats = {t: o['feat'] for t, o in out.items()}
        extras = {t: dict(logits=o['logits'], coarse=o['coarse'],
                          token=o['token'], mask=o['mask'])
                  for t, o in out.items()}
        return feats, extras
