"""Segment Anything (SAM) as a region source: the model, its checkpoint and
its automatic mask generator, turned into one region id map per image.

``segment_anything`` (and torchvision, which it imports) are optional: a
missing one is a one-line error naming what to install.
"""
from __future__ import annotations

import hashlib
import os.path as osp
from typing import Any, Dict, Optional

import numpy as np
import torch

from mtpsl.utils.safe_load import load_torch_file

from .deps import import_optional
from .merge import sam_records_to_region_ids

# Width of the image encoder of each released model type: the first
# dimension of ``image_encoder.patch_embed.proj.weight``.
ENCODER_WIDTHS = dict(vit_b=768, vit_l=1024, vit_h=1280)
_PROBE_KEY = 'image_encoder.patch_embed.proj.weight'

# SamAutomaticMaskGenerator's parameters that the tool exposes, with the
# defaults of segment-anything 1.0.
GENERATOR_DEFAULTS: Dict[str, Any] = dict(
    points_per_side=32, points_per_batch=64, pred_iou_thresh=0.88,
    stability_score_thresh=0.95, stability_score_offset=1.0,
    box_nms_thresh=0.7, crop_n_layers=0, crop_nms_thresh=0.7,
    crop_overlap_ratio=512 / 1500, crop_n_points_downscale_factor=1,
    min_mask_region_area=0)


# How SAM's overlapping masks become one id map (mtpsl/regions/merge.py).
MERGE_RULE = 'area desc, predicted_iou desc, index; smaller wins; raster ids'


def checkpoint_fingerprint(path: str) -> dict:
    """Name, size and a hash of the first and last MiB: cheap, and enough to
    tell checkpoints apart in the output folder's record."""
    size = osp.getsize(path)
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        h.update(f.read(1 << 20))
        f.seek(max(0, size - (1 << 20)))
        h.update(f.read())
    return dict(name=osp.basename(path), bytes=size,
                sha256_head_tail=h.hexdigest()[:16])


def sam_meta_record(model_type: str, checkpoint: Optional[str],
                    random_weights: bool, seed: int,
                    generator_cfg: Dict[str, Any], fmt: str) -> dict:
    """What ``regions_meta.json`` records for a folder of SAM maps (the tool
    and the online source write the same, so they can share a folder)."""
    return dict(source='sam', model_type=model_type, merge_rule=MERGE_RULE,
                weights=(f'random(seed={seed})' if random_weights else
                         checkpoint_fingerprint(checkpoint)),
                generator=dict(GENERATOR_DEFAULTS, **generator_cfg),
                format=fmt)


def import_segment_anything():
    """``segment_anything``, or a one-line error saying what to install."""
    return import_optional('segment_anything', 'SAM region maps')


def load_sam_checkpoint(path: str, model_type: str) -> Dict[str, torch.Tensor]:
    """The state dict of a SAM checkpoint, checked against ``model_type``."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'SAM checkpoint not found: {path} (download '
            f'sam_{model_type}_*.pth of the segment-anything release and '
            'pass its path)')
    state = load_torch_file(path, what='SAM checkpoint')  # never trusted
    if isinstance(state, dict) and 'model' in state and \
            isinstance(state['model'], dict):
        state = state['model']
    if not isinstance(state, dict) or _PROBE_KEY not in state:
        raise ValueError(f'{path}: not a SAM checkpoint (no {_PROBE_KEY!r})')
    width = int(state[_PROBE_KEY].shape[0])
    expected = ENCODER_WIDTHS.get(model_type)
    if expected is not None and width != expected:
        guess = [t for t, w in ENCODER_WIDTHS.items() if w == width]
        hint = f'it looks like {guess[0]}' if guess else 'unknown model type'
        raise ValueError(
            f'{path}: checkpoint does not fit --model-type {model_type} '
            f'(image encoder width {width}, {model_type} has {expected}; '
            f'{hint})')
    return state


def build_sam(model_type: str, checkpoint: Optional[str] = None,
              random_weights: bool = False, seed: int = 0,
              device: str = 'cpu') -> torch.nn.Module:
    """A SAM model in eval mode, from a checkpoint or with random weights.

    Random weights (``random_weights=True``, seeded) exercise the code path
    in tests and benchmarks; the maps they give mean nothing.
    """
    sa = import_segment_anything()
    if model_type not in sa.sam_model_registry:
        known = sorted(k for k in sa.sam_model_registry if k != 'default')
        raise ValueError(f'unknown SAM model type {model_type!r}; choose one '
                         f'of {known}')
    if checkpoint is None and not random_weights:
        raise ValueError('a SAM checkpoint is needed (--checkpoint PATH); '
                         '--random-weights only exercises the code path')
    state = None if checkpoint is None else load_sam_checkpoint(checkpoint,
                                                               model_type)
    torch.manual_seed(seed)
    model = sa.sam_model_registry[model_type](checkpoint=None)
    if state is not None:
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as e:
            first = str(e).strip().splitlines()
            raise ValueError(f'{checkpoint}: checkpoint does not fit '
                             f'--model-type {model_type}: '
                             f'{" ".join(first[:3])[:400]}') from None
    return model.to(device).eval()


class SamRegionMapper:
    """Image (H x W x 3 uint8 RGB) -> region id map, with SAM's automatic
    mask generator and the merge rule of :mod:`mtpsl.regions.merge`."""

    def __init__(self, model: torch.nn.Module, **generator_cfg: Any) -> None:
        unknown = set(generator_cfg) - set(GENERATOR_DEFAULTS)
        if unknown:
            raise ValueError(f'unknown SamAutomaticMaskGenerator parameters '
                             f'{sorted(unknown)}; known: '
                             f'{sorted(GENERATOR_DEFAULTS)}')
        self.generator_cfg = dict(GENERATOR_DEFAULTS, **generator_cfg)
        sa = import_segment_anything()
        self.generator = sa.SamAutomaticMaskGenerator(
            model, output_mode='binary_mask', **self.generator_cfg)

    @torch.no_grad()
    def __call__(self, image: np.ndarray) -> np.ndarray:
        """The H x W int64 region map of one image."""
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f'SAM takes H x W x 3 uint8 RGB, got '
                             f'{image.dtype} {image.shape}')
        records = self.generator.generate(image)
        return sam_records_to_region_ids(records, image.shape[:2])
