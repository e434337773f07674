"""Saving and loading models: a joblib file beside a JSON card that records its sha256 and format version.

The objects saved are instances of the public classes in :mod:`cmclassify.estimators`.
Model files are pickles, which can run code when loaded: only the models shipped
in the package load without ``trusted=True``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ModelError
from .resources import models_dir

LABEL_MODEL = "duty_classifier"
"""The duty label model (:class:`cmclassify.estimators.DutyClassifier`)."""
EXTRACTION_MODEL = "duty_extraction"
"""The duty extraction model (:class:`cmclassify.estimators.DutyCandidateClassifier`)."""
FINDINGS_MODEL = "finding_detector"
"""The sentence detector of findings (:class:`cmclassify.estimators.SentenceDetector`)."""
FUNCTIONS_MODEL = "function_tagger"
"""The function tagger of reason B (:class:`cmclassify.estimators.FunctionTagger`)."""
CM_ROLE_MODEL = "cm_role"
"""The CM-role decision (:class:`cmclassify.estimators.CmRoleClassifier`)."""
MODEL_FILE = f"{LABEL_MODEL}.joblib"
CARD_FILE = f"{LABEL_MODEL}.json"
FORMAT_VERSION = 2
"""The layout of a saved model; bumped when it changes. Version 2: classes in ``cmclassify.estimators``."""


def sha256_of(paths: Iterable[Path]) -> str:
    """One digest over several files (names and contents, in name order)."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    import joblib
    import numpy as np
    import pandas as pd
    import simplemma
    import sklearn
    import spacy

    from . import __version__

    return {"cmclassify": __version__, "scikit-learn": sklearn.__version__, "spacy": spacy.__version__,
            "simplemma": getattr(simplemma, "__version__", "unknown"), "numpy": np.__version__,
            "pandas": pd.__version__, "joblib": joblib.__version__}


def _intern_attribute_names(obj: Any, seen: set[int] | None = None) -> None:
    """Make every attribute name of the objects in ``obj`` the interned string.

    Pickle writes a string once and then refers back to it only when it is the same object; attribute
    names set from computed strings (scikit-learn's ``set_params``) are equal but not identical in
    some processes, so the bytes would differ from run to run without this.
    """
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, (list, tuple)):
        for item in obj:
            _intern_attribute_names(item, seen)
    elif isinstance(obj, dict):
        for item in obj.values():
            _intern_attribute_names(item, seen)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        obj.__dict__ = {sys.intern(k) if isinstance(k, str) else k: v for k, v in obj.__dict__.items()}
        for item in obj.__dict__.values():
            _intern_attribute_names(item, seen)


