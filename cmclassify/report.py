"""Reports for people: charts of a corpus and one self-contained HTML report.

Charts are matplotlib :class:`~matplotlib.figure.Figure` objects made without pyplot, so no display
is needed (in a notebook, ``%matplotlib inline`` shows them). :func:`render_html` writes one HTML
file that works offline: styles, the small table script and the charts (inline SVG) are in the file.
Ad text is untrusted: the template escapes every piece of it (Jinja2 autoescaping), so nothing in an
ad can run as markup or script; the only unescaped markup is the SVG matplotlib writes.
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import hashlib
import io
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:
    import jinja2
    import matplotlib
    from markupsafe import Markup, escape
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("cmclassify.report needs the report extra: pip install 'cmclassify[report]'") from exc

from .aggregate import METRICS, ORIENTATIONS, group_keys, summarise
from .classify import LABELS

# --- names and colours -------------------------------------------------------------------------

LANGS = ("es", "en", "both")
NAMES: dict[str, tuple[str, str]] = {
    "marketing_sales": ("Venta", "Selling"),
    "communication_conversation": ("Conversación", "Conversation"),
    "other": ("Otra", "Other"),
    "mixed": ("Mixta", "Mixed"),
    "undetermined": ("Indeterminada", "Undetermined"),
    "alchemist": ("Alquimista", "Alchemist"),
    "follower_credential": ("Seguidores como credencial", "Followers as credential"),
    "hype_title": ("Título inflado", "Hype title"),
    "A": ("Resultados de toda la empresa", "Outcome over-reach"),
    "B": ("Demasiadas funciones", "Scope overload"),
    "C": ("Responsable único sin apoyo", "Sole ownership"),
    "D": ("Fachada", "Façade"),
    "E": ("Puesto junior dueño de la estrategia", "Mismatch"),
    "ok": ("Analizado", "Analysed"),
    "empty": ("Vacío", "Empty"),
    "not_spanish": ("No está en español", "Not Spanish"),
    "garbled": ("Texto ilegible", "Garbled"),
    "error": ("Error", "Error"),
    "analysed_ads": ("Anuncios analizados", "Analysed ads"),
    "cm_ads": ("Anuncios de CM", "CM ads"),
    "source": ("Portal", "Source"),
    "country": ("País", "Country"),
    "month": ("Mes", "Month"),
    "date": ("Fecha", "Date"),
    "url": ("Enlace", "URL"),
    "repo": ("Repositorio", "Repository"),
}
METRIC_NAMES: dict[str, tuple[str, str]] = {
    "n_ads": ("Anuncios", "Ads"),
    "n_ok": ("Anuncios analizados", "Ads analysed"),
    "n_cm_ads": ("Anuncios de community manager (CM)", "Community-manager (CM) ads"),
    "cm_share": ("Anuncios de CM entre los analizados", "CM ads among the analysed ads"),
    "orientation_marketing_sales": ("Orientación a la venta", "Selling orientation"),
    "orientation_communication_conversation": ("Orientación a la conversación", "Conversation orientation"),
    "orientation_mixed": ("Orientación mixta", "Mixed orientation"),
    "orientation_undetermined": ("Orientación indeterminada", "Undetermined orientation"),
    "duty_share_marketing_sales": ("Tareas de venta (media por anuncio)", "Selling duties (mean share per ad)"),
    "duty_share_communication_conversation": ("Tareas de conversación (media por anuncio)",
                                              "Conversation duties (mean share per ad)"),
    "duty_share_other": ("Otras tareas (media por anuncio)", "Other duties (mean share per ad)"),
    "alchemist_rate": ("Alquimista, entre todos los analizados", "Alchemist, among all analysed ads"),
    "alchemist_rate_cm": ("Alquimista, entre los anuncios de CM", "Alchemist, among CM ads"),
    "alchemist_reason_A": ("Motivo A: resultados de toda la empresa", "Reason A: outcome over-reach"),
    "alchemist_reason_B": ("Motivo B: cinco o más funciones", "Reason B: scope overload"),
    "alchemist_reason_C": ("Motivo C: responsable único sin apoyo", "Reason C: sole ownership"),
    "alchemist_reason_D": ("Motivo D: fachada (quejas sin proceso)", "Reason D: façade"),
    "alchemist_reason_E": ("Motivo E: puesto junior dueño de la estrategia", "Reason E: mismatch"),
    "follower_credential_rate": ("Seguidores como credencial, entre todos", "Followers as credential, all ads"),
    "follower_credential_rate_cm": ("Seguidores como credencial, anuncios de CM", "Followers as credential, CM ads"),
    "hype_title_rate": ("Título inflado, entre todos", "Hype title, all ads"),
    "hype_title_rate_cm": ("Título inflado, anuncios de CM", "Hype title, CM ads"),
}
POPULATION_NAMES: dict[str, tuple[str, str]] = {
    "all": ("todos los anuncios", "all ads"), "ok": ("anuncios analizados", "analysed ads"),
    "cm": ("anuncios de CM", "CM ads"), "cm_with_duties": ("anuncios de CM con tareas", "CM ads with duties"),
}
# Okabe–Ito colours (safe for colour-blind readers); tints for highlighting text.
COLOURS = {"marketing_sales": "#D55E00", "communication_conversation": "#0072B2", "other": "#8A8A8A",
           "mixed": "#CC79A7", "undetermined": "#CFCFCF", "alchemist": "#7A3E9D",
           "follower_credential": "#E69F00", "hype_title": "#009E73"}
REASON_LETTERS = ("A", "B", "C", "D", "E")
FLAGS = ("alchemist", "follower_credential", "hype_title")
_STYLE = {"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial"],
          "font.size": 9.5, "axes.titlesize": 10.5,
          "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#888888",
          "axes.labelcolor": "#333333", "xtick.color": "#444444", "ytick.color": "#333333",
          "legend.frameon": False, "svg.fonttype": "none", "svg.hashsalt": "cmclassify"}
GROUP_CANDIDATES = ("source", "country", "month")


def name(key: str, lang: str = "both") -> str:
    """A readable name for a label, orientation, flag, reason letter or status: Spanish, English or both."""
    es, en = NAMES.get(key, METRIC_NAMES.get(key, (key, key)))
    return _pick(es, en, lang)


def _pick(es: str, en: str, lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    if lang == "es" or es == en:
        return es
    return en if lang == "en" else f"{es} / {en}"


# --- figures: helpers --------------------------------------------------------------------------

HALF, WIDE = 6.2, 12.0  # figure widths (inches) that fill half / all of the report's width


def _title(es: str, en: str, lang: str) -> str:
    """A chart title: one language, or Spanish over English."""
    return f"{es}\n{en}" if lang == "both" and es != en else _pick(es, en, lang)


def _tick(key: str, lang: str) -> str:
    """A category label for an axis: one language, or Spanish over English."""
    es, en = NAMES.get(key, METRIC_NAMES.get(key, (key, key)))
    return _title(es, en, lang)


def _styled(plot_function: Callable[..., Figure]) -> Callable[..., Figure]:
    """Draw the whole chart with the report's style (some settings are read while drawing)."""
    @functools.wraps(plot_function)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with matplotlib.rc_context(_STYLE):
            return plot_function(*args, **kwargs)
    return wrapper


