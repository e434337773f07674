"""Stage 7, aggregation: corpus summaries of the per-ad results, overall or per group, with n, 95 %
intervals (Wilson for proportions, bootstrap for means), a minimum n, and proportions corrected for
the tool's own error (:mod:`cmclassify.prevalence`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .metrics import wilson_interval
from .prevalence import CORRECTED_BY, corrected_rate, tool_error_rates
from .tables import Tables
from .vocabulary import LABELS, ORIENTATIONS, REASONS

SHARE_COLUMNS = tuple(f"share_{label}" for label in LABELS)


# --- Corpus summary with bootstrap confidence intervals (issue 5) -------------------------------

_REASON_LETTERS = tuple(REASONS)
DATE_COLUMNS = ("date", "fecha", "posted", "published", "published_at", "posted_at")
MISSING_GROUP = "(missing)"
POPULATIONS = {
    "all": "every input ad",
    "ok": "ads analysed (status ok)",
    "cm": "community-manager / social-media ads (status ok and is_cm_role)",
    "cm_with_duties": "CM ads with at least one duty",
}
#: metric name -> (population, description). Counts have no interval; every other metric is a share of
#: its population (a mean of 0/1 values, or of the ads' duty label shares).
METRICS: dict[str, tuple[str, str]] = {
    "n_ads": ("all", "number of ads"),
    "n_ok": ("all", "number of ads analysed (status ok)"),
    "n_cm_ads": ("all", "number of community-manager / social-media ads"),
    "cm_share": ("ok", "share of analysed ads that are CM roles"),
    **{f"orientation_{o}": ("cm", f"share of CM ads whose orientation is {o}") for o in ORIENTATIONS},
    **{f"duty_{s}": ("cm_with_duties", f"mean {s.replace('_', ' ')} of a CM ad's duties") for s in SHARE_COLUMNS},
    "alchemist_rate": ("ok", "share of analysed ads flagged alchemist"),
    "alchemist_rate_cm": ("cm", "share of CM ads flagged alchemist"),
    **{f"alchemist_reason_{letter}": ("cm", f"share of CM ads where reason {letter} ({name}) holds")
       for letter, name in REASONS.items()},
    "follower_credential_rate": ("ok", "share of analysed ads treating followers as a credential"),
    "follower_credential_rate_cm": ("cm", "share of CM ads treating followers as a credential"),
    "hype_title_rate": ("ok", "share of analysed ads with a hype title"),
    "hype_title_rate_cm": ("cm", "share of CM ads with a hype title"),
    "discriminatory_requirement_rate": ("ok", "share of analysed ads with a discriminatory requirement"),
    "discriminatory_requirement_rate_cm": ("cm", "share of CM ads with a discriminatory requirement"),
}
COUNT_METRICS = ("n_ads", "n_ok", "n_cm_ads")
#: Means of the ads' duty label shares (bootstrap intervals); every other non-count metric is a proportion.
MEAN_METRICS = tuple(f"duty_{s}" for s in SHARE_COLUMNS)
SUMMARY_COLUMNS = {
    "metric": "what the row measures (see the metric list)",
    "value": "the figure: a count, a proportion (0-1) or a mean share (0-1); empty when n < min_n",
    "ci_low": "lower end of its interval (confidence level of the call, 95 % by default); empty for counts",
    "ci_high": "upper end of its interval",
    "n": "number of ads the figure is taken over (its population in the group); for counts, the count",
    "population": "the ads the figure is taken over: all, ok, cm or cm_with_duties",
    "interval": "how the interval was computed: wilson (proportions), bootstrap (means), empty for counts",
    "too_small": "true when n < min_n: value, interval and correction are withheld",
    "corrected": "the proportion corrected for the tool's misclassification (Rogan-Gladen with the "
                 "cross-validated sensitivity and specificity), clipped to 0-1; empty when no correction applies",
    "corrected_low": "lower end of the corrected proportion's interval (widened for the uncertainty of "
                     "sensitivity and specificity)",
    "corrected_high": "upper end of the corrected proportion's interval",
}
# Cap on resampled indices held in memory at once (rows × replicates).
_BOOT_CELLS = 4_000_000


def _flag(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A nullable boolean column as a plain bool array (missing = False)."""
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].astype("boolean").fillna(False).to_numpy(dtype=bool)


def _value_of(metric: str) -> str:
    """The per-ad value a metric averages (``alchemist_rate`` and ``alchemist_rate_cm`` share one)."""
    return metric.removesuffix("_cm").removesuffix("_rate")


