"""Stage 7, aggregation: corpus summaries of the per-ad results, with bootstrap confidence intervals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

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
SUMMARY_COLUMNS = ("metric", "value", "ci_low", "ci_high", "n", "population")
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


def _summarise_group(ads: pd.DataFrame, n_boot: int, rng: np.random.Generator, confidence: float) -> list[dict]:
    values, masks = _metric_arrays(ads)
    rows = [{"metric": "n_ads", "n": len(ads)}, {"metric": "n_ok", "n": int(masks["ok"].sum())},
            {"metric": "n_cm_ads", "n": int(masks["cm"].sum())}]
    for row in rows:
        row.update(value=float(row["n"]), ci_low=np.nan, ci_high=np.nan, population="all")
    names = [m for m in METRICS if m not in COUNT_METRICS]
    # Distinct numerator (value × population) and denominator (population) columns, shared by metrics.
    keys = list(dict.fromkeys([(_value_of(m), METRICS[m][0]) for m in names] + [(None, p) for p in masks]))
    totals = np.column_stack([masks[p] if v is None else values[v] * masks[p] for v, p in keys]).astype(float)
    numerator = [keys.index((_value_of(m), METRICS[m][0])) for m in names]
    denominator = [keys.index((None, METRICS[m][0])) for m in names]
    sums = totals.sum(axis=0)
    lows = highs = np.full(len(names), np.nan)
    if n_boot > 0 and len(ads):
        boot = _bootstrap_sums(totals, n_boot, rng)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios = boot[:, numerator] / boot[:, denominator]
        lows, highs = _percentiles(ratios, (1 - confidence) / 2)
    for i, name in enumerate(names):
        n = sums[denominator[i]]
        k = sums[numerator[i]]
        low, high = float(lows[i]), float(highs[i])
        if n and not name.startswith("duty_") and (k == 0 or k == n):
            low, high = _wilson(int(round(k)), int(n), confidence)
        rows.append({"metric": name, "value": float(k / n) if n else np.nan,
                     "ci_low": low, "ci_high": high, "n": int(n), "population": METRICS[name][0]})
    return rows


def _wilson(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval of k successes in n: at 0 % or 100 % every bootstrap resample repeats the
    sample, so the percentile interval collapses to a point; Wilson's does not."""
    from scipy.stats import binomtest

    interval = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(interval.low), float(interval.high)


def _percentiles(ratios: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval per column, ignoring replicates where the population was empty."""
    ratios = np.where(np.isfinite(ratios), ratios, np.nan)
    lows = np.full(ratios.shape[1], np.nan)
    highs = np.full(ratios.shape[1], np.nan)
    usable = ~np.all(np.isnan(ratios), axis=0)
    if usable.any():
        lows[usable], highs[usable] = np.nanquantile(ratios[:, usable], [alpha, 1 - alpha], axis=0)
    return lows, highs


def month_column(ads: pd.DataFrame) -> pd.Series:
    """The month (``YYYY-MM``) of the first date-like column (``date``, ``fecha``, ``posted``…).

    Unparseable or missing dates become ``"(missing)"``. Raises ``KeyError`` when there is no such column.
    """
    if "month" in ads.columns:
        return ads["month"].astype("string").fillna(MISSING_GROUP)
    for column in DATE_COLUMNS:
        if column in ads.columns:
            dates = pd.to_datetime(ads[column], errors="coerce", utc=True, format="mixed")
            return dates.dt.strftime("%Y-%m").fillna(MISSING_GROUP).astype("string")
    raise KeyError(f"by='month' needs a date column (one of {', '.join(DATE_COLUMNS)}) or a 'month' column")


def group_keys(ads: pd.DataFrame, by: str | Sequence[str]) -> pd.DataFrame:
    """The grouping columns of ``ads`` as strings, ``month`` derived from the date column,
    missing or blank values as ``"(missing)"``."""
    names = [by] if isinstance(by, str) else list(by)
    keys = {}
    for name in names:
        if name == "month":
            keys[name] = month_column(ads)
        elif name not in ads.columns:
            raise KeyError(f"no column {name!r} to group by; the ads have {', '.join(map(str, ads.columns))}")
        else:
            column = ads[name].astype("string").str.strip()
            keys[name] = column.mask(column == "", pd.NA).fillna(MISSING_GROUP)
    return pd.DataFrame(keys, index=ads.index)


def summarise(analysis: Tables | pd.DataFrame, by: str | Sequence[str] | None = None, n_boot: int = 1000,
              seed: int = 0, confidence: float = 0.95) -> pd.DataFrame:
    """The corpus figures of a dashboard as a tidy table, with bootstrap confidence intervals.

    One row per metric (see ``METRICS`` for names, populations and meanings), or per group and
    metric when ``by`` names one or more columns of ``analysis.ads`` (e.g. ``"country"`` or
    ``["source", "country"]``). ``by="month"`` groups by the month of the ``date`` column (or of
    ``fecha``, ``posted``…). Missing group values are grouped as ``"(missing)"``.

    Columns: the group columns, then ``metric``, ``value``, ``ci_low``, ``ci_high``, ``n`` (the
    number of ads the share is taken over; for counts, the count) and ``population`` (``all``,
    ``ok``, ``cm``, ``cm_with_duties``; see ``POPULATIONS``). Counts (``n_ads``, ``n_ok``,
    ``n_cm_ads``) have no interval. Intervals are percentile intervals of ``n_boot`` bootstrap
    resamples of the group's ads (the same resample for every metric of a group), so the same
    data and ``seed`` give the same table; ``n_boot=0`` skips them.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    ads = analysis.ads if hasattr(analysis, "ads") else analysis
    rng = np.random.default_rng(seed)
    if by is None:
        return pd.DataFrame(_summarise_group(ads, n_boot, rng, confidence), columns=list(SUMMARY_COLUMNS))
    keys = group_keys(ads, by)
    rows = []
    for values, positions in sorted(keys.groupby(list(keys.columns)).indices.items()):
        values = values if isinstance(values, tuple) else (values,)
        group = dict(zip(keys.columns, values))
        for row in _summarise_group(ads.iloc[positions], n_boot, rng, confidence):
            rows.append({**group, **row})
    return pd.DataFrame(rows, columns=[*keys.columns, *SUMMARY_COLUMNS])