def _figure(width: float, height: float, nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Figure, list[Any]]:
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, list(fig.subplots(nrows, ncols, squeeze=False, **kwargs).ravel())


def _by_columns(by: str | Sequence[str]) -> list[str]:
    return [by] if isinstance(by, str) else list(by)


def _by_name(by: str | Sequence[str], lang: str) -> tuple[str, str]:
    columns = _by_columns(by)
    return (" · ".join(name(b, "es").lower() for b in columns), " · ".join(name(b, "en").lower() for b in columns))


def _summary_for(analysis: Any, by: str | Sequence[str] | None, summary: pd.DataFrame | None,
                 n_boot: int) -> pd.DataFrame:
    """The summary to draw: the one given (computed by :func:`summarise` with the same ``by``) or a new one."""
    if summary is not None:
        return summary
    return summarise(analysis, by=by, n_boot=n_boot)


def _metric_rows(summary: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """The overall rows of ``metrics``, in that order, indexed by metric."""
    return summary.set_index("metric").loc[list(metrics)]


@dataclass
class _Groups:
    """The groups a chart shows (the largest, or the latest months) and how many there were."""

    keys: list[tuple[str, ...]]
    labels: list[str]
    total: int
    table: pd.DataFrame = field(repr=False)  # summary indexed by (group columns…, metric)

    def values(self, metric: str, column: str = "value") -> np.ndarray:
        return np.array([self.table.loc[(*key, metric), column] for key in self.keys], dtype=float)

    def note(self, lang: str) -> str:
        if len(self.keys) >= self.total:
            return ""
        return _pick(f"{len(self.keys)} de {self.total} grupos: los de más anuncios",
                     f"{len(self.keys)} of {self.total} groups: the largest", lang)


def _groups(summary: pd.DataFrame, by: Sequence[str], max_groups: int, size_metric: str = "n_cm_ads") -> _Groups:
    present = summary[(summary["metric"] == size_metric) & (summary["value"] > 0)]
    if list(by) == ["month"]:
        shown = present.sort_values("month").tail(max_groups)  # the latest months, in time order
    else:
        shown = present.sort_values(["value", *by], ascending=[False, *[True] * len(by)]).head(max_groups)
    keys = [tuple(str(v) for v in row) for row in shown[list(by)].itertuples(index=False)]
    labels = [f"{_shorten(' · '.join(key), 28)} (n={int(n)})" for key, n in zip(keys, shown["value"])]
    return _Groups(keys, labels, len(present), summary.set_index([*by, "metric"]).sort_index())


def _errors(values: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> np.ndarray:
    """Asymmetric error-bar lengths; zero where there is no interval."""
    below = np.nan_to_num(values - lows, nan=0.0).clip(min=0)
    above = np.nan_to_num(highs - values, nan=0.0).clip(min=0)
    return np.vstack([below, above])


def _rate_bars(ax: Any, labels: Sequence[str], values: np.ndarray, lows: np.ndarray, highs: np.ndarray,
               colours: Sequence[str] | str, ns: Sequence[int] | None = None) -> None:
    """Horizontal bars of shares with their confidence intervals, labelled with the share (and n)."""
    y = np.arange(len(labels))
    ax.barh(y, np.nan_to_num(values), color=colours, height=0.62, zorder=2)
    ax.errorbar(np.nan_to_num(values), y, xerr=_errors(values, lows, highs), fmt="none", ecolor="#333333",
                elinewidth=1, capsize=3, zorder=3)
    for i, value in enumerate(values):
        end = 0.0 if np.isnan(value) else float(np.nanmax([value, highs[i]]))
        text = "–" if np.isnan(value) else f"{value:.0%}"
        if ns is not None:
            text += f"  (n={ns[i]})"
        ax.text(end + 0.012, i, text, va="center", fontsize=8.5, color="#222222")
    ax.set_yticks(y, labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    top = float(np.nanmax(np.concatenate([values, highs, [0.05]])))
    ax.set_xlim(0, min(1.0, top * 1.25 + 0.15))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
    ax.grid(axis="x", color="#E5E5E5", zorder=0)
    ax.tick_params(axis="y", length=0)


def _no_data(ax: Any, lang: str) -> None:
    ax.text(0.5, 0.5, _pick("Sin datos", "No data", lang), ha="center", va="center", transform=ax.transAxes,
            color="#777777", fontsize=11)
    ax.set_axis_off()


def _footnote(fig: Figure, lang: str, extra: str = "") -> None:
    """The interval note (and e.g. which groups are shown) under the chart."""
    note = _pick("Barras negras: intervalo de confianza del 95 % (bootstrap)",
                 "Black bars: 95% bootstrap confidence interval", lang)
    fig.supxlabel(note + (f" · {extra}" if extra else ""), fontsize=7.5, color="#666666", x=0.01, ha="left")


# --- figures: public ---------------------------------------------------------------------------

@_styled
def plot_orientation(analysis: Any, by: str | Sequence[str] | None = None, *, lang: str = "both",
                     max_groups: int = 12, summary: pd.DataFrame | None = None, n_boot: int = 1000) -> Figure:
    """Orientation of the CM ads (selling / conversation / mixed / undetermined).

    Without ``by``: one bar per orientation with its 95 % interval. With ``by`` (a column of ``.ads``,
    or ``"month"``): one 100 % bar per group, the ``max_groups`` groups with most CM ads.
    ``summary`` reuses a :func:`cmclassify.aggregate.summarise` table computed with the same ``by``.
    """
    summary = _summary_for(analysis, by, summary, n_boot)
    metrics = [f"orientation_{o}" for o in ORIENTATIONS]
    if by is None:
        rows = _metric_rows(summary, metrics)
        n_cm = int(rows["n"].iloc[0])
        fig, (ax,) = _figure(HALF, 3.4)
        ax.set_title(_title(f"Orientación de los anuncios de CM (n={n_cm})", f"Orientation of CM ads (n={n_cm})", lang))
        if not n_cm:
            _no_data(ax, lang)
            return fig
        _rate_bars(ax, [_tick(o, lang) for o in ORIENTATIONS], rows["value"].to_numpy(float),
                   rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float), [COLOURS[o] for o in ORIENTATIONS])
        _footnote(fig, lang)
        return fig
    groups = _groups(summary, _by_columns(by), max_groups)
    fig, (ax,) = _figure(WIDE, 1.7 + 0.34 * max(len(groups.keys), 1))
    by_es, by_en = _by_name(by, lang)
    ax.set_title(_title(f"Orientación de los anuncios de CM, por {by_es}", f"Orientation of CM ads, by {by_en}", lang))
    if not groups.keys:
        _no_data(ax, lang)
        return fig
    left = np.zeros(len(groups.keys))
    y = np.arange(len(groups.keys))
    for orientation, metric in zip(ORIENTATIONS, metrics):
        share = np.nan_to_num(groups.values(metric))
        ax.barh(y, share, left=left, color=COLOURS[orientation], label=name(orientation, lang), height=0.7)
        for i, (start, width) in enumerate(zip(left, share)):
            if width >= 0.06:
                colour = "#222222" if orientation == "undetermined" else "white"
                ax.text(start + width / 2, i, f"{width:.0%}", ha="center", va="center", fontsize=8, color=colour)
        left += share
    ax.set_yticks(y, groups.labels)
    ax.set_ylim(len(y) - 0.5, -0.5)
    ax.set_xlim(0, 1)
    ax.tick_params(axis="y", length=0)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
    fig.legend(loc="outside lower center", ncols=4, fontsize=8.5)
    if groups.note(lang):
        fig.supxlabel(groups.note(lang), fontsize=7.5, color="#666666", x=0.01, ha="left")
    return fig


@_styled
def plot_alchemist(analysis: Any, by: str | Sequence[str] | None = None, *, lang: str = "both",
                   max_groups: int = 12, summary: pd.DataFrame | None = None, n_boot: int = 1000) -> Figure:
    """How often ads ask for an alchemist, and for which reasons (A–E).

    Without ``by``: the rate among analysed ads and among CM ads, and the share of CM ads where
    each reason holds, with 95 % intervals. With ``by``: the rate among CM ads per group, and a
    grid of reason shares per group.
    """
    summary = _summary_for(analysis, by, summary, n_boot)
    reasons = [f"alchemist_reason_{letter}" for letter in REASON_LETTERS]
    if by is None:
        fig, (left, right) = _figure(WIDE, 3.3, ncols=2, width_ratios=[1, 1.35])
        rows = _metric_rows(summary, ["alchemist_rate", "alchemist_rate_cm", *reasons])
        values, lows, highs = (rows[c].to_numpy(float) for c in ("value", "ci_low", "ci_high"))
        _rate_bars(left, [_tick("analysed_ads", lang), _tick("cm_ads", lang)], values[:2], lows[:2], highs[:2],
                   COLOURS["alchemist"], rows["n"].astype(int).tolist()[:2])
        left.set_title(_title("Anuncios «alquimista»", "“Alchemist” ads", lang))
        _rate_bars(right, [f"{letter} · {_tick(letter, lang)}" for letter in REASON_LETTERS], values[2:], lows[2:],
                   highs[2:], "#A77BC4")
        right.set_title(_title("Motivos, entre los anuncios de CM", "Reasons, among CM ads", lang))
        _footnote(fig, lang)
        return fig
    groups = _groups(summary, _by_columns(by), max_groups)
    fig, (left, right) = _figure(WIDE, 1.8 + 0.34 * max(len(groups.keys), 1), ncols=2, width_ratios=[1.3, 1])
    by_es, by_en = _by_name(by, lang)
    left.set_title(_title(f"Alquimista entre los anuncios de CM, por {by_es}", f"Alchemist among CM ads, by {by_en}",
                          lang))
    right.set_title(_title("Motivos A–E (% de anuncios de CM)", "Reasons A–E (% of CM ads)", lang))
    if not groups.keys:
        _no_data(left, lang)
        _no_data(right, lang)
        return fig
    _rate_bars(left, groups.labels, groups.values("alchemist_rate_cm"), groups.values("alchemist_rate_cm", "ci_low"),
               groups.values("alchemist_rate_cm", "ci_high"), COLOURS["alchemist"])
    grid = np.vstack([groups.values(metric) for metric in reasons]).T
    right.imshow(np.nan_to_num(grid), cmap="Purples", vmin=0, vmax=max(0.5, float(np.nanmax(grid, initial=0))),
                 aspect="auto")
    for (i, j), value in np.ndenumerate(grid):
        right.text(j, i, "–" if np.isnan(value) else f"{value:.0%}", ha="center", va="center", fontsize=8,
                   color="white" if value > 0.3 else "#222222")
    right.set_xticks(range(len(REASON_LETTERS)), REASON_LETTERS)
    right.set_yticks(range(len(groups.keys)), [_shorten(" · ".join(k), 28) for k in groups.keys])
    right.tick_params(length=0)
    for spine in right.spines.values():
        spine.set_visible(False)
    _footnote(fig, lang, groups.note(lang))
    return fig


@_styled
def plot_flags(analysis: Any, by: str | Sequence[str] | None = None, *, lang: str = "both",
               max_groups: int = 12, summary: pd.DataFrame | None = None, n_boot: int = 1000) -> Figure:
    """Followers asked as a credential, and hype titles (experto, gurú, ninja…), with 95 % intervals.

    Without ``by``: each rate among analysed ads and among CM ads. With ``by``: each rate among CM
    ads, per group.
    """
    summary = _summary_for(analysis, by, summary, n_boot)
    flags = ("follower_credential", "hype_title")
    if by is None:
        fig, axes = _figure(HALF, 3.9, nrows=2, sharex=True)
        for ax, flag in zip(axes, flags):
            rows = _metric_rows(summary, [f"{flag}_rate", f"{flag}_rate_cm"])
            _rate_bars(ax, [_tick("analysed_ads", lang), _tick("cm_ads", lang)], rows["value"].to_numpy(float),
                       rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float), COLOURS[flag],
                       rows["n"].astype(int).tolist())
            ax.set_title(_tick(flag, lang))
        _footnote(fig, lang)
        return fig
    groups = _groups(summary, _by_columns(by), max_groups)
    fig, axes = _figure(WIDE, 1.8 + 0.34 * max(len(groups.keys), 1), ncols=2, sharey=True)
    for ax, flag in zip(axes, flags):
        es, en = NAMES[flag]
        ax.set_title(_title(f"{es} (anuncios de CM)", f"{en} (CM ads)", lang))
        if not groups.keys:
            _no_data(ax, lang)
            continue
        metric = f"{flag}_rate_cm"
        _rate_bars(ax, groups.labels, groups.values(metric), groups.values(metric, "ci_low"),
                   groups.values(metric, "ci_high"), COLOURS[flag])
    if groups.keys:
        _footnote(fig, lang, groups.note(lang))
    return fig


@_styled
def plot_rates_by(analysis: Any, by: str | Sequence[str], metric: str = "alchemist_rate_cm", *,
                  lang: str = "both", max_groups: int = 15, summary: pd.DataFrame | None = None,
                  n_boot: int = 1000) -> Figure:
    """One metric of :func:`cmclassify.aggregate.summarise` (a share, e.g. ``"alchemist_rate_cm"``,
    ``"orientation_marketing_sales"``, ``"hype_title_rate"``) per group, with 95 % intervals."""
    if metric not in METRICS or metric.startswith("n_"):
        shares = [m for m in METRICS if not m.startswith("n_")]
        raise ValueError(f"metric must be one of the shares {', '.join(shares)}; not {metric!r}")
    summary = _summary_for(analysis, by, summary, n_boot)
    size = {"all": "n_ads", "ok": "n_ok"}.get(METRICS[metric][0], "n_cm_ads")
    groups = _groups(summary, _by_columns(by), max_groups, size_metric=size)
    fig, (ax,) = _figure(8, 1.7 + 0.34 * max(len(groups.keys), 1))
    by_es, by_en = _by_name(by, lang)
    es, en = METRIC_NAMES[metric]
    ax.set_title(_title(f"{es}, por {by_es}", f"{en}, by {by_en}", lang))
    if not groups.keys:
        _no_data(ax, lang)
        return fig
    colour = next((c for key, c in COLOURS.items() if key in metric), "#4C72B0")
    ns = [int(v) for v in groups.values(metric, "n")]
    _rate_bars(ax, [_shorten(" · ".join(k), 28) for k in groups.keys], groups.values(metric),
               groups.values(metric, "ci_low"), groups.values(metric, "ci_high"), colour, ns)
    _footnote(fig, lang, groups.note(lang))
    return fig


def top_duties(analysis: Any, n: int = 10, *, unit: str = "text", cm_only: bool = True) -> pd.DataFrame:
    """The most frequent duties of each label: columns ``label``, ``item``, ``count``.

    ``unit="text"`` counts duty texts (case, spaces and end punctuation ignored); ``unit="terms"``
    counts the evidence lemmas behind the labels. ``cm_only`` keeps the duties of CM ads only.
    """
    if unit not in ("text", "terms"):
        raise ValueError(f"unit must be 'text' or 'terms', not {unit!r}")
    duties = analysis.duties
    if cm_only:
        ads = analysis.ads
        cm_ids = ads.loc[(ads["status"] == "ok") & ads["is_cm_role"].astype("boolean").fillna(False), "ad_id"]
        duties = duties[duties["ad_id"].isin(set(cm_ids))]
    rows = []
    for label in LABELS:
        texts = duties.loc[duties["label"] == label, "text" if unit == "text" else "evidence"].dropna().astype(str)
        if unit == "text":
            counts = Counter(_normalise_duty(t) for t in texts)
        else:
            counts = Counter(term.strip() for terms in texts for term in terms.split(";") if term.strip())
        counts.pop("", None)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]
        rows += [{"label": label, "item": item, "count": count} for item, count in ranked]
    return pd.DataFrame(rows, columns=["label", "item", "count"])