def _metric_arrays(ads: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per-ad values (0/1 or share) behind the non-count metrics, and a mask per population."""
    ok = (ads["status"] == "ok").to_numpy(dtype=bool)
    cm = ok & _flag(ads, "is_cm_role")
    masks = {"all": np.ones(len(ads), dtype=bool), "ok": ok, "cm": cm,
             "cm_with_duties": cm & (ads["n_duties"].fillna(0).to_numpy() > 0)}
    orientations = ads["orientation"].astype(str).to_numpy()
    reasons = ads["alchemist_reasons"].astype("string").fillna("")
    values: dict[str, np.ndarray] = {"cm_share": cm.astype(float)}
    for o in ORIENTATIONS:
        values[f"orientation_{o}"] = (orientations == o).astype(float)
    for s in SHARE_COLUMNS:
        values[f"duty_{s}"] = ads[s].fillna(0).to_numpy(dtype=float)
    for flag in ("alchemist", "follower_credential", "hype_title", "discriminatory_requirement"):
        values[flag] = _flag(ads, flag).astype(float)
    for letter in _REASON_LETTERS:  # single letters joined by commas, so a substring test is exact
        values[f"alchemist_reason_{letter}"] = reasons.str.contains(letter, regex=False).to_numpy(dtype=float)
    return values, masks


def _distinct_rows(columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``columns`` and how often each occurs (hashing rows, faster than a sort)."""
    codes, uniques = pd.factorize(pd.Series([row.tobytes() for row in columns], dtype=object))
    first = np.zeros(len(uniques), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    return columns[first], np.bincount(codes, minlength=len(uniques))


def _bootstrap_sums(columns: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Column sums of ``columns`` (rows × k) over ``n_boot`` resamples of its rows: (n_boot × k).

    Each resample draws the rows once for every column, so ratios of columns stay paired.
    """
    n_rows = columns.shape[0]
    profiles, counts = _distinct_rows(columns)
    if len(profiles) * 10 <= n_rows:
        # Few distinct rows: drawing n rows with replacement is a multinomial draw over the distinct rows.
        return rng.multinomial(n_rows, counts / n_rows, size=n_boot) @ profiles
    out = np.empty((n_boot, columns.shape[1]))
    step = max(1, _BOOT_CELLS // max(n_rows, 1))
    for first in range(0, n_boot, step):
        size = min(step, n_boot - first)
        draws = rng.integers(0, n_rows, size=(size, n_rows))
        # How often each row was drawn in each replicate, then one matrix product for all metrics.
        offsets = np.arange(size)[:, None] * n_rows
        weights = np.bincount((draws + offsets).ravel(), minlength=size * n_rows).reshape(size, n_rows)
        out[first:first + size] = weights @ columns
    return out


def _summarise_group(ads: pd.DataFrame, n_boot: int, rng: np.random.Generator, confidence: float,
                     errors: dict[str, pd.DataFrame] | None) -> list[dict]:
    values, masks = _metric_arrays(ads)
    rows = [{"metric": "n_ads", "n": len(ads)}, {"metric": "n_ok", "n": int(masks["ok"].sum())},
            {"metric": "n_cm_ads", "n": int(masks["cm"].sum())}]
    for row in rows:
        row.update(value=float(row["n"]), ci_low=np.nan, ci_high=np.nan, population="all", interval="")
    names = [m for m in METRICS if m not in COUNT_METRICS]
    population = [METRICS[m][0] for m in names]
    sums = np.array([(values[_value_of(m)] * masks[p]).sum() for m, p in zip(names, population)])
    n = np.array([masks[p].sum() for p in population], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        point = np.where(n > 0, sums / n, np.nan)
    lows, highs = wilson_interval(sums, n, confidence)
    means = [i for i, m in enumerate(names) if m in MEAN_METRICS]
    lows[means] = highs[means] = np.nan
    if n_boot > 0 and len(ads) and means:
        # Numerators and their (shared) denominator resampled together, so each ratio stays paired.
        columns = np.column_stack([values[_value_of(names[i])] * masks[population[i]] for i in means]
                                  + [masks["cm_with_duties"]]).astype(float)
        boot = _bootstrap_sums(columns, n_boot, rng)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios = boot[:, :-1] / boot[:, -1:]
        lows[means], highs[means] = _percentiles(ratios, (1 - confidence) / 2)
    for i, name in enumerate(names):
        row = {"metric": name, "value": float(point[i]), "ci_low": float(lows[i]), "ci_high": float(highs[i]),
               "n": int(n[i]), "population": population[i], "interval": "bootstrap" if i in means else "wilson"}
        flag = CORRECTED_BY.get(name)
        if errors is not None and flag is not None:
            e = errors["cm" if population[i] == "cm" else "all"].loc[flag]
            row["corrected"], row["corrected_low"], row["corrected_high"] = (float(x) for x in corrected_rate(
                sums[i], n[i], e["true_positives"], e["positives"], e["true_negatives"], e["negatives"], confidence))
        rows.append(row)
    return rows


def _percentiles(ratios: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval per column, ignoring replicates where the population was empty."""
    ratios = np.where(np.isfinite(ratios), ratios, np.nan)
    lows = np.full(ratios.shape[1], np.nan)
    highs = np.full(ratios.shape[1], np.nan)
    usable = ~np.all(np.isnan(ratios), axis=0)
    if usable.any():
        lows[usable], highs[usable] = np.nanquantile(ratios[:, usable], [alpha, 1 - alpha], axis=0)
    return lows, highs


def month_column(ads: pd.DataFrame, fmt: str = "%Y-%m") -> pd.Series:
    """The month (``YYYY-MM``; or another ``strftime`` format, e.g. ``"%Y"``) of the first date-like
    column (``date``, ``fecha``, ``posted``…).

    Unparseable or missing dates become ``"(missing)"``. Raises ``KeyError`` when there is no such column.
    """
    if fmt == "%Y-%m" and "month" in ads.columns:
        return ads["month"].astype("string").fillna(MISSING_GROUP)
    for column in DATE_COLUMNS:
        if column in ads.columns:
            dates = pd.to_datetime(ads[column], errors="coerce", utc=True, format="mixed")
            return dates.dt.strftime(fmt).fillna(MISSING_GROUP).astype("string")
    raise KeyError(f"grouping by date needs a date column (one of {', '.join(DATE_COLUMNS)}) or a 'month' column")


def group_keys(ads: pd.DataFrame, by: str | Sequence[str]) -> pd.DataFrame:
    """The grouping columns of ``ads`` as strings, ``month`` and ``year`` derived from the date column
    unless the ads have such a column, missing or blank values as ``"(missing)"``."""
    names = [by] if isinstance(by, str) else list(by)
    keys = {}
    for name in names:
        if name == "month":
            keys[name] = month_column(ads)
        elif name == "year" and name not in ads.columns:
            keys[name] = month_column(ads, "%Y")
        elif name not in ads.columns:
            raise KeyError(f"no column {name!r} to group by; the ads have {', '.join(map(str, ads.columns))}")
        else:
            column = ads[name].astype("string").str.strip()
            keys[name] = column.mask(column == "", pd.NA).fillna(MISSING_GROUP)
    return pd.DataFrame(keys, index=ads.index)


def summarise(analysis: Tables | pd.DataFrame, by: str | Sequence[str] | None = None, n_boot: int = 1000,
              seed: int = 0, confidence: float = 0.95, min_n: int = 0, correct: bool = True,
              error_rates: str | Path | None = None) -> pd.DataFrame:
    """The corpus figures as a tidy table: n, a confidence interval, and the rate corrected for the
    tool's error.

    One row per metric (see ``METRICS`` for names, populations and meanings), or per group and
    metric when ``by`` names one or more columns of ``analysis.ads`` (e.g. ``"country"`` or
    ``["source", "country"]``). ``by="month"`` or ``by="year"`` groups by the date column (``date``,
    ``fecha``, ``posted``…). Missing group values are grouped as ``"(missing)"``.

    Columns (see ``SUMMARY_COLUMNS``): the group columns, then ``metric``, ``value``, ``ci_low``,
    ``ci_high``, ``n``, ``population``, ``interval``, ``too_small``, ``corrected``, ``corrected_low``,
    ``corrected_high``. Proportions get Wilson intervals; the mean duty shares get percentile
    intervals of ``n_boot`` bootstrap resamples of the group's ads (seeded by ``seed``; ``n_boot=0``
    skips them); counts have none. A figure taken over fewer than ``min_n`` ads is withheld
    (``too_small`` true, value and intervals empty). With ``correct``, the flags' and the CM role's
    proportions also get the Rogan–Gladen prevalence with its interval
    (:func:`cmclassify.prevalence.corrected_rate`), from the cross-validated sensitivity and
    specificity in ``error_rates`` (a CV report; default: the shipped models' ``cv_results.json``) —
    over all annotated ads, or over the annotated CM ads for figures taken over CM ads. They describe
    the shipped models: pass ``correct=False`` for an analysis made with other models, or the CV
    report of those.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    if min_n < 0:
        raise ValueError(f"min_n must be 0 or more, not {min_n!r}")
    ads = analysis.ads if hasattr(analysis, "ads") else analysis
    rng = np.random.default_rng(seed)
    errors = {among: tool_error_rates(error_rates, among) for among in ("all", "cm")} if correct else None
    if by is None:
        groups: list[tuple[dict[str, str], np.ndarray]] = [({}, np.arange(len(ads)))]
        key_columns: list[str] = []
    else:
        keys = group_keys(ads, by)
        key_columns = list(keys.columns)
        groups = [(dict(zip(key_columns, v if isinstance(v, tuple) else (v,))), positions)
                  for v, positions in sorted(keys.groupby(key_columns).indices.items())]
    rows = [{**group, **row} for group, positions in groups
            for row in _summarise_group(ads.iloc[positions], n_boot, rng, confidence, errors)]
    table = pd.DataFrame(rows, columns=[*key_columns, *SUMMARY_COLUMNS])
    counts = table["metric"].isin(COUNT_METRICS)
    table["too_small"] = ~counts & (table["n"] < min_n)
    withheld = ["value", "ci_low", "ci_high", "corrected", "corrected_low", "corrected_high"]
    table[withheld] = table[withheld].astype(float).mask(table["too_small"])
    return table.astype({"n": "int64", "too_small": "bool", "interval": "str", "population": "str"})
