"""One ad reviewed for the person about to post it: the verdict in one line, the score explained, the
ad's text with its duties and evidence marked, and a ranked fix-first list whose every item quotes the
ad's sentence, says why in one line and proposes a concrete rewrite of it.

:func:`review_ad` analyses and reviews; :meth:`Review.to_html` gives one self-contained page (the one
``cmclassify review -o`` writes and ``cmclassify serve`` shows) and :meth:`Review.to_text` the same
review for a terminal. Ad text is untrusted: the page escapes it (Jinja2 autoescaping) and runs no script.
"""

from __future__ import annotations

import base64
import hashlib
import re
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from .flag import FlagRules
from .pipeline import analyse_text
from .read import MAX_TITLE
from .report.content import accented_forms, highlight, with_accents
from .report.names import COLOURS, fmt_number, fmt_pct, name, pick
from .rules import RewriteRules, bundled
from .vocabulary import LABELS

LANGS = ("es", "en")
MAX_TEXT = 20_000
"""The longest ad text reviewed, in characters (the analysis itself cuts there)."""

# Fix first what the law forbids, then what raises the alchemist score most (A and B weigh 0.55, C–E 0.3),
# then what does not enter the score.
_RANK = {"discriminatory_requirement": 0, "A": 1, "B": 2, "E": 3, "C": 4, "D": 5, "follower_credential": 6,
         "hype_title": 7}

_WORDS: dict[str, dict[str, str]] = {
    "es": {
        "page_title": "Revisión del anuncio", "cm": "Puesto de community manager", "not_cm": "No es un puesto de community manager",
        "orientation": "orientación", "flags": "alertas", "no_flags": "sin alertas", "not_analysed": "No se pudo analizar",
        "score": "Puntuación alquimista", "score_scale": "de 0 a 1", "score_none": "Nada la sube: ningún motivo de alquimista y menos de tres funciones.",
        "score_rule": "El anuncio se marca alquimista con el motivo A o el B, o con dos motivos cualesquiera.",
        "raised_by": "La suben", "functions": "{n} funciones distintas", "shares": "Reparto de las tareas",
        "of": "de", "duties": "tareas", "text": "El anuncio, con sus tareas y hallazgos marcados",
        "legend": "Cada tarea lleva su etiqueta entre corchetes; las frases con hallazgos van subrayadas y con su letra.",
        "fixes": "Corregir primero", "no_fixes": "No hay nada que corregir: el anuncio no tiene alertas.",
        "why": "Por qué", "in_ad": "Dice el anuncio", "rewrite": "Reescritura propuesta", "remove": "Quite la frase entera.",
        "suggestion": "Sugerencia", "apply": "Aplicar esta corrección", "before_after": "Antes y después",
        "before": "Antes", "after": "Después", "changed": "cambió", "same": "igual",
        "title": "Título", "ad": "Texto del anuncio", "lang": "Idioma", "score_button": "Analizar",
        "new": "Nuevo anuncio", "print": "Para imprimir: Ctrl+P (una o dos páginas A4).",
        "intro": "Pegue el título y el texto de un anuncio: verá qué pide, qué conviene corregir primero y cómo.",
        "ad_language": "en el idioma del anuncio", "is_cm": "Puesto de CM", "yes": "sí", "no": "no",
        "score_short": "Puntuación", "duty_shares": "Venta / conversación / otra", "findings": "Hallazgos",
        "generated": "Generado por cmclassify {version}. Apoyo para la revisión, no para filtrar candidatos.",
        "limit": "El texto tiene {n} caracteres; el máximo es {max}. Recorte el anuncio y vuelva a intentarlo.",
        "body_limit": "El envío es demasiado grande: el texto admite hasta {max} caracteres. Recorte el anuncio y vuelva a intentarlo.",
        "title_limit": "El título tiene {n} caracteres; el máximo es {max}.",
        "empty": "Pegue el texto del anuncio: está vacío.", "bad_request": "No se pudo leer el formulario: {why}",
        "not_found": "La corrección ya no corresponde al texto (¿lo editó?). Revise la lista nueva.",
        "applied": "Se aplicó la corrección {n}; el anuncio se volvió a analizar.",
        "error": "Algo falló al analizar este texto ({why}). El servidor sigue funcionando; pruebe de nuevo.",
    },
    "en": {
        "page_title": "Ad review", "cm": "A community-manager role", "not_cm": "Not a community-manager role",
        "orientation": "orientation", "flags": "flags", "no_flags": "no flags", "not_analysed": "Could not be analysed",
        "score": "Alchemist score", "score_scale": "0 to 1", "score_none": "Nothing raises it: no alchemist reason and fewer than three functions.",
        "score_rule": "The ad is flagged alchemist with reason A or B, or with any two reasons.",
        "raised_by": "Raised by", "functions": "{n} distinct functions", "shares": "Duties by label",
        "of": "of", "duties": "duties", "text": "The ad, with its duties and findings marked",
        "legend": "Each duty carries its label in brackets; sentences with findings are underlined and carry their letter.",
        "fixes": "Fix first", "no_fixes": "Nothing to fix: the ad raises no flag.",
        "why": "Why", "in_ad": "The ad says", "rewrite": "Suggested rewrite", "remove": "Remove the whole sentence.",
        "suggestion": "Suggestion", "apply": "Apply this fix", "before_after": "Before and after",
        "before": "Before", "after": "After", "changed": "changed", "same": "same",
        "title": "Title", "ad": "Ad text", "lang": "Language", "score_button": "Review",
        "new": "New ad", "print": "To print: Ctrl+P (one or two A4 pages).",
        "intro": "Paste an ad's title and text: see what it asks for, what to fix first and how.",
        "ad_language": "in the ad's language", "is_cm": "CM role", "yes": "yes", "no": "no",
        "score_short": "Score", "duty_shares": "Selling / conversation / other", "findings": "Findings",
        "generated": "Made by cmclassify {version}. Support for review, not for screening candidates.",
        "limit": "The text has {n} characters; the limit is {max}. Shorten the ad and try again.",
        "body_limit": "The request is too large: the text takes up to {max} characters. Shorten the ad and try again.",
        "title_limit": "The title has {n} characters; the limit is {max}.",
        "empty": "Paste the ad's text: it is empty.", "bad_request": "The form could not be read: {why}",
        "not_found": "The fix no longer matches the text (was it edited?). See the new list.",
        "applied": "Fix {n} applied; the ad was analysed again.",
        "error": "Analysing this text failed ({why}). The server is still running; try again.",
    },
}