def _normalise_duty(text: str) -> str:
    text = " ".join(text.split()).strip(" .;:,-–•·*").lower()
    return text[:1].upper() + text[1:]


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


@_styled
def plot_top_duties(analysis: Any, n: int = 10, *, unit: str = "text", cm_only: bool = True,
                    lang: str = "both") -> Figure:
    """The ``n`` most frequent duty texts (or, with ``unit="terms"``, evidence lemmas) of each label,
    one panel per label (see :func:`top_duties`)."""
    table = top_duties(analysis, n, unit=unit, cm_only=cm_only)
    rows_per_panel = max([1, *table.groupby("label").size().tolist()])
    fig, axes = _figure(WIDE, 1.3 + 0.27 * rows_per_panel, ncols=len(LABELS))
    for ax, label in zip(axes, LABELS):
        part = table[table["label"] == label]
        ax.set_title(name(label, lang), color=COLOURS[label])
        if part.empty:
            _no_data(ax, lang)
            continue
        y = np.arange(len(part))
        ax.barh(y, part["count"], color=COLOURS[label], height=0.65, zorder=2)
        ax.set_yticks(y, [_shorten(item, 34 if unit == "text" else 24) for item in part["item"]], fontsize=8.5)
        ax.set_ylim(rows_per_panel - 0.5, -0.5)
        ax.tick_params(axis="y", length=0)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(axis="x", color="#E5E5E5", zorder=0)
    what_es, what_en = ("Las tareas", "duties") if unit == "text" else ("Los términos (lemas)", "terms (lemmas)")
    where_es, where_en = (" en los anuncios de CM", " in CM ads") if cm_only else ("", "")
    es, en = f"{what_es} más frecuentes de cada etiqueta{where_es}", f"Most frequent {what_en} of each label{where_en}"
    fig.suptitle(f"{es} · {en}" if lang == "both" else _pick(es, en, lang), fontweight="bold", fontsize=11)
    return fig


