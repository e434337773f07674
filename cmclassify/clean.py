"""Turn one scraped ad into clean text: HTML to lines, Unicode, glued seams, portal boilerplate.

The cleaned text is what every later stage reads, and what duty offsets refer to.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import simplemma
from bs4 import BeautifulSoup

from .resources import lexicon_path
from .rules import BoilerplateRules, LanguageRules, bundled

MAX_CHARS = 20_000
"""Longer ads are cut here (scraped ads rarely pass 10,000 characters)."""

_HTML_HINT = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9]*\b[^<>]*|/[a-zA-Z][a-zA-Z0-9]*\s*)>|&(?:[a-zA-Z]{2,8}|#\d{2,5}|#x[0-9a-fA-F]{2,4});")
_BLOCK_TAGS = ("p", "div", "li", "ul", "ol", "tr", "table", "section", "article",
               "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "dd", "dt")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r" *\n[ \n]*")
# Only words with a lower-case letter directly followed by an upper-case one can be glued.
_GLUED_WORD = re.compile(r"\b[^\W\d_]*[a-záéíóúñü][A-ZÁÉÍÓÚÑ][^\W\d_]*")
_NOT_LETTERS = re.compile(r"[\W\d_]+")
_CASE_SEAM = re.compile(r"(?<=[a-záéíóúñü])(?=[A-ZÁÉÍÓÚÑ])")
_CASE_SEAM_CHAR = re.compile(r"[a-záéíóúñü](?=[A-ZÁÉÍÓÚÑ])")
# A full stop, colon, closing bracket or exclamation glued to the next capitalised word.
_PUNCT_SEAM = re.compile(r"[.:!?](?<=[a-záéíóúñü)\]0-9][.:!?])(?=[¿¡]?[A-ZÁÉÍÓÚÑ][a-záéíóúñü])"
                         r"|[)\]](?<=[a-záéíóúñü][)\]])(?=[A-ZÁÉÍÓÚÑ][a-záéíóúñü])")


_LEADING_SYMBOLS = re.compile(r"^[^\w¿¡(]+")
_RUNS_OF_SPACE = re.compile(r"\s+")


def _accent_table() -> dict[int, str]:
    table = {}
    for code in range(0xC0, 0x250):
        base = unicodedata.normalize("NFKD", chr(code))[0]
        if base != chr(code) and base.isascii():
            table[code] = base
    return table


_STRIP_ACCENTS = _accent_table()


def fold(text: str) -> str:
    """Lower-case, accents removed, leading bullets and emoji dropped: "✅ GESTIÓN" -> "gestion"."""
    text = unicodedata.normalize("NFC", _LEADING_SYMBOLS.sub("", text.lower()))
    return _RUNS_OF_SPACE.sub(" ", text.translate(_STRIP_ACCENTS)).strip()


def fold_in_place(text: str) -> str:
    """Lower-case without accents, one character for one, so offsets found in the result point into ``text``."""
    folded = text.lower().translate(_STRIP_ACCENTS)
    return folded if len(folded) == len(text) else text.lower()


@dataclass(frozen=True)
class CleanText:
    text: str
    status: str  # ok, empty, not_spanish, garbled
    message: str = ""
    language: str = ""


@lru_cache(maxsize=1)
def _brands() -> frozenset[str]:
    lines = lexicon_path("brands.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def _boilerplate() -> tuple[int, list[re.Pattern[str]], re.Pattern[str] | None]:
    spec = bundled(BoilerplateRules, "lexicons/boilerplate.yaml")
    strip = [re.compile(p, re.DOTALL) for p in spec.strip_through]
    return spec.head_chars, strip, (re.compile("|".join(spec.cut_from)) if spec.cut_from else None)


def html_to_text(text: str) -> str:
    """Render HTML as text with one line per block element (each ``<li>`` its own line)."""
    if not _HTML_HINT.search(text):
        return text
    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    rendered = soup.get_text()
    # Entities that were double-escaped in the source ("&amp;lt;") survive one pass.
    return html.unescape(rendered) if "&" in rendered else rendered


def _split_glued_word(word: str) -> str:
    if word.lower() in _brands():
        return word
    pieces = _CASE_SEAM.split(word)
    if len(pieces) == 1:
        return word
    out: list[str] = []
    i = 0
    while i < len(pieces):
        for j in range(len(pieces), i + 1, -1):
            if "".join(pieces[i:j]).lower() in _brands():
                out.append("".join(pieces[i:j]))
                i = j
                break
        else:
            piece = pieces[i]
            # "iPhone"-like: a one-letter lower-case head belongs to what follows.
            if len(piece) == 1 and i + 1 < len(pieces):
                pieces[i + 1] = piece + pieces[i + 1]
            else:
                out.append(piece)
            i += 1
    return " ".join(out)


def repair_seams(text: str) -> str:
    """Separate words glued where HTML was stripped, keeping camel-case brand names whole.

    >>> repair_seams("Resumen del PuestoEstamos buscando. Manejo de TikTok")
    'Resumen del Puesto Estamos buscando. Manejo de TikTok'
    """
    text = _PUNCT_SEAM.sub("\\g<0> ", text)
    if not _CASE_SEAM_CHAR.search(text):
        return text
    return _GLUED_WORD.sub(lambda m: _split_glued_word(m.group()), text)


def strip_boilerplate(text: str) -> str:
    head_chars, strip_through, cut_from = _boilerplate()
    for pattern in strip_through:
        match = pattern.search(text, 0, head_chars + 400)
        if match and match.start() < head_chars:
            text = text[match.end():]
    if cut_from is not None:
        match = cut_from.search(text)
        if match and match.start() > 0:
            text = text[: match.start()]
    return text


# Styled letters (𝐁𝐨𝐥𝐝, 𝘪𝘵𝘢𝘭𝘪𝘤, ｆｕｌｌｗｉｄｔｈ) that posts use for emphasis: read as plain letters.
_STYLED_LETTERS = re.compile(r"[\U0001D400-\U0001D7FF\uFF01-\uFF5E]+")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _STYLED_LETTERS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    text = _INVISIBLE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = _CONTROL.sub(" ", text)
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n", text).strip()


_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=1)
def _language() -> tuple[LanguageRules, dict[str, frozenset[str]]]:
    spec = bundled(LanguageRules, "lexicons/language.yaml")
    return spec, {lang: frozenset(words) for lang, words in spec.function_words.items()}


@lru_cache(maxsize=1)
def _identifier() -> Any:
    """py3langid's model (shipped in its wheel), restricted to the languages ads here come in."""
    import py3langid.langid as langid

    identifier = langid.LanguageIdentifier.from_modelpath(Path(langid.__file__).parent / langid.MODEL_FILE,
                                                          norm_probs=True)
    identifier.set_languages(list(_language()[0].identify))
    return identifier