def words(lang: str) -> dict[str, str]:
    """The page's own words in ``lang`` (``"es"`` or ``"en"``)."""
    _check_lang(lang)
    return _WORDS[lang]


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"lang must be 'es' or 'en', not {lang!r}")


@dataclass(frozen=True)
class Fix:
    """One item of the fix-first list: the ad's sentence, why it is a problem, and a rewrite of it.

    ``edits`` are ``(old, new)`` replacements in the field (``text`` or ``title``) that apply the
    rewrite; a ``new`` of ``""`` removes the sentence."""

    key: str
    flag: str
    reason: str
    name: str
    mark: str
    field: str
    quote: str
    why: str
    suggestion: str
    rewrite: str
    edits: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ScoreStep:
    what: str
    points: float


@dataclass
class Review:
    """The review of one ad: build it with :func:`review_ad`."""

    title: str
    text: str
    lang: str
    ad: dict[str, Any]
    duties: pd.DataFrame
    findings: pd.DataFrame
    fixes: list[Fix] = field(default_factory=list)
    steps: list[ScoreStep] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.ad["status"] == "ok"

    @property
    def flags(self) -> list[str]:
        """The flags raised, with their reasons or grounds, in the page's language."""
        found = []
        if self.ad.get("alchemist"):
            found.append(f"{name('alchemist', self.lang)} ({', '.join(self.ad['alchemist_reasons'].split(','))})")
        for flag in ("follower_credential", "hype_title"):
            if self.ad.get(flag):
                found.append(name(flag, self.lang))
        if self.ad.get("discriminatory_requirement"):
            grounds = ", ".join(name(g, self.lang).lower() for g in self.ad["discrimination_grounds"].split(","))
            found.append(f"{name('discriminatory_requirement', self.lang)} ({grounds})")
        return found

    def verdict(self) -> str:
        """The verdict in one line: CM role or not, orientation, flags."""
        w = words(self.lang)
        if not self.ok:
            return f"{w['not_analysed']}: {self.ad['error'] or self.ad['status']}"
        role = w["cm"] if self.ad["is_cm_role"] else w["not_cm"]
        flags = ", ".join(self.flags) or w["no_flags"]
        return f"{role} · {w['orientation']}: {name(self.ad['orientation'], self.lang).lower()} · {w['flags']}: {flags}"

    def shares(self) -> list[dict[str, Any]]:
        """Each label's share of the duties, with the counts behind it."""
        counts = self.duties["label"].value_counts()
        total = len(self.duties)
        return [{"label": label, "name": name(label, self.lang), "count": int(counts.get(label, 0)), "total": total,
                 "share": fmt_pct(counts.get(label, 0) / total if total else float("nan"), self.lang, 0)}
                for label in LABELS]

    def score(self) -> str:
        return _fmt_points(float(self.ad.get("alchemist_score") or 0.0), self.lang)

    def to_text(self) -> str:
        """The review as plain text for a terminal."""
        return _text(self)

    def to_html(self, **options: Any) -> str:
        """The review as one self-contained HTML page (no script; styles inline)."""
        return render_page(self, **options)