PLOTS: dict[str, Callable[..., Figure]] = {
    "orientation": plot_orientation, "alchemist": plot_alchemist, "flags": plot_flags,
    "top_duties": plot_top_duties, "by": plot_rates_by,
}


def plot(analysis: Any, kind: str = "orientation", **kwargs: Any) -> Figure:
    """Draw one chart: ``kind`` is ``"orientation"``, ``"alchemist"``, ``"flags"``, ``"top_duties"`` or
    ``"by"`` (:func:`plot_rates_by`, needs ``by=``); keyword arguments go to that function."""
    if kind not in PLOTS:
        raise ValueError(f"unknown plot kind {kind!r}; use one of {', '.join(PLOTS)}")
    return PLOTS[kind](analysis, **kwargs)


# --- SVG for the page --------------------------------------------------------------------------

_SVG_START = re.compile(r"<svg\b", re.IGNORECASE)
_SVG_NOISE = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_SVG_SIZE = re.compile(r'\s(?:width|height)="([\d.]+)pt"')
_SVG_NAMESPACES = re.compile(r'\sxmlns(?::\w+)?="[^"]*"')
_SVG_ID = re.compile(r'(\bid="|url\(#|href="#)')
_TAG = re.compile(r"<[^>]*>")  # text is escaped, so every "<" starts a real tag
_ACTIVE = re.compile(r"^<(?:script|foreignobject|iframe)|\son\w+\s*=|javascript:", re.IGNORECASE)


