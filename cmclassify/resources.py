"""Locate the data files and models shipped with the package, and the shared corpus next to a checkout.

``data/`` and ``models/`` are installed as the resource packages
``cmclassify._data`` and ``cmclassify._models`` (an editable install maps them
to the checkout's folders); they are found through ``importlib.resources``.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def data_dir() -> Path:
    """Directory holding lexicons, rules, annotations, training data and sample ads."""
    return Path(str(resources.files("cmclassify._data")))


def models_dir() -> Path:
    """Directory holding the shipped models and their cards."""
    return Path(str(resources.files("cmclassify._models")))


def data_file(relative: str) -> Path:
    return data_dir() / relative


def lexicon_path(name: str) -> Path:
    return data_dir() / "lexicons" / name


def shared_dir() -> Path:
    """``../shared`` beside the checkout (corpus, gold ads, codebook), or ``$CMCLASSIFY_SHARED``."""
    configured = os.environ.get("CMCLASSIFY_SHARED")
    if configured:
        return Path(configured)
    for base in (Path.cwd(), data_dir().parent):
        candidate = base.parent / "shared"
        if candidate.is_dir():
            return candidate
    return Path.cwd().parent / "shared"
