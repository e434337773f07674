"""What the report shows: the highlighted text of each ad, cards, the table of ads, key figures,
breakdowns and the most frequent duties, prepared from an analysis for the HTML template."""

from __future__ import annotations

from collections import Counter
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..aggregate import group_keys
from ..clean import fold
from ..nlp import SimplemmaLemmatizer
from ..vocabulary import GROUNDS, LABELS
from .names import COLOURS, METRIC_NAMES, NAMES, POPULATION_NAMES, REASON_LETTERS, REPORT_FLAGS, fmt_number, fmt_pct, name, pick, shorten

GROUP_CANDIDATES = ("source", "country", "month")
_WORD = re.compile(r"\w+")


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
            counts = _grouped(_normalise_duty(t) for t in texts)
        else:
            accented = accented_forms(duties.loc[duties["label"] == label, "text"].dropna().astype(str))
            counts = Counter(with_accents(term, accented) for terms in texts for term in terms.split(";")
                             if term.strip())
        counts.pop("", None)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]
        rows += [{"label": label, "item": item, "count": count} for item, count in ranked]
    return pd.DataFrame(rows, columns=["label", "item", "count"])


def _normalise_duty(text: str) -> str:
    text = " ".join(text.split()).strip(" .;:,-–•·*").lower()
    return text[:1].upper() + text[1:]


def _grouped(texts: Iterable[str]) -> Counter[str]:
    """Duty texts counted by their words without accents or punctuation ("Diseñar piezas (Canva)" and
    "disenar piezas canva" are one duty), each group shown in its most frequent spelling."""
    groups: dict[str, Counter[str]] = {}
    for text in texts:
        groups.setdefault(" ".join(_WORD.findall(fold(text))), Counter())[text] += 1
    return Counter({spellings.most_common(1)[0][0]: sum(spellings.values())
                    for key, spellings in groups.items() if key})


_LEMMATIZER = SimplemmaLemmatizer()


def accented_forms(texts: Iterable[str]) -> dict[str, str]:
    """Evidence terms are accent-folded lemmas ("campana"); the form to show is the lemma with its accents
    ("campaña"), as it is written in ``texts`` (the duties)."""
    seen: Counter[tuple[str, str]] = Counter()
    for text in texts:
        for word in _WORD.findall(text.lower()):
            lemma, norm = _LEMMATIZER.lemma_and_norm(word)
            seen[(norm, lemma)] += 1
    forms: dict[str, str] = {}
    for (norm, lemma), _ in seen.most_common():
        forms.setdefault(norm, lemma)
    return forms


def with_accents(terms: str, forms: dict[str, str]) -> str:
    """``terms`` ("; "-separated evidence lemmas) written with their accents (see :func:`accented_forms`)."""
    return "; ".join(" ".join(forms.get(w, w) for w in term.split()) for term in terms.split(";") if term.strip())


# Columns of .ads shown elsewhere on a card; any other scalar column is listed in its header.
_AD_CORE = frozenset({"ad_id", "title", "status", "error", "warning", "n_duties", "clean_text",
                      "share_marketing_sales", "share_communication_conversation", "share_other", "orientation",
                      "is_cm_role", "alchemist", "alchemist_score", "alchemist_reasons", "n_functions", "functions",
                      "follower_credential", "hype_title", "discriminatory_requirement", "discrimination_grounds",
                      "language", "description"})
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
    if finding["flag"] == "discriminatory_requirement":
        return "R"
    return finding["reason"] or {"follower_credential": "F", "hype_title": "H"}.get(finding["flag"], "!")


def _finding_tip(finding: dict[str, Any], lang: str = "both") -> str:
    key = finding["reason"] or finding["flag"]
    return f"{name(finding['flag'], lang)} {key}: {name(key, lang)}" if finding["reason"] else name(key, lang)


