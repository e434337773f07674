"""Rates corrected for the tool's own error: the cross-validated sensitivity and specificity of the
shipped models, the Rogan–Gladen estimator and its interval.

A flag that misses true cases (sensitivity < 1) and fires on some others (specificity < 1) turns a
true prevalence π into an observed rate p = Se·π + (1 − Sp)·(1 − π). Rogan and Gladen (1978) invert
it: π = (p + Sp − 1) / (Se + Sp − 1), clipped to [0, 1]. The interval adds, by the delta method, the
uncertainty of Se and Sp (estimated on a finite number of annotated ads) to that of p, each taken
from its Wilson interval (the MOVER construction of Zou and Donner, 2008), so it is never narrower
than the raw rate's interval divided by Se + Sp − 1.

The correction assumes the sensitivity and specificity measured on the annotated ads hold in the
ads summarised. When the observed rate is below the false-positive rate 1 − Sp the estimate (and
possibly its whole interval) is clipped to 0: a sign that they do not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .metrics import wilson_interval
from .resources import models_dir

if TYPE_CHECKING:
    import pandas as pd

#: The CV figures of a flag behind each corrected metric of :data:`cmclassify.aggregate.METRICS`.
CORRECTED_BY = {
    "cm_share": "is_cm_role",
    **{m: "alchemist" for m in ("alchemist_rate", "alchemist_rate_cm")},
    **{f"alchemist_reason_{r}": f"reason_{r}" for r in "ABCDE"},
    **{f"{flag}_rate{suffix}": flag for flag in ("follower_credential", "hype_title", "discriminatory_requirement")
       for suffix in ("", "_cm")},
}
ERROR_COLUMNS = ("sensitivity", "specificity", "true_positives", "positives", "true_negatives", "negatives")


def tool_error_rates(path: str | Path | None = None, among: str = "all") -> pd.DataFrame:
    """Sensitivity and specificity of the CM role, each flag and each alchemist reason, with their
    counts, from a cross-validation report (default: the shipped ``models/cv_results.json``, made by
    ``cmclassify evaluate --cv 5 --out models/cv_results.json``). One row per flag (index ``flag``).

    ``among="all"``: over every annotated ad; ``"cm"``: over the annotated CM ads only (for rates
    taken over CM ads, where the tool's errors differ)."""
    import pandas as pd

    if among not in ("all", "cm"):
        raise ValueError(f"among must be 'all' or 'cm', not {among!r}")
    source = Path(path or models_dir() / "cv_results.json")
    report = json.loads(source.read_text(encoding="utf-8"))
    if "by_cm_role" not in report or "is_cm_role.specificity" not in report.get("figures", {}):
        raise ValueError(f"{source} holds no sensitivity and specificity counts; make it with "
                         "cmclassify evaluate --cv 5 --out FILE")
    figures = report["figures"] if among == "all" else report["by_cm_role"]["cm"]["figures"]
    rows = {}
    for flag in dict.fromkeys(CORRECTED_BY.values()):
        recall, specificity = figures[f"{flag}.recall"], figures[f"{flag}.specificity"]
        rows[flag] = {"sensitivity": recall["value"], "specificity": specificity["value"],
                      "true_positives": recall["true_positives"], "positives": recall["positives"],
                      "true_negatives": specificity["true_negatives"], "negatives": specificity["negatives"]}
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(ERROR_COLUMNS))
    frame.index.name = "flag"
    return frame.astype({c: "float64" if c in ("sensitivity", "specificity") else "int64" for c in ERROR_COLUMNS})


def rogan_gladen(rate: Any, sensitivity: Any, specificity: Any) -> Any:
    """The prevalence behind an observed ``rate``, clipped to [0, 1]; NaN when Se + Sp <= 1 (the flag
    then says nothing about the truth, and no correction exists)."""
    import numpy as np

    youden = np.asarray(sensitivity, dtype=float) + np.asarray(specificity, dtype=float) - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        value = (np.asarray(rate, dtype=float) + np.asarray(specificity, dtype=float) - 1) / youden
    return np.where(youden > 0, np.clip(value, 0, 1), np.nan)


def corrected_rate(successes: Any, n: Any, true_positives: Any, positives: Any, true_negatives: Any,
                   negatives: Any, confidence: float = 0.95) -> tuple[Any, Any, Any]:
    """Rogan–Gladen prevalence of ``successes / n`` flagged ads and its interval (value, low, high),
    given the validation counts behind sensitivity (``true_positives / positives``) and specificity
    (``true_negatives / negatives``). All clipped to [0, 1]; NaN when n is 0 or Se + Sp <= 1."""
    import numpy as np

    def estimate(k: Any, m: Any) -> tuple[Any, Any, Any]:
        k, m = np.asarray(k, dtype=float), np.asarray(m, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (k / m, *wilson_interval(k, m, confidence))

    p, p_low, p_high = estimate(successes, n)
    se, se_low, se_high = estimate(true_positives, positives)
    sp, sp_low, sp_high = estimate(true_negatives, negatives)
    youden = se + sp - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        value = (p + sp - 1) / youden
        # Partial derivatives of the estimate with respect to p, Se and Sp (delta method).
        slopes = (1 / youden, -value / youden, (1 - value) / youden)
        down = up = 0.0
        for slope, centre, low, high in zip(slopes, (p, se, sp), (p_low, se_low, sp_low), (p_high, se_high, sp_high)):
            # Moving the parameter to the end of its interval that lowers (raises) the estimate.
            down = down + (slope * np.where(slope > 0, centre - low, centre - high)) ** 2
            up = up + (slope * np.where(slope > 0, high - centre, low - centre)) ** 2
    valid = (youden > 0) & np.isfinite(p)
    return tuple(np.where(valid, np.clip(x, 0, 1), np.nan)  # type: ignore[return-value]
                 for x in (value, value - np.sqrt(down), value + np.sqrt(up)))