def figure_svg(fig: Figure, chart_id: str, label: str = "") -> Markup:
    """The figure as inline SVG markup: no XML prolog or metadata, scalable, ids made unique per chart.

    Matplotlib escapes every text it draws, so labels taken from the data (group names) are safe.
    """
    buffer = io.StringIO()
    with matplotlib.rc_context(_STYLE):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[_SVG_START.search(svg).start():]
    svg = _SVG_NOISE.sub("", svg)
    width_pt = float(_SVG_SIZE.search(svg).group(1))
    svg = _SVG_SIZE.sub("", svg, count=2)  # scale with the page, up to the natural size
    svg = _SVG_NAMESPACES.sub("", svg)  # inline SVG in HTML needs no namespaces
    svg = _SVG_ID.sub(lambda m: f"{m.group(1)}{chart_id}-", svg)
    if any(_ACTIVE.search(tag) for tag in _TAG.findall(svg)):
        raise ValueError("unexpected active content in a chart")  # never expected from matplotlib
    aria = f' role="img" aria-label="{escape(label)}"' if label else ""
    style = f' style="max-width: {width_pt * 4 / 3:.0f}px"'
    return Markup(svg.replace("<svg", f'<svg class="chart-svg"{aria}{style}', 1))


# --- the HTML report ---------------------------------------------------------------------------

_TEMPLATES = Path(__file__).parent / "templates"
# Columns of .ads shown elsewhere on a card; any other scalar column is listed in its header.
_AD_CORE = frozenset({"ad_id", "title", "status", "error", "warning", "n_duties", "clean_text",
                      "share_marketing_sales", "share_communication_conversation", "share_other", "orientation",
                      "is_cm_role", "alchemist", "alchemist_score", "alchemist_reasons", "n_functions", "functions",
                      "follower_credential", "hype_title", "description"})
DEFAULT_TITLE = "¿Qué piden de verdad los anuncios de community manager?"


