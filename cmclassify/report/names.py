"""What the report calls things, in Spanish and English, and how it writes numbers."""

from __future__ import annotations

import numpy as np

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
    "discriminatory_requirement": ("Requisito discriminatorio", "Discriminatory requirement"),
    "sex": ("Sexo o género", "Sex or gender"),
    "age": ("Edad", "Age"),
    "appearance": ("Apariencia física", "Appearance"),
    "civil_status": ("Estado civil", "Civil status"),
    "origin": ("Nacionalidad u origen", "Origin"),
    "religion": ("Religión", "Religion"),
    "health": ("Salud", "Health"),
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
    "discriminatory_requirement_rate": ("Requisito discriminatorio, entre todos", "Discriminatory requirement, all ads"),
    "discriminatory_requirement_rate_cm": ("Requisito discriminatorio, anuncios de CM",
                                           "Discriminatory requirement, CM ads"),
}
POPULATION_NAMES: dict[str, tuple[str, str]] = {
    "all": ("todos los anuncios", "all ads"), "ok": ("anuncios analizados", "analysed ads"),
    "cm": ("anuncios de CM", "CM ads"), "cm_with_duties": ("anuncios de CM con tareas", "CM ads with duties"),
}
# Okabe–Ito colours (safe for colour-blind readers); tints for highlighting text.
COLOURS = {"marketing_sales": "#D55E00", "communication_conversation": "#0072B2", "other": "#8A8A8A",
           "mixed": "#CC79A7", "undetermined": "#CFCFCF", "alchemist": "#7A3E9D",
           "follower_credential": "#E69F00", "hype_title": "#009E73", "discriminatory_requirement": "#CC3311"}
REASON_LETTERS = ("A", "B", "C", "D", "E")
REPORT_FLAGS = ("alchemist", "follower_credential", "hype_title", "discriminatory_requirement")


def name(key: str, lang: str = "both") -> str:
    """A readable name for a label, orientation, flag, reason letter or status: Spanish, English or both."""
    es, en = NAMES.get(key, METRIC_NAMES.get(key, (key, key)))
    return pick(es, en, lang)


def pick(es: str, en: str, lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    if lang == "es" or es == en:
        return es
    return en if lang == "en" else f"{es} / {en}"




def fmt_number(value: float, lang: str) -> str:
    text = f"{int(round(value)):,}"
    return text.replace(",", "\u202f") if lang != "en" else text


def fmt_pct(value: float, lang: str, digits: int = 1) -> str:
    if value is None or np.isnan(value):
        return "–"
    text = f"{value * 100:.{digits}f}"
    return (text.replace(".", ",") + "\u202f%") if lang != "en" else text + "%"


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"