def _fmt_points(value: float, lang: str) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "es" else text


@lru_cache(maxsize=256)
def _analysed(text: str, title: str) -> Any:
    return analyse_text(text, title=title)


def review_ad(text: str, title: str | None = None, lang: str = "es") -> Review:
    """Analyse one ad and review it in ``lang`` (``"es"``, neutral Spanish, or ``"en"``).

    The same text and title are analysed once per process (an edited ad re-scores at the cost of one
    analysis). ``text`` longer than :data:`MAX_TEXT` is cut there by the analysis, with a warning.
    """
    _check_lang(lang)
    analysis = _analysed(text, title or "")
    ad = analysis.ads.iloc[0].to_dict()
    duties = analysis.duties.sort_values("start").reset_index(drop=True)
    findings = analysis.findings
    review = Review(title=title or "", text=str(ad.get("clean_text") or ""), lang=lang, ad=ad, duties=duties,
                    findings=findings)
    if review.ok:
        review.steps = _score_steps(ad, lang)
        review.fixes = _fixes(review)
    return review


def _score_steps(ad: dict[str, Any], lang: str) -> list[ScoreStep]:
    """What raised the alchemist score and by how much, as the judge combines it: each reason, then the
    number of functions, multiplies what is left of 1 (see ``scoring`` in ``flags.yaml``)."""
    scoring = FlagRules.default().patterns.scoring
    letters = [r for r in str(ad.get("alchemist_reasons") or "").split(",") if r]
    factors = [(f"{letter} · {name(letter, lang)}", scoring.reason_weights.get(letter, 0.0)) for letter in letters]
    n = int(ad.get("n_functions") or 0)
    if n >= 3:
        factors.append((words(lang)["functions"].format(n=n), scoring.scope_weight * min(1.0, (n - 2) / 3)))
    steps, keep = [], 1.0
    for what, weight in factors:
        if weight:
            steps.append(ScoreStep(what, keep * weight))
            keep *= 1 - weight
    return steps


# --- the fix-first list ------------------------------------------------------------------------------

def _rewrites() -> RewriteRules:
    return bundled(RewriteRules, "lexicons/rewrites.yaml")


def _match_case(original: str, new: str) -> str:
    if original[:1].isupper():
        return new[:1].upper() + new[1:]
    return new[:1].lower() + new[1:] if original[:1].islower() else new


