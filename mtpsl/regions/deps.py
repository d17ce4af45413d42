"""Optional packages of the region sources: a one-line error if missing."""
from __future__ import annotations

import importlib
from types import ModuleType

# top-level module -> what to install (pip arguments)
INSTALL = {
    'segment_anything': "pip install 'segment-anything==1.0'",
    'torchvision': "pip install 'torchvision==0.28.0' --no-deps "
                   '(the release paired with torch 2.13.0)',
    'skimage': "pip install 'scikit-image>=0.22'",
}
EXTRA_HINT = "; or all of them: pip install -e '.[sam]'"


class MissingPackageError(ImportError):
    """An optional package a region source needs is not installed."""


def import_optional(module: str, purpose: str) -> ModuleType:
    """Import ``module``; if it or a package it needs is missing, say what
    to install, in one line."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        missing = (e.name or '').split('.')[0]
        if missing not in INSTALL:
            raise
        raise MissingPackageError(
            f'{purpose} needs the package {missing!r}, which is not '
            f'installed: {INSTALL[missing]}{EXTRA_HINT}') from None
