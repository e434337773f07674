"""Scores shared by evaluation, training and annotation agreement: matching duties, P/R/F1, label scores."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .vocabulary import LABELS

_WORD = re.compile(r"\w+")


def word_set(text: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(text))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def match_duties(found: list[str], gold: list[str], threshold: float = 0.5) -> list[tuple[int, int]]:
    """One-to-one matches (found index, gold index) with word-set Jaccard >= threshold, best pairs first."""
    found_sets = [word_set(t) for t in found]
    gold_sets = [word_set(t) for t in gold]
    pairs = sorted(((jaccard(f, g), i, j) for i, f in enumerate(found_sets) for j, g in enumerate(gold_sets)),
                   reverse=True)
    used_found: set[int] = set()
    used_gold: set[int] = set()
    matches = []
    for score, i, j in pairs:
        if score < threshold:
            break
        if i not in used_found and j not in used_gold:
            used_found.add(i)
            used_gold.add(j)
            matches.append((i, j))
    return matches


def prf(true_positives: int, n_found: int, n_gold: int) -> dict[str, float]:
    precision = true_positives / n_found if n_found else 0.0
    recall = true_positives / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def prf_intervals(counts: Any, groups: Sequence[Any], n_boot: int = 1000, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Precision, recall and F1 with bootstrap 95 % intervals from per-item counts (rows: true
    positives, found, gold), resampling whole ``groups``; a figure with nothing to divide by is None."""
    import numpy as np

    counts = np.asarray(counts, dtype=float)
    _, group_of = np.unique(np.asarray(groups), return_inverse=True)
    table = np.zeros((group_of.max() + 1, 3))
    np.add.at(table, group_of, counts)
    rng = np.random.default_rng(seed)
    boot = rng.multinomial(len(table), np.full(len(table), 1 / len(table)), size=n_boot) @ table

    def figures(t: Any) -> tuple[Any, Any, Any]:
        with np.errstate(invalid="ignore", divide="ignore"):
            precision, recall = t[..., 0] / t[..., 1], t[..., 0] / t[..., 2]
            return precision, recall, np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0)

    out = {}
    for name, value, spread in zip(("precision", "recall", "f1"), figures(table.sum(0)), figures(boot)):
        finite = np.isfinite(spread).any()
        out[name] = {"value": None if np.isnan(value) else float(value),
                     "low": float(np.nanpercentile(spread, 2.5)) if finite else None,
                     "high": float(np.nanpercentile(spread, 97.5)) if finite else None}
    return out


def decision_intervals(found: Any, gold: Any, groups: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """:func:`prf_intervals` of yes/no decisions: ``found`` and ``gold`` are one boolean per item."""
    import numpy as np

    found, gold = np.asarray(found, dtype=bool), np.asarray(gold, dtype=bool)
    return prf_intervals(np.column_stack([found & gold, found, gold]), groups)


def wilson_interval(successes: Any, n: Any, confidence: float = 0.95) -> tuple[Any, Any]:
    """Wilson score interval of the proportion ``successes / n`` (arrays or numbers); NaN where n is 0.

    Unlike the Wald interval it stays inside [0, 1] and is not empty at 0 or n successes.
    """
    from statistics import NormalDist

    import numpy as np

    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    k, n = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # Exactly 0 (n) successes give exactly 0 (1) as the bound, not a rounding error away from it.
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0, 1))
    high = np.where(k == n, 1.0, np.clip(centre + half, 0, 1))
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def duty_scores(gold_labels: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-label F1 and the confusion matrix (rows gold, columns predicted)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    per_label = f1_score(gold_labels, predicted, labels=list(LABELS), average=None, zero_division=0)
    return {
        "n": len(gold_labels),
        "accuracy": float(accuracy_score(gold_labels, predicted)) if len(gold_labels) else 0.0,
        "macro_f1": float(f1_score(gold_labels, predicted, labels=list(LABELS), average="macro", zero_division=0)),
        "f1": {label: float(f) for label, f in zip(LABELS, per_label)},
        "confusion": {"labels": list(LABELS),
                      "matrix": confusion_matrix(gold_labels, predicted, labels=list(LABELS)).tolist()},
    }