@dataclass
class _Part:
    """A stretch of an ad's text (or title) with the findings that cover it."""

    text: str
    flags: list[str]
    tip: str = ""
    tags: list[str] = field(default_factory=list)  # reason letters / flag marks ending here


@dataclass
class _Block:
    """Consecutive parts inside one duty (``duty`` set) or between duties (``duty`` None)."""

    duty: dict[str, Any] | None
    parts: list[_Part]


def _span_bounds(start: Any, end: Any, length: int) -> tuple[int, int] | None:
    """Offsets clamped to the text; None when they do not make a stretch of it."""
    try:
        a, b = max(0, int(start)), min(length, int(end))
    except (TypeError, ValueError):
        return None
    return (a, b) if a < b else None


def _finding_mark(finding: dict[str, Any]) -> str:
    return finding["reason"] or {"follower_credential": "F", "hype_title": "H"}.get(finding["flag"], "!")


def _finding_tip(finding: dict[str, Any]) -> str:
    key = finding["reason"] or finding["flag"]
    return f"{name(finding['flag'])} {key}: {name(key)}" if finding["reason"] else name(key)


def highlight(text: str, duties: Sequence[dict[str, Any]], findings: Sequence[dict[str, Any]]) -> list[_Block]:
    """Cut ``text`` into blocks (one per duty, and the text between) and parts (one per set of
    findings covering them), using the offsets of the duties and of the findings."""
    length = len(text)
    duty_spans = sorted((b, d) for d in duties if (b := _span_bounds(d["start"], d["end"], length)))
    finding_spans = [(b, f) for f in findings if (b := _span_bounds(f["start"], f["end"], length))]
    cuts = sorted({0, length, *(x for (b, _) in duty_spans + finding_spans for x in b)})
    blocks: list[_Block] = []
    for a, b in zip(cuts, cuts[1:]):
        duty = next((d for (s, e), d in duty_spans if s <= a and b <= e), None)
        covering = [f for (s, e), f in finding_spans if s <= a and b <= e]
        flags = sorted({f["flag"] for f in covering})
        tip = "\n".join(dict.fromkeys(_finding_tip(f) for f in covering))
        tags = list(dict.fromkeys(_finding_mark(f) for (s, e), f in finding_spans if e == b))
        part = _Part(text[a:b], flags, tip, tags)
        if blocks and blocks[-1].duty is duty:
            blocks[-1].parts.append(part)
        else:
            blocks.append(_Block(duty, [part]))
    return blocks


def _duty_view(duty: pd.Series) -> dict[str, Any]:
    label = str(duty["label"])
    probability = duty.get(f"p_{label}")
    evidence = duty.get("evidence") or ""
    tip = f"{name(label)} · p={float(probability):.2f}" if probability == probability else name(label)
    if evidence:
        tip += f"\n{_pick('evidencia', 'evidence', 'both')}: {evidence}"
    return {"label": label, "start": duty["start"], "end": duty["end"], "tip": tip}


def _card(position: int, ad: pd.Series, duties: pd.DataFrame, findings: pd.DataFrame,
          extra: Sequence[str]) -> dict[str, Any]:
    duty_views = [_duty_view(d) for _, d in duties.iterrows()]
    records = findings.to_dict("records")
    text_findings = [f for f in records if f["field"] == "text"]
    title_findings = [f for f in records if f["field"] == "title"]
    title = "" if _missing(ad["title"]) else str(ad["title"])
    text = "" if _missing(ad["clean_text"]) else str(ad["clean_text"])
    counts = Counter(d["label"] for d in duty_views)
    return {
        "anchor": f"ad-{position}", "position": position + 1, "ad": _row_values(ad),
        "title_blocks": highlight(title, [], title_findings) if title else [],
        "text_blocks": highlight(text, duty_views, text_findings) if ad["status"] == "ok" else [],
        "text": text, "extra": [(c, _display(ad[c])) for c in extra if not _missing(ad[c])],
        "label_counts": [(label, counts[label]) for label in LABELS],
        "n_duties": len(duty_views), "finding_groups": _finding_groups(records),
    }


