"""The errors cmclassify raises on purpose; each message names what is wrong and where."""

from __future__ import annotations


class InputError(ValueError):
    """The input as a whole cannot be read (missing file, unknown format, missing text column)."""


class ModelError(RuntimeError):
    """A model file that is missing, altered, of another format version, not a model, or not trusted."""


class RulesError(ValueError):
    """A rules or data file that does not fit its schema."""


class AnnotationError(ValueError):
    """An annotation that does not fit the corpus or the codebook's vocabulary; the message names the ad."""
