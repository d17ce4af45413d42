"""Colour jitter on the image alone; GT maps are never touched."""
from __future__ import annotations

from typing import Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mtpsl.registry import TRANSFORMS


def _range(owner: str, name: str, value: Sequence[float]
           ) -> Tuple[float, float]:
    value = tuple(float(v) for v in value)
    if len(value) != 2 or not 0.0 <= value[0] <= value[1]:
        raise ValueError(f'{owner}: {name} must be (low, high) with '
                         f'0 <= low <= high, got {value!r}')
    return value


@TRANSFORMS.register_module()
class PhotoMetricDistortion(BaseTransform):
    """Brightness, contrast, saturation and hue jitter of a [0, 1] image.

    Each of the four steps happens with probability 0.5; contrast comes
    either first or last among (contrast, saturation, hue), at random. The
    image is clipped to [0, 1] after every step. Ranges (float RGB in
    [0, 1]; the defaults equal MMSegmentation's on 0-255 images, except hue):

    - brightness: add ``b ~ U(-brightness_delta, brightness_delta)``
      (default 32 / 255);
    - contrast: ``(img - mean) * a + mean`` with ``a ~ U(contrast_range)``,
      ``mean`` the mean over all pixels and channels (contrast about this
      image's mean, so a dark image does not get darker);
    - saturation: HSV ``S * a`` with ``a ~ U(saturation_range)``;
    - hue: HSV ``H + d`` (mod 360) with ``d ~ U(-hue_delta, hue_delta)``
      degrees.

    Required Keys: img (H x W x 3 float32 RGB in [0, 1]).

    Modified Keys: img.

    Args:
        brightness_delta: half-width of the brightness shift, in [0, 1].
        contrast_range: (low, high) contrast factor.
        saturation_range: (low, high) saturation factor.
        hue_delta: half-width of the hue shift in degrees, in [0, 180].
    """

    def __init__(self, brightness_delta: float = 32 / 255,
                 contrast_range: Sequence[float] = (0.5, 1.5),
                 saturation_range: Sequence[float] = (0.5, 1.5),
                 hue_delta: float = 18.0) -> None:
        name = type(self).__name__
        if not 0.0 <= brightness_delta <= 1.0:
            raise ValueError(f'{name}: brightness_delta must be in [0, 1] '
                             f'(the image is in [0, 1]), got '
                             f'{brightness_delta!r}')
        if not 0.0 <= hue_delta <= 180.0:
            raise ValueError(f'{name}: hue_delta must be in [0, 180] '
                             f'degrees, got {hue_delta!r}')
        self.brightness_delta = float(brightness_delta)
        self.contrast_range = _range(name, 'contrast_range', contrast_range)
        self.saturation_range = _range(name, 'saturation_range',
                                       saturation_range)
        self.hue_delta = float(hue_delta)

    def _contrast(self, img: np.ndarray) -> np.ndarray:
        if np.random.randint(2):
            alpha = np.random.uniform(*self.contrast_range)
            mean = float(img.mean())
            img = np.clip((img - mean) * alpha + mean, 0.0, 1.0)
        return img

    def transform(self, results: dict) -> dict:
        """Jitter ``results['img']``; the input array is never edited."""
        img = np.asarray(results['img'], dtype=np.float32)
        if np.random.randint(2):
            delta = np.random.uniform(-self.brightness_delta,
                                      self.brightness_delta)
            img = np.clip(img + delta, 0.0, 1.0)
        contrast_first = bool(np.random.randint(2))
        if contrast_first:
            img = self._contrast(img)
        do_sat, do_hue = np.random.randint(2), np.random.randint(2)
        if do_sat or do_hue:
            hsv = cv2.cvtColor(np.ascontiguousarray(img, dtype=np.float32),
                               cv2.COLOR_RGB2HSV)
            if do_sat:
                hsv[..., 1] = np.clip(
                    hsv[..., 1] * np.random.uniform(*self.saturation_range),
                    0.0, 1.0)
            if do_hue:
                hsv[..., 0] = np.mod(
                    hsv[..., 0] + np.random.uniform(-self.hue_delta,
                                                    self.hue_delta), 360.0)
            img = np.clip(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB), 0.0, 1.0)
        if not contrast_first:
            img = self._contrast(img)
        results['img'] = img.astype(np.float32, copy=False)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}('
                f'brightness_delta={self.brightness_delta:.4f}, '
                f'contrast_range={self.contrast_range}, '
                f'saturation_range={self.saturation_range}, '
                f'hue_delta={self.hue_delta})')