def _tidy(sentence: str) -> str:
    """Punctuation left sound after words were taken out of a sentence."""
    s = re.sub(r"\s{2,}", " ", sentence)
    s = re.sub(r"\(\s*\)", "", s)
    s = re.sub(r"\s+([,.;:)])", r"\1", s)
    s = re.sub(r"([,;])\s*(?:[,;]\s*)+", r"\1 ", s)
    s = re.sub(r":\s*[,;]\s*", ": ", s)
    s = re.sub(r"[,;]\s*(?=[.:]|$)", "", s)
    s = re.sub(r"(?:,\s*|\s+)(?:y|e|o)\s*(?=[.;:]|$)", "", s)
    s = re.sub(r"(?<=[:,;])\s*(?:y|e)\s+", " ", s)
    s = re.sub(r"^\s*[.,;:]\s*|^\s*(?:y|e)\s+", "", s)
    return s.strip()


def rewrite_sentence(key: str, sentence: str) -> str | None:
    """The sentence rewritten for the finding ``key`` (a reason letter, ``follower_credential`` or a ground),
    ``""`` when nothing of it should stay, None when no rewrite applies."""
    rules = _rewrites()
    for rule in rules.rules.get(key, []):
        match = re.search(rule.find, sentence, flags=re.IGNORECASE)
        if match is None:
            continue
        new = match.expand(rule.replace)
        if match.start() == 0:
            new = _match_case(match.group(0), new)
        result = _tidy(sentence[:match.start()] + new + sentence[match.end():])
        if match.start() == 0 and result:
            result = result[0].upper() + result[1:]
        return "" if not re.search(r"\w", re.sub(r"^[^:]*:\s*", "", result)) else result
    if key in rules.append:
        return sentence.rstrip(" .;") + rules.append[key] + ("." if sentence.rstrip().endswith(".") else "")
    return None


def _fixes(review: Review) -> list[Fix]:
    records = review.findings.to_dict("records")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault((record["flag"], record["reason"]), []).append(record)
    fixes: list[Fix] = []
    for (flag, reason), group in groups.items():
        if flag == "alchemist" and reason == "B":
            fixes.append(_split_fix(review, group))
            continue
        quotes = list(dict.fromkeys((g["field"], g["evidence"]) for g in group if g["field"] == "text")) or \
            list(dict.fromkeys((g["field"], g["evidence"]) for g in group))
        for field_name, quote in quotes:
            fixes.append(_sentence_fix(review, group[0], field_name, quote))
    return sorted(fixes, key=lambda f: (_RANK.get(f.flag if f.flag != "alchemist" else f.reason, 9),
                                        review.text.find(f.quote) if f.field == "text" else -1))


def _common(review: Review, first: dict[str, Any]) -> dict[str, Any]:
    flag, reason = first["flag"], first["reason"]
    key = reason or flag
    label = name(flag, review.lang) if flag != "alchemist" else f"{name(flag, review.lang)} {reason}"
    detail = name(key, review.lang) if reason else ""
    mark = "R" if flag == "discriminatory_requirement" else (reason or {"follower_credential": "F", "hype_title": "H"}[flag])
    return {"key": key, "flag": flag, "reason": reason, "mark": mark,
            "name": f"{label}: {detail.lower() if flag == 'discriminatory_requirement' else detail}" if detail else label,
            "why": first[f"explanation_{review.lang}"], "suggestion": first[f"suggestion_{review.lang}"]}


def _sentence_fix(review: Review, first: dict[str, Any], field_name: str, quote: str) -> Fix:
    common = _common(review, first)
    if first["flag"] == "hype_title":
        title = review.title
        word = _rewrites().title_word + ("s" if quote.lower().endswith("s") else "")
        new_title = _tidy(title.replace(quote, _match_case(quote, word), 1))
        return Fix(**common, field="title", quote=title, rewrite=new_title, edits=((title, new_title),))
    key = common["key"]
    new = rewrite_sentence(key, quote)
    if new is None and key == "E":
        new = rewrite_sentence("A", quote)
    if new is None:
        return Fix(**common, field=field_name, quote=quote, rewrite="", edits=())
    return Fix(**common, field=field_name, quote=quote, rewrite=new, edits=((quote, new),))