def highlight(text: str, duties: Sequence[dict[str, Any]], findings: Sequence[dict[str, Any]],
              lang: str = "both") -> list[_Block]:
    """Cut ``text`` into blocks (one per duty, and the text between) and parts (one per set of
    findings covering them), using the offsets of the duties and of the findings; the parts' tips
    name the findings in ``lang``."""
    length = len(text)
    duty_spans = sorted((b, d) for d in duties if (b := _span_bounds(d["start"], d["end"], length)))
    finding_spans = [(b, f) for f in findings if (b := _span_bounds(f["start"], f["end"], length))]
    cuts = sorted({0, length, *(x for (b, _) in duty_spans + finding_spans for x in b)})
    blocks: list[_Block] = []
    for a, b in zip(cuts, cuts[1:]):
        duty = next((d for (s, e), d in duty_spans if s <= a and b <= e), None)
        covering = [f for (s, e), f in finding_spans if s <= a and b <= e]
        flags = sorted({f["flag"] for f in covering})
        tip = "\n".join(dict.fromkeys(_finding_tip(f, lang) for f in covering))
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
    evidence = with_accents(duty.get("evidence") or "", accented_forms([str(duty["text"])]))
    tip = f"{name(label)} · p={float(probability):.2f}" if probability == probability else name(label)
    if evidence:
        tip += f"\n{pick('evidencia', 'evidence', 'both')}: {evidence}"
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
    order = {key: i for i, key in enumerate([*REASON_LETTERS, "follower_credential", "hype_title", *GROUNDS])}
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for f in records:
        group = groups.setdefault((f["flag"], f["reason"]), {
            "flag": f["flag"], "reason": f["reason"], "mark": _finding_mark(f),
            "name_es": pick(*NAMES.get(f["reason"] or f["flag"], (f["reason_name"],) * 2), "es"),
            "name_en": pick(*NAMES.get(f["reason"] or f["flag"], (f["reason_name"],) * 2), "en"),
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
    return shorten(" ".join(str(value).split()), 160)


def _row_values(ad: pd.Series) -> dict[str, Any]:
    """What the table and the card header show of one ad."""
    def flag(column: str) -> bool | None:
        value = ad.get(column)
        return None if _missing(value) else bool(value)

    score = ad.get("alchemist_score")
    flags = [f for f in REPORT_FLAGS if flag(f)]
    return {"ad_id": str(ad["ad_id"]), "title": "" if _missing(ad["title"]) else str(ad["title"]),
            "status": str(ad["status"]), "error": "" if _missing(ad["error"]) else str(ad["error"]),
            "warning": "" if _missing(ad.get("warning")) else str(ad.get("warning")),
            "is_cm": flag("is_cm_role"), "orientation": str(ad["orientation"]), "n_duties": int(ad["n_duties"]),
            "score": None if _missing(score) else float(score), "flags": flags,
            "reasons": "" if _missing(ad.get("alchemist_reasons")) else str(ad["alchemist_reasons"])}


def priority_order(ads: pd.DataFrame) -> np.ndarray:
    """Row positions: the CM ads first, then the other analysed ads, then those not analysed; within
    each, highest alchemist score first, then input order."""
    score = ads["alchemist_score"].astype(float).fillna(-1.0).to_numpy()
    ok = (ads["status"] == "ok").to_numpy(dtype=bool)
    cm = ok & ads["is_cm_role"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    tier = np.where(cm, 0, np.where(ok, 1, 2))
    return np.lexsort((np.arange(len(ads)), -score, tier))


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


def _figure_row(metric: str, row: pd.Series, lang: str) -> dict[str, Any]:
    """One summary row, formatted for the page."""
    is_count = metric.startswith("n_")
    has_ci = not is_count and not np.isnan(row["ci_low"])
    es, en = METRIC_NAMES.get(metric, (metric, metric))
    pop_es, pop_en = POPULATION_NAMES.get(str(row["population"]), (row["population"],) * 2)
    return {"metric": metric, "name_es": es, "name_en": en, "pop_es": pop_es, "pop_en": pop_en,
            "value": fmt_number(row["value"], lang) if is_count else fmt_pct(row["value"], lang),
            "ci": f"{fmt_pct(row['ci_low'], lang)} – {fmt_pct(row['ci_high'], lang)}" if has_ci else "",
            "n": fmt_number(row["n"], lang)}


def _kpis(summary: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    rows = summary.set_index("metric")
    keys = ["n_ads", "n_ok", "n_cm_ads", "alchemist_rate_cm", "follower_credential_rate_cm", "hype_title_rate_cm",
            "discriminatory_requirement_rate_cm"]
    share = _figure_row("cm_share", rows.loc["cm_share"], lang)
    return [{**_figure_row(k, rows.loc[k], lang),
             "colour": COLOURS.get(k.removesuffix("_cm").removesuffix("_rate"), "#1F2A44"),
             "share": share if k == "n_cm_ads" else None} for k in keys]


_BREAKDOWN_METRICS = ("n_ads", "n_cm_ads", "orientation_marketing_sales", "orientation_communication_conversation",
                      "alchemist_rate_cm", "follower_credential_rate_cm", "hype_title_rate_cm",
                      "discriminatory_requirement_rate")


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
                cells.append({"value": fmt_number(value, lang), "ci": ""})
            else:
                ci = "" if np.isnan(lows.loc[group, metric]) else \
                    f"{fmt_pct(lows.loc[group, metric], lang, 0)}–{fmt_pct(highs.loc[group, metric], lang, 0)}"
                cells.append({"value": fmt_pct(value, lang, 0), "ci": ci})
        rows.append({"group": str(group), "cells": cells})
    headers = [METRIC_NAMES[m] for m in _BREAKDOWN_METRICS]
    return {"rows": rows, "headers": headers, "total": len(order), "shown": len(shown)}


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, np.generic, pd.Timestamp)) or value is pd.NA


def _status_counts(ads: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    counts = ads["status"].value_counts()
    return [{"status": s, "count": fmt_number(counts[s], lang)} for s in ("ok", "empty", "not_spanish", "garbled",
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


