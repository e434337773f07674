"""The HTML report: one self-contained page (styles, the table script and the charts are inside).

It works offline. Ad text is untrusted: the template escapes every piece of it
(Jinja2 autoescaping), so nothing in an ad can run as markup or script; the only
unescaped markup is the SVG matplotlib writes, checked for active content.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from ..aggregate import summarise
from ..vocabulary import ORIENTATIONS
from .charts import figure_svg, plot_alchemist, plot_flags, plot_orientation, plot_top_duties
from .content import (DEFAULT_TITLE, _AD_CORE, _breakdown_table, _cards, _figure_row, _grouping_columns, _is_scalar,
                      _kpis, _status_counts, _table_rows, _top_duty_lists, priority_order)
from .names import LANGS, fmt_number, name, pick


def _templates() -> Path:
    return Path(str(resources.files("cmclassify.report") / "templates"))


def _version() -> str:
    from .. import __version__

    return __version__


def _charts(analysis: Any, summary: pd.DataFrame, by_summaries: dict[str, pd.DataFrame],
            lang: str = "both") -> dict[str, Any]:
    """Every chart of the dashboard as inline SVG: the corpus, then one set per grouping column.

    With ``lang="both"`` each chart carries both languages; otherwise each is drawn in Spanish and in
    English, the page showing the one of its language toggle (``lang`` first)."""
    langs = ("both",) if lang == "both" else ("es", "en")

    def svg(draw: Any, chart_id: str, es: str, en: str) -> Any:
        if len(langs) == 1:
            return figure_svg(draw("both"), chart_id, pick(es, en, "both"))
        return Markup("").join(Markup('<div class="{}" lang="{}">{}</div>').format(
            code, code, figure_svg(draw(code), f"{chart_id}-{code}", pick(es, en, code))) for code in langs)

    charts = {
        "orientation": svg(lambda code: plot_orientation(analysis, summary=summary, lang=code), "c-orientation",
                           "Orientación de los anuncios de CM", "Orientation of CM ads"),
        "alchemist": svg(lambda code: plot_alchemist(analysis, summary=summary, lang=code), "c-alchemist",
                         "Anuncios alquimista y sus motivos", "Alchemist ads and their reasons"),
        "flags": svg(lambda code: plot_flags(analysis, summary=summary, lang=code), "c-flags",
                     "Seguidores como credencial, títulos inflados y requisitos discriminatorios",
                     "Followers as credential, hype titles and discriminatory requirements"),
        "top_terms": svg(lambda code: plot_top_duties(analysis, 10, unit="terms", lang=code), "c-terms",
                         "Términos más frecuentes por etiqueta", "Most frequent terms per label"),
        "by": {},
    }
    for column, by_summary in by_summaries.items():
        es, en = name(column, "es").lower(), name(column, "en").lower()
        charts["by"][column] = {
            "orientation": svg(lambda code: plot_orientation(analysis, column, summary=by_summary, lang=code),
                               f"c-{column}-o", f"Orientación por {es}", f"Orientation by {en}"),
            "alchemist": svg(lambda code: plot_alchemist(analysis, column, summary=by_summary, lang=code),
                             f"c-{column}-a", f"Alquimista por {es}", f"Alchemist by {en}"),
            "flags": svg(lambda code: plot_flags(analysis, column, summary=by_summary, lang=code),
                         f"c-{column}-f", f"Seguidores y títulos por {es}", f"Followers and titles by {en}"),
        }
    return charts


def _environment() -> jinja2.Environment:
    # autoescape=True for every template: ad text and titles are untrusted.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_templates()), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["name"] = name
    env.filters["css_string"] = css_string
    return env


def css_string(text: str) -> Markup:
    """``text`` as a quoted CSS string, every character but letters, digits and spaces escaped."""
    return Markup('"{}"'.format("".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in str(text))))


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
    suggestions. The CM ads come first (then the other analysed ads, then those not analysed), each
    group by highest alchemist score, then input order; when capped, the page says so. ``lang`` (``"es"``, ``"en"`` or ``"both"``) is the language shown
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
    group_columns = [c for c in ("source", "country") if c in ads.columns]
    context = {
        "title": title, "lang": lang, "generated": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "version": _version(), "n_ads": len(ads), "kpis": _kpis(summary, lang),
        "figures": [_figure_row(row["metric"], row, lang) for _, row in summary.iterrows()],
        "statuses": _status_counts(ads, lang), "charts": _charts(analysis, summary, by_summaries, lang),
        "top_duties": _top_duty_lists(analysis),
        "breakdowns": [{"column": c, "table": _breakdown_table(by_summaries[c], c, lang, 25)} for c in columns],
        "group_columns": group_columns,
        "ad_columns": _ad_columns(group_columns),
        "rows": _table_rows(ads, order[:max_rows], set(order[:max_cards].tolist())),
        "max_cards": max_cards, "cards": _cards(analysis, order[:max_cards], extra),
        "orientations": ORIENTATIONS, "n_boot": n_boot,
        "fmt_number": lambda v: fmt_number(v, lang), **_assets(),
    }
    html = _environment().get_template("report.html.j2").render(**context)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(html, encoding="utf-8")
    return html


def _ad_columns(group_columns: Sequence[str]) -> list[tuple[str, str, str]]:
    """The ads table's columns as ``(sort type, Spanish, English)``, headers and phone labels alike."""
    return ([("num", "#", "#"), ("text", "ID", "ID"), ("text", "Título", "Title")]
            + [("text", name(c, "es"), name(c, "en")) for c in group_columns]
            + [("text", "Estado", "Status"), ("num", "CM", "CM"), ("text", "Orientación", "Orientation"),
               ("num", "Tareas", "Duties"), ("num", "Alquimista", "Alchemist"), ("text", "Motivos", "Reasons"),
               ("text", "Alertas", "Flags")])


def _assets() -> dict[str, Any]:
    """Our own CSS and script, and the script's hash for the page's Content-Security-Policy: with it,
    the browser runs that one script and nothing else (no other inline script, no onerror=…)."""
    script = (_templates() / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return {"css": Markup((_templates() / "report.css").read_text(encoding="utf-8")), "script": Markup(script),
            "script_hash": f"sha256-{digest}"}