def _split_fix(review: Review, group: list[dict[str, Any]]) -> Fix:
    """Reason B: the post keeps its conversation duties; the rest goes to a named team or a second post."""
    rules = _rewrites()
    common = _common(review, group[0])
    by_start = {int(d["start"]): d for d in review.duties.to_dict("records")}
    quoted = list(dict.fromkeys(g["evidence"] for g in group if g["field"] == "text"))
    labels = {g["evidence"]: by_start.get(int(g["start"]), {}).get("label") for g in group if g["field"] == "text"}
    moved = [q for q in quoted if labels.get(q) != "communication_conversation"]
    kept = [q for q in quoted if q not in moved]
    functions = [f for f in str(review.ad.get("functions") or "").split(",") if f and f not in rules.kept_functions]
    areas = [rules.areas[f] for f in functions if f in rules.areas] or [rules.areas["graphic_design"]]
    area_text = ", ".join(areas[:-1]) + (" y " if len(areas) > 1 else "") + areas[-1]
    tasks = [m[:1].lower() + m[1:] for m in moved]
    duty_text = ", ".join(tasks[:-1]) + (" y " if len(tasks) > 1 else "") + tasks[-1] if tasks else ""
    line = rules.split_line.format(areas=area_text, duties=duty_text)
    if not moved or not kept:
        return Fix(**common, field="text", quote="\n".join(quoted), rewrite=line, edits=())
    edits = tuple((m, "") for m in moved) + ((kept[-1], f"{kept[-1]}\n- {line}"),)
    rewrite = "\n".join([*kept, line])
    return Fix(**common, field="text", quote="\n".join(quoted), rewrite=rewrite, edits=edits)


def apply_fix(text: str, title: str, fix: Fix) -> tuple[str, str] | None:
    """``(text, title)`` with the fix's edits made, or None when a sentence it edits is no longer there."""
    fields = {"text": text, "title": title}
    value = fields[fix.field]
    for old, new in fix.edits:
        at = value.find(old)
        if at < 0:
            return None
        if new:
            value = value[:at] + new + value[at + len(old):]
            continue
        line_start = value.rfind("\n", 0, at) + 1
        line_end = value.find("\n", at + len(old))
        line_end = len(value) if line_end < 0 else line_end
        line = value[line_start:line_end]
        if re.fullmatch(r"[\s\-–•·*\d.)]*" + re.escape(old) + r"[\s.;,]*", line):
            value = value[:line_start] + value[min(line_end + 1, len(value)):]
        else:
            value = value[:at] + value[at + len(old):]
            value = value.replace("  ", " ")
    fields[fix.field] = value
    return fields["text"], fields["title"]


# --- plain text ---------------------------------------------------------------------------------------

def _wrap(text: str, indent: str) -> str:
    return "\n".join(textwrap.fill(line, width=100, initial_indent=indent, subsequent_indent=indent)
                     for line in text.split("\n"))


def _text(review: Review) -> str:
    w = words(review.lang)
    lines = [review.title or w["page_title"], review.verdict()]
    if not review.ok:
        return "\n".join(lines)
    lines.append("")
    lines.append(f"{w['score']} {review.score()} ({w['score_scale']}). " +
                 (f"{w['raised_by']}: " + "; ".join(f"{s.what} +{_fmt_points(s.points, review.lang)}"
                                                   for s in review.steps) + "." if review.steps else w["score_none"]))
    lines.append(w["score_rule"])
    lines.append(f"{w['shares']}: " + " · ".join(f"{s['name']} {s['share']} ({s['count']} {w['of']} {s['total']})"
                                                 for s in review.shares()))
    lines += ["", f"{w['duties'].capitalize()} ({len(review.duties)}):"]
    for duty in review.duties.itertuples():
        lines.append(_wrap(f"[{name(duty.label, review.lang)}] {duty.text}", "  "))
    lines += ["", f"{w['fixes']}:"]
    if not review.fixes:
        lines.append("  " + w["no_fixes"])
    for number, fix in enumerate(review.fixes, 1):
        lines.append(f"  {number}. {fix.name}")
        lines.append(_wrap(f"« {fix.quote} »", "     "))
        lines.append(_wrap(f"{w['why']}: {fix.why}", "     "))
        if fix.rewrite:
            lines.append(_wrap(f"{w['rewrite']}: « {fix.rewrite} »", "     "))
        elif fix.edits:
            lines.append(_wrap(f"{w['rewrite']}: {w['remove']}", "     "))
        else:
            lines.append(_wrap(f"{w['suggestion']}: {fix.suggestion}", "     "))
    return "\n".join(lines)


