"""Per-ad figures from the labelled duties: label shares and orientation (codebook, Unit 2)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .classify import LABELS

ORIENTATIONS = ("marketing_sales", "communication_conversation", "mixed", "undetermined")
ORIENTATION_THRESHOLD = 0.6
SHARE_COLUMNS = tuple(f"share_{label}" for label in LABELS)


def label_shares(labels: Sequence[str]) -> dict[str, float]:
    """Share of the ad's duties carrying each label (0 for an ad without duties)."""
    counts = Counter(labels)
    total = len(labels)
    return {f"share_{label}": (counts[label] / total if total else 0.0) for label in LABELS}


def orientation(labels: Sequence[str]) -> str:
    """The codebook's 60 % rule over the duties on the selling–conversation axis."""
    selling = sum(label == "marketing_sales" for label in labels)
    talking = sum(label == "communication_conversation" for label in labels)
    on_axis = selling + talking
    if not on_axis:
        return "undetermined"
    if selling / on_axis >= ORIENTATION_THRESHOLD:
        return "marketing_sales"
    if talking / on_axis >= ORIENTATION_THRESHOLD:
        return "communication_conversation"
    return "mixed"