def _finding_groups(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings grouped by flag and reason, in the codebook's order, each with its evidence quotes."""
    order = {key: i for i, key in enumerate([*REASON_LETTERS, "follower_credential", "hype_title"])}
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for f in records:
        group = groups.setdefault((f["flag"], f["reason"]), {
            "flag": f["flag"], "reason": f["reason"], "mark": _finding_mark(f),
            "name_es": _pick(*NAMES.get(f["reason"] or f["flag"], (f["reason_name"],) * 2), "es"),
            "name_en": _pick(*NAMES.get(f["reason"] or f["flag"], (f["reason_name"],) * 2), "en"),
            "explanation_es": f["explanation_es"], "explanation_en": f["explanation_en"],
            "suggestion_es": f["suggestion_es"], "suggestion_en": f["suggestion_en"], "evidence": []})
        quote = (f["field"], f["evidence"])
        if quote not in group["evidence"]:
            group["evidence"].append(quote)
    return sorted(groups.values(), key=lambda g: order.get(g["reason"] or g["flag"], 99))


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and np.isnan(value)


def _display(value: Any) -> str:
    return _shorten(" ".join(str(value).split()), 160)


def _row_values(ad: pd.Series) -> dict[str, Any]:
    """What the table and the card header show of one ad."""
    def flag(column: str) -> bool | None:
        value = ad.get(column)
        return None if _missing(value) else bool(value)

    score = ad.get("alchemist_score")
    flags = [f for f in FLAGS if flag(f)]
    return {"ad_id": str(ad["ad_id"]), "title": "" if _missing(ad["title"]) else str(ad["title"]),
            "status": str(ad["status"]), "error": "" if _missing(ad["error"]) else str(ad["error"]),
            "warning": "" if _missing(ad.get("warning")) else str(ad.get("warning")),
            "is_cm": flag("is_cm_role"), "orientation": str(ad["orientation"]), "n_duties": int(ad["n_duties"]),
            "score": None if _missing(score) else float(score), "flags": flags,
            "reasons": "" if _missing(ad.get("alchemist_reasons")) else str(ad["alchemist_reasons"])}


def priority_order(ads: pd.DataFrame) -> np.ndarray:
    """Row positions, highest alchemist score first, then input order (unscored ads last)."""
    score = ads["alchemist_score"].astype(float).fillna(-1.0).to_numpy()
    return np.lexsort((np.arange(len(ads)), -score))


def _grouping_columns(ads: pd.DataFrame, group_by: Sequence[str] | None) -> list[str]:
    """The breakdowns to show: those asked for, or source / country / month when present and varied."""
    if group_by is not None:
        return list(group_by)
    chosen = []
    for column in GROUP_CANDIDATES:
        try:
            values = group_keys(ads, column)[column]
        except KeyError:
            continue
        if values.nunique() > 1:
            chosen.append(column)
    return chosen


def _fmt_number(value: float, lang: str) -> str:
    text = f"{int(round(value)):,}"
    return text.replace(",", "\u202f") if lang != "en" else text


def _fmt_pct(value: float, lang: str, digits: int = 1) -> str:
    if value is None or np.isnan(value):
        return "–"
    text = f"{value * 100:.{digits}f}"
    return (text.replace(".", ",") + "\u202f%") if lang != "en" else text + "%"


def _figure_row(metric: str, row: pd.Series, lang: str) -> dict[str, Any]:
    """One summary row, formatted for the page."""
    is_count = metric.startswith("n_")
    has_ci = not is_count and not np.isnan(row["ci_low"])
    es, en = METRIC_NAMES.get(metric, (metric, metric))
    pop_es, pop_en = POPULATION_NAMES.get(str(row["population"]), (row["population"],) * 2)
    return {"metric": metric, "name_es": es, "name_en": en, "pop_es": pop_es, "pop_en": pop_en,
            "value": _fmt_number(row["value"], lang) if is_count else _fmt_pct(row["value"], lang),
            "ci": f"{_fmt_pct(row['ci_low'], lang)} – {_fmt_pct(row['ci_high'], lang)}" if has_ci else "",
            "n": _fmt_number(row["n"], lang)}


def _kpis(summary: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    rows = summary.set_index("metric")
    keys = ["n_ads", "n_ok", "n_cm_ads", "alchemist_rate_cm", "follower_credential_rate_cm", "hype_title_rate_cm"]
    share = _figure_row("cm_share", rows.loc["cm_share"], lang)
    return [{**_figure_row(k, rows.loc[k], lang), "colour": COLOURS.get(k.replace("_rate_cm", ""), "#1F2A44"),
             "share": share if k == "n_cm_ads" else None} for k in keys]


_BREAKDOWN_METRICS = ("n_ads", "n_cm_ads", "orientation_marketing_sales", "orientation_communication_conversation",
                      "alchemist_rate_cm", "follower_credential_rate_cm", "hype_title_rate_cm")


def _breakdown_table(summary: pd.DataFrame, column: str, lang: str, max_groups: int) -> dict[str, Any]:
    """Key figures per group, the largest groups first (months in time order)."""
    wide = summary.pivot(index=column, columns="metric", values="value")
    lows = summary.pivot(index=column, columns="metric", values="ci_low")
    highs = summary.pivot(index=column, columns="metric", values="ci_high")
    order = wide.sort_index() if column == "month" else wide.sort_values("n_ads", ascending=False, kind="stable")
    shown = order.index[:max_groups]
    rows = []
    for group in shown:
        cells = []
        for metric in _BREAKDOWN_METRICS:
            value = wide.loc[group, metric]
            if metric.startswith("n_"):
                cells.append({"value": _fmt_number(value, lang), "ci": ""})
            else:
                ci = "" if np.isnan(lows.loc[group, metric]) else \
                    f"{_fmt_pct(lows.loc[group, metric], lang, 0)}–{_fmt_pct(highs.loc[group, metric], lang, 0)}"
                cells.append({"value": _fmt_pct(value, lang, 0), "ci": ci})
        rows.append({"group": str(group), "cells": cells})
    headers = [METRIC_NAMES[m] for m in _BREAKDOWN_METRICS]
    return {"rows": rows, "headers": headers, "total": len(order), "shown": len(shown)}


def _charts(analysis: Any, summary: pd.DataFrame, by_summaries: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Every chart of the dashboard as inline SVG: the corpus, then one set per grouping column."""
    svg = figure_svg
    charts = {
        "orientation": svg(plot_orientation(analysis, summary=summary), "c-orientation",
                           "Orientación de los anuncios de CM / Orientation of CM ads"),
        "alchemist": svg(plot_alchemist(analysis, summary=summary), "c-alchemist",
                         "Anuncios alquimista y sus motivos / Alchemist ads and their reasons"),
        "flags": svg(plot_flags(analysis, summary=summary), "c-flags",
                     "Seguidores como credencial y títulos inflados / Followers as credential and hype titles"),
        "top_terms": svg(plot_top_duties(analysis, 10, unit="terms"), "c-terms",
                         "Términos más frecuentes por etiqueta / Most frequent terms per label"),
        "by": {},
    }
    for column, by_summary in by_summaries.items():
        charts["by"][column] = {
            "orientation": svg(plot_orientation(analysis, column, summary=by_summary), f"c-{column}-o",
                               f"Orientación por {column} / Orientation by {column}"),
            "alchemist": svg(plot_alchemist(analysis, column, summary=by_summary), f"c-{column}-a",
                             f"Alquimista por {column} / Alchemist by {column}"),
            "flags": svg(plot_flags(analysis, column, summary=by_summary), f"c-{column}-f",
                         f"Seguidores y títulos por {column} / Followers and titles by {column}"),
        }
    return charts


def _environment() -> jinja2.Environment:
    # autoescape=True for every template: ad text and titles are untrusted.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["name"] = name
    return env


def render_html(analysis: Any, path: str | Path | None = None, *, max_cards: int = 500, max_rows: int = 5000,
                lang: str = "es", title: str = DEFAULT_TITLE, group_by: Sequence[str] | None = None,
                n_boot: int = 1000, seed: int = 0) -> str:
    """The report as one self-contained HTML page (written to ``path`` when given); returns the HTML.

    The page holds (a) a dashboard of the corpus (counts, orientation, alchemist rate and reasons,
    follower and hype rates, most frequent duties, breakdowns by ``group_by``, by default the
    ``source``, ``country`` and month of ``date`` columns when present) with 95 % bootstrap
    intervals from :func:`cmclassify.aggregate.summarise`; (b) a sortable, filterable table of the
    ads (at most ``max_rows``); (c) one card per ad (at most ``max_cards``): its cleaned text with
    every duty highlighted in its label's colour, the evidence of each flag marked, explanations and
    suggestions. When capped, the ads with the highest alchemist score come first, then input
    order, and the page says so. ``lang`` (``"es"``, ``"en"`` or ``"both"``) is the language shown
    first; a toggle on the page switches it. Works offline: nothing is fetched from the network.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    ads = analysis.ads
    summary = summarise(analysis, n_boot=n_boot, seed=seed)
    columns = _grouping_columns(ads, group_by)
    by_summaries = {column: summarise(analysis, by=column, n_boot=n_boot, seed=seed) for column in columns}
    order = priority_order(ads)
    extra = [c for c in ads.columns if c not in _AD_CORE and ads[c].map(_is_scalar).all()]
    context = {
        "title": title, "lang": lang, "generated": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "version": _version(), "n_ads": len(ads), "kpis": _kpis(summary, lang),
        "figures": [_figure_row(row["metric"], row, lang) for _, row in summary.iterrows()],
        "statuses": _status_counts(ads, lang), "charts": _charts(analysis, summary, by_summaries),
        "top_duties": _top_duty_lists(analysis),
        "breakdowns": [{"column": c, "table": _breakdown_table(by_summaries[c], c, lang, 25)} for c in columns],
        "group_columns": [c for c in ("source", "country") if c in ads.columns],
        "rows": _table_rows(ads, order[:max_rows], set(order[:max_cards].tolist())),
        "max_cards": max_cards, "cards": _cards(analysis, order[:max_cards], extra),
        "orientations": ORIENTATIONS, "n_boot": n_boot,
        "fmt_number": lambda v: _fmt_number(v, lang), **_assets(),
    }
    html = _environment().get_template("report.html.j2").render(**context)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(html, encoding="utf-8")
    return html


def _assets() -> dict[str, Any]:
    """Our own CSS and script, and the script's hash for the page's Content-Security-Policy: with it,
    the browser runs that one script and nothing else (no other inline script, no onerror=…)."""
    script = (_TEMPLATES / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return {"css": Markup((_TEMPLATES / "report.css").read_text(encoding="utf-8")), "script": Markup(script),
            "script_hash": f"sha256-{digest}"}


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, np.generic, pd.Timestamp)) or value is pd.NA


def _version() -> str:
    from . import __version__

    return __version__


def _status_counts(ads: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    counts = ads["status"].value_counts()
    return [{"status": s, "count": _fmt_number(counts[s], lang)} for s in ("ok", "empty", "not_spanish", "garbled",
                                                                           "error") if s in counts]


def _top_duty_lists(analysis: Any) -> list[dict[str, Any]]:
    table = top_duties(analysis, 10, unit="text")
    return [{"label": label, "items": table[table["label"] == label].to_dict("records")} for label in LABELS]


def _table_rows(ads: pd.DataFrame, positions: np.ndarray, with_card: set[int]) -> list[dict[str, Any]]:
    group_columns = [c for c in ("source", "country") if c in ads.columns]
    rows = []
    for position in positions.tolist():
        ad = ads.iloc[position]
        row = _row_values(ad)
        row.update(position=position + 1, anchor=f"ad-{position}" if position in with_card else "",
                   groups=["" if _missing(ad[c]) else _display(ad[c]) for c in group_columns])
        rows.append(row)
    return rows


def _cards(analysis: Any, positions: np.ndarray, extra: Sequence[str]) -> list[dict[str, Any]]:
    ads = analysis.ads
    ids = set(ads["ad_id"].iloc[positions].astype(str))
    duties = {k: g for k, g in analysis.duties[analysis.duties["ad_id"].isin(ids)].groupby("ad_id", sort=False)}
    findings = {k: g for k, g in analysis.findings[analysis.findings["ad_id"].isin(ids)].groupby("ad_id", sort=False)}
    empty_duties, empty_findings = analysis.duties.iloc[:0], analysis.findings.iloc[:0]
    cards = []
    for position in positions.tolist():
        ad = ads.iloc[position]
        ad_id = str(ad["ad_id"])
        cards.append(_card(position, ad, duties.get(ad_id, empty_duties).sort_values("start"),
                           findings.get(ad_id, empty_findings), extra))
    return cards


__all__ = ["plot", "plot_orientation", "plot_alchemist", "plot_flags", "plot_top_duties", "plot_rates_by",
           "top_duties", "render_html", "figure_svg", "highlight", "priority_order", "name", "COLOURS", "PLOTS"]