# --- the page -----------------------------------------------------------------------------------------

def _duty_views(review: Review) -> list[dict[str, Any]]:
    views = []
    for duty in review.duties.to_dict("records"):
        probability = duty.get(f"p_{duty['label']}")
        tip = name(duty["label"], review.lang)
        if probability == probability and probability is not None:
            tip += f" · p = {_fmt_points(float(probability), review.lang)}"
        if duty.get("evidence"):
            evidence = with_accents(duty["evidence"], accented_forms([duty["text"]]))
            tip += f" · {pick('evidencia', 'evidence', review.lang)}: {evidence}"
        views.append({"label": duty["label"], "start": duty["start"], "end": duty["end"], "tip": tip})
    return views


def comparison(before: Review, after: Review) -> list[dict[str, str]]:
    """The verdict and the shares of two versions of an ad, side by side."""
    w = words(after.lang)

    def facts(r: Review) -> list[str]:
        if not r.ok:
            return [r.verdict()] * 5
        return [w["yes"] if r.ad["is_cm_role"] else w["no"], name(r.ad["orientation"], r.lang), r.score(),
                " / ".join(s["share"] for s in r.shares()), ", ".join(r.flags) or w["no_flags"]]

    names = [w["is_cm"], w["orientation"].capitalize(), w["score_short"], w["duty_shares"], w["flags"].capitalize()]
    return [{"name": n, "before": b, "after": a, "changed": b != a}
            for n, b, a in zip(names, facts(before), facts(after))]


def _templates() -> Path:
    return Path(str(resources.files("cmclassify.report") / "templates"))


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_templates()), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env


def page_css() -> tuple[str, str]:
    """The page's style sheet and its hash for the Content-Security-Policy (the only style allowed)."""
    css = (_templates() / "review.css").read_text(encoding="utf-8")
    return css, "sha256-" + base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")


def render_page(review: Review | None, *, lang: str | None = None, form: dict[str, str] | None = None,
                before: Review | None = None, message: str = "", message_kind: str = "info") -> str:
    """The review page. Without ``form`` it is the standalone file of ``cmclassify review``; with it,
    the page of ``cmclassify serve`` (``form`` holds the fields to fill in: ``title``, ``text`` and the
    hidden ``base_title``, ``base_text``, ``scored_title``, ``scored_text``). ``before`` adds the
    before/after comparison; ``message`` a notice above the review."""
    from markupsafe import Markup

    from . import __version__

    lang = lang or (review.lang if review else "es")
    w = words(lang)
    css, css_hash = page_css()
    context = {
        "lang": lang, "w": w, "review": review, "form": form, "message": message, "message_kind": message_kind,
        "css": Markup(css), "css_hash": css_hash, "colours": COLOURS, "version": __version__,
        "blocks": highlight(review.text, _duty_views(review),
                            [f for f in review.findings.to_dict("records") if f["field"] == "text"], lang)
        if review and review.ok else [],
        "title_blocks": highlight(review.title, [], [f for f in review.findings.to_dict("records")
                                                     if f["field"] == "title"], lang) if review and review.title else [],
        "comparison": comparison(before, review) if before and review else [],
        "points": lambda v: _fmt_points(v, lang), "label_name": lambda key: name(key, lang),
        "fmt_number": lambda v: fmt_number(v, lang), "max_text": MAX_TEXT, "max_title": MAX_TITLE,
    }
    return _environment().get_template("review.html.j2").render(**context)
