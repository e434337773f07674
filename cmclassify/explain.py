"""Stage 8, reporting for one ad: a plain-language account of it, for ``Analysis.explain()``."""

from __future__ import annotations

import textwrap

import pandas as pd

from .report.content import accented_forms, with_accents
from .report.names import fmt_pct, name

_LABELS = {
    "en": {"marketing_sales": "selling", "communication_conversation": "conversation", "other": "other"},
    "es": {"marketing_sales": "venta", "communication_conversation": "conversación", "other": "otra"},
}
_TEXT = {
    "en": {"cm": "a community-manager / social-media role", "not_cm": "not a community-manager role",
           "orientation": "Orientation", "duties": "Duties", "flags": "Findings", "none": "No flags.",
           "why": "why", "suggestion": "Suggestion", "status": "Not analysed"},
    "es": {"cm": "un puesto de community manager / redes sociales", "not_cm": "no es un puesto de community manager",
           "orientation": "Orientación", "duties": "Tareas", "flags": "Hallazgos", "none": "Sin alertas.",
           "why": "por", "suggestion": "Sugerencia", "status": "No analizado"},
}


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent + "  ")


def explain_ad(ad: pd.Series, duties: pd.DataFrame, findings: pd.DataFrame, lang: str = "en") -> str:
    if lang not in _TEXT:
        raise ValueError(f"lang must be 'en' or 'es', not {lang!r}")
    words, labels = _TEXT[lang], _LABELS[lang]
    lines = [f"{ad['title'] or ad['ad_id']} ({ad['ad_id']})"]
    if ad["status"] != "ok":
        return "\n".join(lines + [f"{words['status']}: {ad['status']} - {ad['error']}"])
    shares = ", ".join(f"{labels[label]} {fmt_pct(ad[f'share_{label}'], lang, 0)}" for label in labels)
    lines.append(f"{words['cm'] if ad['is_cm_role'] else words['not_cm']}; "
                 f"{words['orientation']}: {name(ad['orientation'], lang).lower()} ({shares})")
    lines += ["", f"{words['duties']} ({len(duties)}):"]
    for duty in duties.itertuples():
        probability = getattr(duty, f"p_{duty.label}")
        evidence = with_accents(duty.evidence, accented_forms([duty.text])) if duty.evidence else ""
        why = f" - {words['why']}: {evidence}" if evidence else ""
        lines.append(_wrap(f"[{labels[duty.label]} {fmt_pct(probability, lang, 0)}] {duty.text}{why}", "  "))
    lines += ["", f"{words['flags']}:"]
    if findings.empty:
        lines.append("  " + words["none"])
    for (flag, reason), group in findings.groupby(["flag", "reason"], sort=False):
        first = group.iloc[0]
        heading = f"{flag} {reason} ({first['reason_name']})" if reason else flag
        lines.append(f"  {heading}: {first[f'explanation_{lang}']}")
        for evidence in group["evidence"]:
            lines.append(_wrap(f"> {evidence}", "    "))
        lines.append(_wrap(f"{words['suggestion']}: {first[f'suggestion_{lang}']}", "    "))
    return "\n".join(lines)