def identify_language(text: str) -> tuple[str, str]:
    """The language of an ad (ISO 639-1 code) and how it was told.

    Distinctive function words settle most ads at once; the others go to py3langid (lower-cased,
    since ads in capitals mislead it), whose verdict counts only when confident.
    """
    spec, words = _language()
    sample = text[:1500].lower()
    tokens = _WORD.findall(sample)
    counts = {lang: sum(t in vocabulary for t in tokens) for lang, vocabulary in words.items()}
    spanish, others = counts.get("es", 0), max((n for lang, n in counts.items() if lang != "es"), default=0)
    if spanish >= spec.min_function_words and others * spec.clear_ratio <= spanish:
        return "es", f"{spanish} Spanish function words"
    if len(tokens) < spec.min_words_to_identify:
        share = dict(simplemma.langdetect(text[:500], lang=("es",))).get("es", 0.0)
        # Short title-like stubs ("Empleo: Director de sucursales") are given the benefit of the doubt.
        if share >= spec.min_spanish_share or not others:
            return "es", f"{share:.0%} of words recognised as Spanish"
    language, probability = _identifier().classify(sample)
    if language != "es" and probability >= spec.min_confidence:
        return language, f"language identification, probability {probability:.2f}"
    return "es", f"most likely Spanish (language identification: {language} {probability:.2f})"


def is_spanish(text: str) -> tuple[bool, str]:
    language, evidence = identify_language(text)
    return language == "es", evidence


def clean(raw: str, *, max_chars: int = MAX_CHARS) -> CleanText:
    """Clean one ad's text and decide whether it can be analysed.

    Returns the cleaned text with a status: ``ok``, ``empty`` (nothing left),
    ``garbled`` (mostly not letters, e.g. binary junk) or ``not_spanish`` (a
    language the tool does not read; the message names it), and the language.
    English ads are analysed, with a warning that the models were made for Spanish.
    """
    original_length = len(raw)
    raw = raw[: max_chars * 2]
    junk = len(_CONTROL.findall(raw))
    if junk > 0.1 * len(raw):
        return CleanText("", "garbled", f"{junk / len(raw):.0%} of the characters are control or undecodable bytes")
    text = normalise(html_to_text(raw))
    text = strip_boilerplate(repair_seams(text)).strip()
    message = ""
    if len(text) > max_chars:
        message = f"text cut at {max_chars:,} characters (the ad had {original_length:,} characters before cleaning)"
        text = text[:max_chars]
    if not text:
        return CleanText("", "empty", "the ad has no text")
    visible = len(text) - text.count(" ") - text.count("\n")
    letters = len(_NOT_LETTERS.sub("", text))
    if letters < 0.25 * visible:
        return CleanText(text, "garbled", f"only {letters / visible:.0%} of the characters are letters")
    language, evidence = identify_language(text)
    name = _language()[0].names.get(language, language)
    if language not in _language()[0].analysed:
        return CleanText(text, "not_spanish", f"the ad is in {name} ({evidence}); cmclassify reads Spanish ads",
                         language)
    if language != "es":
        message = "; ".join(filter(None, (message, f"the ad is in {name} ({evidence}): analysed, but the rules and "
                                                   "models were made for Spanish ads, so expect less")))
    return CleanText(text, "ok", message, language)