def save_model(model: Any, out_dir: str | Path, card: dict[str, Any], name: str = LABEL_MODEL) -> Path:
    """Write the model as ``<name>.joblib`` and its JSON card ``<name>.json`` (which records the model
    file's sha256 and format version)."""
    import joblib

    _intern_attribute_names(model)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / f"{name}.joblib"
    joblib.dump({"format_version": FORMAT_VERSION, "classifier": model}, model_path, compress=3)
    card = {**card, "format_version": FORMAT_VERSION,
            "model_sha256": hashlib.sha256(model_path.read_bytes()).hexdigest()}
    (out / f"{name}.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return model_path


def has_model(model_dir: str | Path | None = None, name: str = LABEL_MODEL) -> bool:
    return (Path(model_dir or models_dir()) / f"{name}.json").exists()


def read_card(model_dir: str | Path | None = None, name: str = LABEL_MODEL) -> dict[str, Any]:
    card_path = Path(model_dir or models_dir()) / f"{name}.json"
    if not card_path.exists():
        raise ModelError(f"no model card at {card_path}; train a model with `cmclassify train -o {card_path.parent}`")
    try:
        return json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{card_path}: unreadable model card: {exc}") from None


def _check_version(version: Any, path: Path, folder: Path) -> None:
    if version == FORMAT_VERSION:
        return
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise ModelError(f"{path} has model format {version}, newer than this cmclassify reads ({FORMAT_VERSION}); "
                         "upgrade cmclassify")
    raise ModelError(f"{path} has model format {version}, older than this cmclassify reads ({FORMAT_VERSION}); "
                     f"retrain it with `cmclassify train -o {folder}`")


def load_model(model_dir: str | Path | None = None, *, trusted: bool = False, expected: type | None = None,
               name: str = LABEL_MODEL) -> Any:
    """Load and verify a saved model.

    Without ``model_dir`` the model shipped with the package is loaded. A model
    from any other folder needs ``trusted=True``: joblib files are pickles and
    can run code when loaded, so only load files you made or trust. Either way
    the file must match the sha256 and format version in its card, and hold an
    instance of ``expected`` (by default a :class:`~cmclassify.DutyClassifier`). ``name`` picks the
    model of the folder (``duty_classifier``, ``duty_extraction``).
    The sha256 catches damaged or replaced files, not a deliberate forgery:
    trust is the user's decision about where the folder came from. (skops, a
    format that needs no pickle trust, was measured and left aside: loading the
    duty model took 2.5 s instead of 0.2 s, and its bytes are not reproducible.)
    """
    if model_dir is not None and not trusted:
        raise ModelError(f"refusing to load {model_dir}: model files can run code when loaded; "
                         "pass trusted=True if you made it or trust its source")
    folder = Path(model_dir or models_dir())
    card = read_card(folder, name)
    model_path = folder / f"{name}.joblib"
    if not model_path.exists():
        raise ModelError(f"model file missing: {model_path}")
    _check_version(card.get("format_version"), model_path, folder)
    actual = hashlib.sha256(model_path.read_bytes()).hexdigest()
    if actual != card.get("model_sha256"):
        raise ModelError(f"{model_path} does not match the sha256 in its card (file altered or replaced); refusing to load")
    import joblib

    try:
        payload = joblib.load(model_path)
    except Exception as exc:  # a damaged file fails in zlib, pickle or a class lookup
        raise ModelError(f"{model_path}: cannot be loaded ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict) or "classifier" not in payload:
        raise ModelError(f"{model_path} is not a cmclassify model file")
    _check_version(payload.get("format_version"), model_path, folder)
    model = payload["classifier"]
    if expected is None:
        from .estimators import DutyClassifier

        expected = DutyClassifier
    if not isinstance(model, expected):
        raise ModelError(f"{model_path} holds a {type(model).__name__}, not a {expected.__name__}")
    return model


def load_models(model_dir: str | Path, *, trusted: bool = False) -> Any:
    """Every model a folder holds, as :class:`cmclassify.Models` (a model the folder lacks stays the
    shipped one). Needs ``trusted=True``, as :func:`load_model` does for any folder but the package's."""
    from .estimators import (CmRoleClassifier, DutyCandidateClassifier, DutyClassifier, FunctionTagger, Models,
                             SentenceDetector)

    kinds = {"duty_labels": (LABEL_MODEL, DutyClassifier), "duty_extraction": (EXTRACTION_MODEL, DutyCandidateClassifier),
             "findings": (FINDINGS_MODEL, SentenceDetector), "functions": (FUNCTIONS_MODEL, FunctionTagger),
             "cm_role": (CM_ROLE_MODEL, CmRoleClassifier)}
    found = {field: load_model(model_dir, trusted=trusted, expected=kind, name=name)
             for field, (name, kind) in kinds.items() if has_model(model_dir, name)}
    if not found:
        raise ModelError(f"no cmclassify model in {model_dir}; train one with `cmclassify train -o {model_dir}`")
    return Models(**found)


@lru_cache(maxsize=None)
def shipped_model(name: str, expected: type) -> Any:
    """The model ``name`` shipped with the package (loaded and verified once per process)."""
    return load_model(expected=expected, name=name)


class ShippedModelAttribute:
    """A pipeline component's model: the one set on it, else the shipped model ``name``, loaded on
    first use (so building a pipeline loads nothing until it runs)."""

    def __init__(self, name: str, expected: type):
        self.name, self.expected = name, expected

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.private = f"_{attribute}"

    def __get__(self, component: Any, owner: type | None = None) -> Any:
        if component is None:
            return self
        if getattr(component, self.private, None) is None:
            setattr(component, self.private, shipped_model(self.name, self.expected))
        return getattr(component, self.private)

    def __set__(self, component: Any, model: Any) -> None:
        setattr(component, self.private, model)
