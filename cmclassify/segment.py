"""Find an ad's sections and cut its duties the way the codebook does ("Unit 1: the duty").

Works on the cleaned text with character offsets; the spaCy components at the
bottom write the results into ``doc.spans["sections"]`` and ``doc.spans["duties"]``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import simplemma
import yaml
from spacy.language import Language
from spacy.tokens import Doc

from .clean import fold_in_place
from .nlp import doc_text
from .resources import lexicon_path

SECTION_LABELS = ("intro", "summary", "duties", "requirements", "offer", "company", "apply")
"""``intro`` is text before any header; the others follow the headers in ``data/lexicons/sections.yaml``."""

# Sections whose sentences are never duties, even in an ad without a task list.
_NOT_DUTY_SECTIONS = frozenset({"requirements", "offer", "company", "apply"})
_ABBREVIATIONS = frozenset("etc ej ej. sr sra srta lic ing dr dra av aprox tel nro núm pág dpto depto prof".split())
_FUNCTION_WORDS = frozenset(
    "de del la el las los y e o u a al en con para por como su sus tu tus nuestro nuestra nuestros nuestras "
    "un una unos unas que sobre entre desde hasta según sin ante bajo tras vía".split())
# Nouns and adjectives ending like infinitives, which must not open a task sentence.
_NOT_INFINITIVES = frozenset(
    "lugar mujer hogar militar familiar similar popular regular titular auxiliar escolar celular particular "
    "bar par mar azar placer poder deber taller alquiler líder lider máster master póster super súper "
    "nivel ser tener estar contar saber vivir haber mayor menor mejor peor ayer primer tercer "
    "solar dólar dolar collar pilar sugar jugar".split())
_CONNECTORS = frozenset("también además y e luego asimismo".split())
# Futures that describe the job's conditions, not a task: trabajarás, formarás parte, podrás…
_NOT_TASK_FUTURE_STEMS = frozenset(
    "trabaja forma reporta conta cont pod tend recibi se esta crece aprende disfruta suma incorpora integra "
    "depende pertenece gana cobra desarrolla encontra viaja cuenta".split())
_ALWAYS_TASK_PHRASES = re.compile(
    r"^(?:vas a|va a|van a|te vas a|te encargar[aá]s|se encargar[aá]|(?:ser[aá]s?|estar[aá]s?) (?:el |la )?(?:responsable|encargad[oa]|a cargo)|"
    r"responsable de|a cargo de|tendr[aá]s? a (?:tu |su )?cargo|el objetivo (?:del puesto|de la posici[oó]n|del rol) es|"
    r"(?:la |su |tu )?(?:funci[oó]n|tarea|misi[oó]n) (?:principal )?ser[aá]|consiste en|para (?:gestionar|desarrollar|llevar|administrar|crear|manejar))",
    re.IGNORECASE)
# Application instructions and job conditions, matched on the folded (lower-case, unaccented) item.
_NOT_DUTY_PATTERNS = re.compile(
    r"envi(?:a|e|ar|anos|arnos) (?:tu |su |el )?(?:cv|c\.v|curricul|hoja de vida|portfolio|portafolio)|"
    r"postula(?:te|rse|cion)|hoja de vida|\bcv\b|curricul|https?://|www\.|\S+@\S+|"
    r"\blunes a (?:viernes|sabado)|\bhorario\b|\bsueldo\b|\bsalario\b|remuneracion|\$ ?\d|"
    r"\bedad\b|\bexcluyente\b$|^modalidad\b|\bhome office\b|^zona\b|^prestaciones\b|^(?:tipo de )?contrato\b|^jornada\b")
# Bullets, arrows, check marks, geometric shapes and emoji all open list items.
_BULLET_CHARS = "•·‣⁃∙\u2190-\u21ff\u2500-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff"
# Each alternative starts with the character it cuts at, and looks behind only after it: checking
# lookbehinds first at every position was most of the cost of segmenting.
_SEPARATORS = re.compile(
    r"\n|;"
    r"|[" + _BULLET_CHARS + r"][\ufe0f\u200d" + _BULLET_CHARS + r"]*"
    r"|[-–—*+](?<![^\s.:;)][-–—*+])(?=\s*[^\W\d_¿¡])"
    r"|(?:\d{1,2}[.)]|[a-hA-H]\))(?<![^\s:]\d[.)])(?<![^\s:]\d\d[.)])(?<![^\s:][a-hA-H]\))(?=\s+[^\W\d_¿¡])")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”)]?\s+(?=[¿¡\"“(]?[A-ZÁÉÍÓÚÑ])|(?<=\.\))\s+(?=[A-ZÁÉÍÓÚÑ])")
_CAPITALISED_WORD = re.compile(r"\s+(?=([A-ZÁÉÍÓÚÑ][a-záéíóúñü]+)\b)")
_TRIM_HEAD = re.compile(r"^[\s" + _BULLET_CHARS + r"\-–—*+.,:;)]+")
_TRIM_TAIL = re.compile(r"[\s.,;:]+$")
_WORDS = re.compile(r"[^\W\d_]+")
_PARENS = re.compile(r"[()]")


@dataclass(frozen=True)
class Section:
    """A stretch of the ad under one header; ``start``/``end`` exclude the header itself."""

    label: str
    start: int
    end: int
    header: str = ""


@dataclass(frozen=True)
class Duty:
    start: int
    end: int
    section: str


@dataclass(frozen=True)
class _Lexicon:
    headers: re.Pattern[str]
    headers_after_word: re.Pattern[str]
    cues: re.Pattern[str]
    openers: frozenset[str]
    work_verbs: frozenset[str]


# Where a header may start: the start of a line, or after punctuation, a bullet or an emoji (and a space).
_BOUNDARY = re.compile(r"\n|[^\w\s,(/'\"«“][ \t]?")
_AFTER_WORD = r"(?<=\w[ \t])"


def _alternation(groups: dict[str, list[str]], position: str) -> re.Pattern[str]:
    """One pattern for all headers, matched case-sensitively on folded text (``IGNORECASE`` is far
    slower). Without ``position`` it is only tried where a boundary ends (see ``_at_boundaries``)."""
    parts = [f"(?P<{label}>" + "|".join(f"(?:{fold_in_place(p)})" for p in patterns) + ")" for label, patterns in groups.items()]
    return re.compile(position + r"(?:" + "|".join(parts) + r")(?![\w])")


@lru_cache(maxsize=8)
def load_lexicon(sections_file: Path | None = None, openers_file: Path | None = None) -> _Lexicon:
    spec = yaml.safe_load((sections_file or lexicon_path("sections.yaml")).read_text(encoding="utf-8"))
    openers = yaml.safe_load((openers_file or lexicon_path("duty_starts.yaml")).read_text(encoding="utf-8"))
    return _Lexicon(_alternation(spec["headers"], ""), _alternation(spec["after_word"], _AFTER_WORD),
                    _alternation(spec["cues"], ""), frozenset(w.lower() for w in openers["openers"]),
                    frozenset(w.lower() for w in openers.get("work_verbs", [])))


def _prev_char(text: str, i: int) -> str:
    j = i - 1
    while j >= 0 and text[j] in " \t":
        j -= 1
    return text[j] if j >= 0 else ""


def _next_char(text: str, i: int) -> str:
    while i < len(text) and text[i] in " \t":
        i += 1
    return text[i] if i < len(text) else ""


def _is_symbol(ch: str) -> bool:
    return bool(ch) and not ch.isalnum() and unicodedata.category(ch)[0] in "SP" and ch not in ",(/'\"«“"


_STRONG_HEADERS = frozenset(
    "funciones responsabilidades tareas actividades requisitos requerimientos beneficios ofrecemos".split())


def _at_boundary(text: str, start: int, *, allow_after_word: bool) -> bool:
    before = _prev_char(text, start)
    if before == "" or before in "\n.!?:;)]" or _is_symbol(before):
        return True
    if allow_after_word and before.isalpha():
        previous = _WORDS.findall(text[max(0, start - 30):start])
        return bool(previous) and previous[-1].lower() not in _FUNCTION_WORDS
    return False


def find_sections(text: str, lexicon: _Lexicon | None = None) -> list[Section]:
    """Split the text into sections at the headers and section cues it contains.

    A "mission" header ("Tu misión:") becomes ``duties`` in an ad without a
    functions header and ``summary`` in one with it.
    """
    lexicon = lexicon or load_lexicon()
    marks: list[tuple[int, int, str, str]] = []  # (header start, body start, label, header text)
    folded = fold_in_place(text)
    boundaries = [0, *(m.end() for m in _BOUNDARY.finditer(folded))]
    matches = sorted([*_at_boundaries(lexicon.headers, folded, boundaries), *lexicon.headers_after_word.finditer(folded)],
                     key=lambda m: m.start())
    for match in matches:
        phrase = text[match.start():match.end()]
        after = _next_char(text, match.end())
        capitalised = phrase.lstrip("¿¡")[:1].isupper()
        if after == ":":
            # "…y tus tareas van a ser:" and a shouted "…Residir en TAREAS:" open a list even mid-sentence.
            ok = phrase.lower().startswith(("tus ", "sus ")) or (phrase.isupper() and len(phrase) > 3) or _at_boundary(
                text, match.start(), allow_after_word=capitalised)
        elif capitalised and (after in ("", "\n") or after.isupper() or after.isdigit() or _is_symbol(after)):
            ok = _at_boundary(text, match.start(), allow_after_word=phrase.lower() in _STRONG_HEADERS)
        else:
            ok = False
        if ok:
            body = match.end()
            while body < len(text) and text[body] in " \t:":
                body += 1
            marks.append((match.start(), body, match.lastgroup or "intro", phrase))
    cue_ends: dict[int, int] = {}
    for match in _at_boundaries(lexicon.cues, folded, boundaries):
        if text[match.start()].isupper():
            marks.append((match.start(), match.start(), match.lastgroup or "intro", ""))
            cue_ends[match.start()] = _sentence_end(text, match.end())
    marks.sort()
    mission_label = "summary" if any(label == "duties" for _, _, label, _ in marks) else "duties"
    sections: list[Section] = []
    label, body, header = "intro", 0, ""
    for head_start, body_start, next_label, next_header in marks:
        if head_start < body:  # overlaps the previous header or cue sentence
            continue
        sections.append(Section(label, body, head_start, header))
        next_label = mission_label if next_label == "mission" else next_label
        if head_start in cue_ends:
            # A cue ("Buscamos una persona proactiva…") labels its own sentence; the section around it goes on.
            end = cue_ends[head_start]
            sections.append(Section(next_label, head_start, end))
            body = end
        else:
            label, body, header = next_label, body_start, next_header
    sections.append(Section(label, body, len(text), header))
    return [s for s in sections if s.end > s.start or s.header]


def _at_boundaries(pattern: re.Pattern[str], folded: str, boundaries: list[int]) -> list[re.Match[str]]:
    """Matches of ``pattern`` starting exactly at the boundaries: a few anchored tries instead of a scan."""
    found = []
    last_end = -1
    for position in boundaries:
        if position < last_end:
            continue
        match = pattern.match(folded, position)
        if match:
            found.append(match)
            last_end = match.end()
    return found


def _sentence_end(text: str, start: int) -> int:
    match = _SENTENCE_END.search(text, start)
    line_end = text.find("\n", start)
    ends = [m for m in (match.start() if match else -1, line_end) if m >= 0]
    return min(ends) if ends else len(text)


def _is_infinitive(word: str) -> bool:
    return (len(word) > 3 and word.endswith(("ar", "er", "ir", "arse", "erse", "irse", "arlo", "erlo", "irlo"))
            and word not in _NOT_INFINITIVES)


def _opens_duty(word: str, lexicon: _Lexicon) -> bool:
    """Whether a capitalised word can open a duty in a list run together without bullets."""
    lower = word.lower()
    return (lower in lexicon.openers or _is_infinitive(lower)
            or lower.endswith(("ción", "sión", "miento", "cion", "sion")))


def _looks_like_title(piece: str) -> bool:
    """A job title repeated as the first line: "Responsable de Redes Sociales (media jornada)"."""
    words = [w for w in _WORDS.findall(piece) if w.lower() not in _FUNCTION_WORDS]
    return 0 < len(words) <= 8 and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


def _is_task_led(piece: str, lexicon: _Lexicon) -> bool:
    """A sentence that names work the hire does: verb-led, noun-led or 'Serás responsable de…'."""
    if _ALWAYS_TASK_PHRASES.match(piece):
        return True
    words = _WORDS.findall(piece[:80])
    while words and words[0].lower() in _CONNECTORS:
        words = words[1:]
    if not words:
        return False
    first = words[0].lower()
    if _is_infinitive(first) or first.endswith(("ción", "sión", "cion", "sion")) and len(words) > 1 and words[1].lower() in ("de", "del", "y"):
        return True
    if first.endswith(("rás", "rá")) and len(first) > 4:  # future: gestionarás, publicará
        return first[: -3 if first.endswith("rás") else -2] not in _NOT_TASK_FUTURE_STEMS
    if first.endswith(("á", "é", "í")) and len(first) > 3:  # voseo imperative: Gestioná, Creá, Escribí
        lemma = simplemma.lemmatize(first, lang="es")
        return lemma != first and lemma.endswith(("ar", "er", "ir"))
    return False


def _pieces(text: str, start: int, end: int, lexicon: _Lexicon, *, split_on_capitals: bool) -> list[tuple[int, int]]:
    """Cut a section into items at bullets, numbers, line breaks, semicolons and sentence ends."""
    cuts: list[tuple[int, int]] = []
    region = text[start:end]
    for match in _SEPARATORS.finditer(region):
        cuts.append((match.start(), match.end()))
    for match in _SENTENCE_END.finditer(region):
        words = _WORDS.findall(region[max(0, match.start() - 8): match.start()])
        last = words[-1].lower() if words else ""
        if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
            continue
        cuts.append((match.start(), match.end()))
    if split_on_capitals:
        parens = [(m.start(), m.group()) for m in _PARENS.finditer(region)]
        for match in _CAPITALISED_WORD.finditer(region):
            if _inside_parentheses(parens, match.start()) or not _opens_duty(match.group(1), lexicon):
                continue
            before = _WORDS.findall(region[max(0, match.start() - 20): match.start()])
            prev_char = region[match.start() - 1] if match.start() else ""
            if prev_char == ")" or (before and before[-1].lower() not in _FUNCTION_WORDS and prev_char not in ",:/-("):
                cuts.append((match.start(), match.end()))
    cuts.sort()
    spans: list[tuple[int, int]] = []
    cursor = 0
    for cut_start, cut_end in cuts + [(len(region), len(region))]:
        if cut_start >= cursor:
            spans.append((cursor, cut_start))
            cursor = cut_end
        else:
            cursor = max(cursor, cut_end)
    trimmed = []
    for a, b in spans:
        piece = region[a:b]
        head = len(piece) - len(_TRIM_HEAD.sub("", piece))
        tail_piece = _TRIM_TAIL.sub("", piece[head:])
        if tail_piece.count("(") > tail_piece.count(")") and piece[head:].rstrip().endswith(")"):
            tail_piece = piece[head:].rstrip(" .;,:")
        if tail_piece:
            trimmed.append((start + a + head, start + a + head + len(tail_piece)))
    return trimmed


def _work_naming_sentence(text: str, sections: list[Section], lexicon: _Lexicon) -> list[Duty]:
    """Codebook: "when the ad has no task list, the sentence that names the work is the duty"."""
    for section in sections:
        if section.label in _NOT_DUTY_SECTIONS:
            continue
        for a, b in _pieces(text, section.start, section.end, lexicon, split_on_capitals=False):
            piece = text[a:b]
            if any(w.lower() in lexicon.work_verbs for w in _WORDS.findall(piece)) and \
                    not _NOT_DUTY_PATTERNS.search(fold_in_place(piece)) and not _looks_like_title(piece):
                return [Duty(a, b, section.label)]
    return []


def item_spans(text: str, lexicon: _Lexicon | None = None) -> list[tuple[int, int]]:
    """Every bullet, line, or sentence of the text as (start, end) offsets, in order."""
    return _pieces(text, 0, len(text), lexicon or load_lexicon(), split_on_capitals=False)


def _inside_parentheses(parens: list[tuple[int, str]], position: int) -> bool:
    depth = 0
    for at, ch in parens:
        if at >= position:
            break
        depth = depth + 1 if ch == "(" else max(0, depth - 1)
    return depth > 0


def _words_key(text: str) -> str:
    return " ".join(w.lower() for w in _WORDS.findall(text))


def cut_duties(text: str, sections: list[Section] | None = None, lexicon: _Lexicon | None = None) -> list[Duty]:
    """The duties of one ad, in order, as offsets into ``text``.

    Items of a functions section are duties; an ad without one takes its
    task-led sentences from the sections that are not requirements, offer,
    company or application text.
    """
    lexicon = lexicon or load_lexicon()
    sections = sections if sections is not None else find_sections(text, lexicon)
    listed = [s for s in sections if s.label == "duties"]
    duties: list[Duty] = []
    for section in listed:
        for a, b in _pieces(text, section.start, section.end, lexicon, split_on_capitals=True):
            piece = text[a:b]
            words = _WORDS.findall(piece)
            # A one-word item ("Facturación") is a duty too, but not a stray fragment.
            if (len(words) >= 2 or (len(words) == 1 and len(words[0]) >= 5)) and not _NOT_DUTY_PATTERNS.search(fold_in_place(piece)):
                duties.append(Duty(a, b, section.label))
    if not duties:
        for section in sections:
            if section.label in _NOT_DUTY_SECTIONS:
                continue
            # A bulleted list with no header is read as a task list: noun-led items count too.
            bulleted = len(_SEPARATORS.findall(text, section.start, section.end)) >= 3
            for a, b in _pieces(text, section.start, section.end, lexicon, split_on_capitals=False):
                piece = text[a:b]
                words = _WORDS.findall(piece)
                task_led = (len(words) >= 3 and _is_task_led(piece, lexicon)) or (
                    bulleted and len(words) >= 2 and _opens_duty(words[0], lexicon))
                opening_title = a == len(text) - len(text.lstrip()) and _looks_like_title(piece)
                if task_led and not opening_title and not _NOT_DUTY_PATTERNS.search(fold_in_place(piece)):
                    duties.append(Duty(a, b, section.label))
    if not duties:
        duties = _work_naming_sentence(text, sections, lexicon)
    seen: set[str] = set()
    unique = []
    for duty in duties:
        key = _words_key(text[duty.start:duty.end])
        if key not in seen:
            seen.add(key)
            unique.append(duty)
    return unique


@Language.factory("cmclassify_sections", default_config={"sections_file": None})
def make_section_tagger(nlp: Language, name: str, sections_file: str | None) -> "SectionTagger":
    return SectionTagger(Path(sections_file) if sections_file else None)


@Language.factory("cmclassify_duties", default_config={"openers_file": None, "sections_file": None})
def make_duty_segmenter(nlp: Language, name: str, openers_file: str | None, sections_file: str | None) -> "DutySegmenter":
    return DutySegmenter(Path(sections_file) if sections_file else None, Path(openers_file) if openers_file else None)


class SectionTagger:
    """Writes ``doc.spans["sections"]``, one span per section labelled with its section name."""

    def __init__(self, sections_file: Path | None = None):
        self.lexicon = load_lexicon(sections_file)

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for section in find_sections(doc_text(doc), self.lexicon):
            span = doc.char_span(section.start, section.end, label=section.label, alignment_mode="expand")
            if span is not None and len(span):
                spans.append(span)
        doc.spans["sections"] = spans
        return doc


class DutySegmenter:
    """Writes ``doc.spans["duties"]``; each span's label is the section it was found in."""

    def __init__(self, sections_file: Path | None = None, openers_file: Path | None = None):
        self.lexicon = load_lexicon(sections_file, openers_file)

    def __call__(self, doc: Doc) -> Doc:
        sections = [Section(s.label_, s.start_char, s.end_char) for s in doc.spans.get("sections", [])]
        spans = []
        for duty in cut_duties(doc_text(doc), sections or None, self.lexicon):
            span = doc.char_span(duty.start, duty.end, label=duty.section, alignment_mode="expand")
            if span is not None:
                spans.append(span)
        doc.spans["duties"] = spans
        return doc
