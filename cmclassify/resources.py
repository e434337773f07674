"""Locate the data files and the model shipped with the package.

In a wheel, ``data/`` and ``models/`` are installed as ``cmclassify/_data`` and
``cmclassify/_models``; in a source checkout they sit next to the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _locate(installed: str, checkout: str) -> Path:
    for candidate in (_PACKAGE_DIR / installed, _PACKAGE_DIR.parent / checkout):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cmclassify resources not found: neither {installed!r} nor {checkout!r}")


def data_dir() -> Path:
    """Directory holding lexicons, training data and sample ads."""
    return _locate("_data", "data")


def models_dir() -> Path:
    """Directory holding the shipped model and its cards."""
    return _locate("_models", "models")


def lexicon_path(name: str) -> Path:
    return data_dir() / "lexicons" / name
