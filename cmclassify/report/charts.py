"""Charts of a corpus: matplotlib figures made without pyplot (no display needed), and inline SVG.

In a notebook, ``%matplotlib inline`` shows them. Every chart takes the summary
of :func:`cmclassify.aggregate.summarise`, or computes it.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from markupsafe import Markup, escape
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ..aggregate import METRICS, summarise
from ..vocabulary import LABELS, ORIENTATIONS
from .content import top_duties
from .names import COLOURS, METRIC_NAMES, NAMES, REASON_LETTERS, fmt_pct, name, pick, shorten

_STYLE = {"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial"],
          "font.size": 9.5, "axes.titlesize": 10.5,
          "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#888888",
          "axes.labelcolor": "#333333", "xtick.color": "#444444", "ytick.color": "#333333",
          "legend.frameon": False, "svg.fonttype": "none", "svg.hashsalt": "cmclassify",
          "text.parse_math": False}  # a "$" in a title, source or country is text, not mathtext


HALF, WIDE = 6.2, 12.0  # figure widths (inches) that fill half / all of the report's width


def _title(es: str, en: str, lang: str) -> str:
    """A chart title: one language, or Spanish over English."""
    return f"{es}\n{en}" if lang == "both" and es != en else pick(es, en, lang)


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
        return pick(f"{len(self.keys)} de {self.total} grupos: los de más anuncios",
                     f"{len(self.keys)} of {self.total} groups: the largest", lang)


def _groups(summary: pd.DataFrame, by: Sequence[str], max_groups: int, size_metric: str = "n_cm_ads") -> _Groups:
    present = summary[(summary["metric"] == size_metric) & (summary["value"] > 0)]
    if list(by) == ["month"]:
        shown = present.sort_values("month").tail(max_groups)  # the latest months, in time order
    else:
        shown = present.sort_values(["value", *by], ascending=[False, *[True] * len(by)]).head(max_groups)
    keys = [tuple(str(v) for v in row) for row in shown[list(by)].itertuples(index=False)]
    labels = [f"{shorten(' · '.join(key), 28)} (n={int(n)})" for key, n in zip(keys, shown["value"])]
    return _Groups(keys, labels, len(present), summary.set_index([*by, "metric"]).sort_index())


def _errors(values: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> np.ndarray:
    """Asymmetric error-bar lengths; zero where there is no interval."""
    below = np.nan_to_num(values - lows, nan=0.0).clip(min=0)
    above = np.nan_to_num(highs - values, nan=0.0).clip(min=0)
    return np.vstack([below, above])


def _rate_bars(ax: Any, labels: Sequence[str], values: np.ndarray, lows: np.ndarray, highs: np.ndarray,
               colours: Sequence[str] | str, ns: Sequence[int] | None = None, lang: str = "both") -> None:
    """Horizontal bars of shares with their confidence intervals, labelled with the share (and n)."""
    y = np.arange(len(labels))
    ax.barh(y, np.nan_to_num(values), color=colours, height=0.62, zorder=2)
    ax.errorbar(np.nan_to_num(values), y, xerr=_errors(values, lows, highs), fmt="none", ecolor="#333333",
                elinewidth=1, capsize=3, zorder=3)
    for i, value in enumerate(values):
        end = 0.0 if np.isnan(value) else float(np.nanmax([value, highs[i]]))
        text = "–" if np.isnan(value) else fmt_pct(value, "en" if lang == "en" else "es", 0)
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
    ax.text(0.5, 0.5, pick("Sin datos", "No data", lang), ha="center", va="center", transform=ax.transAxes,
            color="#777777", fontsize=11)
    ax.set_axis_off()


def _footnote(fig: Figure, lang: str, extra: str = "") -> None:
    """The interval note (and e.g. which groups are shown) under the chart."""
    note = pick("Barras negras: intervalo de confianza del 95 % (bootstrap; Wilson en 0 % y 100 %)",
                 "Black bars: 95% confidence interval (bootstrap; Wilson at 0% and 100%)", lang)
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
                   rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float), [COLOURS[o] for o in ORIENTATIONS],
                   rows["n"].astype(int).tolist(), lang)
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
                   COLOURS["alchemist"], rows["n"].astype(int).tolist()[:2], lang)
        left.set_title(_title("Anuncios «alquimista»", "“Alchemist” ads", lang))
        _rate_bars(right, [f"{letter} · {_tick(letter, lang)}" for letter in REASON_LETTERS], values[2:], lows[2:],
                   highs[2:], "#A77BC4", rows["n"].astype(int).tolist()[2:], lang)
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
               groups.values("alchemist_rate_cm", "ci_high"), COLOURS["alchemist"],
               [int(v) for v in groups.values("alchemist_rate_cm", "n")], lang)
    grid = np.vstack([groups.values(metric) for metric in reasons]).T
    right.imshow(np.nan_to_num(grid), cmap="Purples", vmin=0, vmax=max(0.5, float(np.nanmax(grid, initial=0))),
                 aspect="auto")
    for (i, j), value in np.ndenumerate(grid):
        right.text(j, i, "–" if np.isnan(value) else f"{value:.0%}", ha="center", va="center", fontsize=8,
                   color="white" if value > 0.3 else "#222222")
    right.set_xticks(range(len(REASON_LETTERS)), REASON_LETTERS)
    right.set_yticks(range(len(groups.keys)), [shorten(" · ".join(k), 28) for k in groups.keys])
    right.tick_params(length=0)
    for spine in right.spines.values():
        spine.set_visible(False)
    _footnote(fig, lang, groups.note(lang))
    return fig


@_styled
def plot_flags(analysis: Any, by: str | Sequence[str] | None = None, *, lang: str = "both",
               max_groups: int = 12, summary: pd.DataFrame | None = None, n_boot: int = 1000) -> Figure:
    """Followers asked as a credential, hype titles (experto, gurú, ninja…) and discriminatory
    requirements, with 95 % intervals.

    Without ``by``: each rate among analysed ads and among CM ads. With ``by``: each rate among CM
    ads, per group.
    """
    summary = _summary_for(analysis, by, summary, n_boot)
    flags = ("follower_credential", "hype_title", "discriminatory_requirement")
    if by is None:
        fig, axes = _figure(HALF, 5.6, nrows=len(flags))
        for ax, flag in zip(axes, flags):
            rows = _metric_rows(summary, [f"{flag}_rate", f"{flag}_rate_cm"])
            _rate_bars(ax, [_tick("analysed_ads", lang), _tick("cm_ads", lang)], rows["value"].to_numpy(float),
                       rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float), COLOURS[flag],
                       rows["n"].astype(int).tolist(), lang)
            ax.set_title(_tick(flag, lang))
        _footnote(fig, lang)
        return fig
    groups = _groups(summary, _by_columns(by), max_groups)
    fig, axes = _figure(WIDE, len(flags) * (1.2 + 0.3 * max(len(groups.keys), 1)), nrows=len(flags))
    for ax, flag in zip(axes, flags):
        es, en = NAMES[flag]
        ax.set_title(_title(f"{es} (anuncios de CM)", f"{en} (CM ads)", lang))
        if not groups.keys:
            _no_data(ax, lang)
            continue
        metric = f"{flag}_rate_cm"
        _rate_bars(ax, groups.labels, groups.values(metric), groups.values(metric, "ci_low"),
                   groups.values(metric, "ci_high"), COLOURS[flag], [int(v) for v in groups.values(metric, "n")], lang)
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
    _rate_bars(ax, [shorten(" · ".join(k), 28) for k in groups.keys], groups.values(metric),
               groups.values(metric, "ci_low"), groups.values(metric, "ci_high"), colour, ns, lang)
    _footnote(fig, lang, groups.note(lang))
    return fig


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
        ax.set_yticks(y, [shorten(item, 34 if unit == "text" else 24) for item in part["item"]], fontsize=8.5)
        ax.set_ylim(rows_per_panel - 0.5, -0.5)
        ax.tick_params(axis="y", length=0)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(axis="x", color="#E5E5E5", zorder=0)
    what_es, what_en = ("Las tareas", "duties") if unit == "text" else ("Los términos (lemas)", "terms (lemmas)")
    where_es, where_en = (" en los anuncios de CM", " in CM ads") if cm_only else ("", "")
    es, en = f"{what_es} más frecuentes de cada etiqueta{where_es}", f"Most frequent {what_en} of each label{where_en}"
    fig.suptitle(f"{es} · {en}" if lang == "both" else pick(es, en, lang), fontweight="bold", fontsize=11)
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


