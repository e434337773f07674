"""Find an ad's sections and cut its duties the way the codebook does ("Unit 1: the duty").

Works on the cleaned text with character offsets; the spaCy components at the
bottom write the results into ``doc.spans["sections"]`` and ``doc.spans["duties"]``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from typing import Any

import pandas as pd
import simplemma
import yaml
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from .clean import fold_in_place
from .estimators import DutyCandidateClassifier
from .model_files import EXTRACTION_MODEL, ShippedModelAttribute, library_versions, load_model, save_model
from .nlp import doc_text, lemma_texts_of_ranges
from .rules import DutyStartRules, SectionRules, SegmentRules, bundled, load

SECTION_LABELS = ("intro", "summary", "duties", "requirements", "offer", "company", "apply")
"""``intro`` is text before any header; the others follow the headers in ``data/lexicons/sections.yaml``."""

# Bullets, arrows, check marks, geometric shapes and emoji all open list items.
_BULLET_CHARS = "•·‣⁃∙\u2190-\u21ff\u2500-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff"
# Each alternative starts with the character it cuts at, and looks behind only after it: checking
# lookbehinds first at every position was most of the cost of segmenting.
_SEPARATORS = re.compile(
    r"\n|;"
    r"|[" + _BULLET_CHARS + r"][\ufe0f\u200d" + _BULLET_CHARS + r"]*"
    r"|[-–—*+](?<![^\s.:;)][-–—*+])(?=\s*[^\W\d_¿¡])"
    r"|(?:\d{1,2}[.)]|[a-hA-H]\))(?<![^\s:]\d[.)])(?<![^\s:]\d\d[.)])(?<![^\s:][a-hA-H]\))(?=\s+[^\W\d_¿¡])")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”)]?\s+(?=[¿¡\"“(]?[A-ZÁÉÍÓÚÑ0-9])|(?<=\.\))\s+(?=[A-ZÁÉÍÓÚÑ])")
# A field label ("Jornada:", "Esquema de Empleo:") run into the previous item where line breaks were lost.
_FIELD_LABEL = re.compile(r"(?<=[\w)]) (?=[A-ZÁÉÍÓÚÑ][a-záéíóúñü]+(?: [a-záéíóúñü]+| [A-ZÁÉÍÓÚÑ][a-záéíóúñü]+){0,3}:)")
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


LEXICON_FILES = {"sections": "sections.yaml", "duty_starts": "duty_starts.yaml", "segment": "segment.yaml"}
_LEXICON_SCHEMAS = {"sections": SectionRules, "duty_starts": DutyStartRules, "segment": SegmentRules}


def _words(items: list[str]) -> frozenset[str]:
    return frozenset(w.lower() for w in items)


@dataclass(frozen=True, eq=False)  # compared by identity: a cache key of the cutting
class SegmentLexicon:
    """The segmenter's rules, compiled from ``sections.yaml``, ``duty_starts.yaml`` and ``segment.yaml``."""

    sections: SectionRules
    duty_starts: DutyStartRules
    segment: SegmentRules

    def __post_init__(self) -> None:
        compiled = {
            "headers": _alternation(self.sections.headers, ""),
            "headers_after_word": _alternation(self.sections.after_word, _AFTER_WORD),
            "cues": _alternation(self.sections.cues, ""),
            "openers": _words(self.duty_starts.openers), "work_verbs": _words(self.duty_starts.work_verbs),
            "abbreviations": _words(self.segment.abbreviations), "function_words": _words(self.segment.function_words),
            "not_infinitives": _words(self.segment.not_infinitives), "connectors": _words(self.segment.connectors),
            "not_task_future_stems": _words(self.segment.not_task_future_stems),
            "strong_headers": _words(self.segment.strong_headers),
            "not_duty_sections": frozenset(self.segment.not_duty_sections),
            "always_task": re.compile("^(?:" + "|".join(self.segment.always_task_phrases) + ")", re.IGNORECASE),
            "not_duty": re.compile("|".join(self.segment.not_duty_patterns)),
        }
        for name, value in compiled.items():
            object.__setattr__(self, name, value)

    def specs(self) -> dict[str, Any]:
        return {"sections": self.sections, "duty_starts": self.duty_starts, "segment": self.segment}

    def to_disk(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for key, spec in self.specs().items():
            (folder / LEXICON_FILES[key]).write_text(
                yaml.safe_dump(spec.model_dump(), allow_unicode=True, sort_keys=False), encoding="utf-8")

    @classmethod
    def from_disk(cls, folder: Path) -> "SegmentLexicon":
        return cls(**{key: load(_LEXICON_SCHEMAS[key], folder / name) for key, name in LEXICON_FILES.items()})


# Where a header may start: the start of a line, or after punctuation, a bullet or an emoji (and a space).
_BOUNDARY = re.compile(r"\n|[^\w\s,(/'\"«“][ \t]?")
_AFTER_WORD = r"(?<=\w[ \t])"


def _alternation(groups: dict[str, list[str]], position: str) -> re.Pattern[str]:
    """One pattern for all headers, matched case-sensitively on folded text (``IGNORECASE`` is far
    slower). Without ``position`` it is only tried where a boundary ends (see ``_at_boundaries``)."""
    parts = [f"(?P<{label}>" + "|".join(f"(?:{fold_in_place(p)})" for p in patterns) + ")" for label, patterns in groups.items()]
    return re.compile(position + r"(?:" + "|".join(parts) + r")(?![\w])")


@lru_cache(maxsize=1)
def default_lexicon() -> SegmentLexicon:
    """The package's own segmentation rules."""
    return SegmentLexicon(**{key: bundled(_LEXICON_SCHEMAS[key], f"lexicons/{name}")
                             for key, name in LEXICON_FILES.items()})


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


def _at_boundary(text: str, start: int, lexicon: SegmentLexicon, *, allow_after_word: bool) -> bool:
    before = _prev_char(text, start)
    if before == "" or before in "\n.!?:;)]" or _is_symbol(before):
        return True
    if allow_after_word and before.isalpha():
        previous = _WORDS.findall(text[max(0, start - 30):start])
        return bool(previous) and previous[-1].lower() not in lexicon.function_words
    return False


def find_sections(text: str, lexicon: SegmentLexicon | None = None) -> list[Section]:
    """Split the text into sections at the headers and section cues it contains.

    A "mission" header ("Tu misión:") becomes ``duties`` in an ad without a
    functions header and ``summary`` in one with it.
    """
    lexicon = lexicon or default_lexicon()
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
                text, match.start(), lexicon, allow_after_word=capitalised)
        elif capitalised and (after in ("", "\n") or after.isupper() or after.isdigit() or _is_symbol(after)):
            ok = _at_boundary(text, match.start(), lexicon, allow_after_word=phrase.lower() in lexicon.strong_headers)
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


def _is_infinitive(word: str, lexicon: SegmentLexicon) -> bool:
    return (len(word) > 3 and word.endswith(("ar", "er", "ir", "arse", "erse", "irse", "arlo", "erlo", "irlo"))
            and word not in lexicon.not_infinitives)


def _opens_duty(word: str, lexicon: SegmentLexicon) -> bool:
    """Whether a capitalised word can open a duty in a list run together without bullets."""
    lower = word.lower()
    return (lower in lexicon.openers or _is_infinitive(lower, lexicon)
            or lower.endswith(("ción", "sión", "miento", "cion", "sion")))


def _looks_like_title(piece: str, lexicon: SegmentLexicon) -> bool:
    """A job title repeated as the first line: "Responsable de Redes Sociales (media jornada)"."""
    words = [w for w in _WORDS.findall(piece) if w.lower() not in lexicon.function_words]
    return 0 < len(words) <= 8 and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


def _is_task_led(piece: str, lexicon: SegmentLexicon) -> bool:
    """A sentence that names work the hire does: verb-led, noun-led or 'Serás responsable de…'."""
    if lexicon.always_task.match(piece):
        return True
    words = _WORDS.findall(piece[:80])
    while words and words[0].lower() in lexicon.connectors:
        words = words[1:]
    if not words:
        return False
    first = words[0].lower()
    if _is_infinitive(first, lexicon) or first.endswith(("ción", "sión", "cion", "sion")) and len(words) > 1 and words[1].lower() in ("de", "del", "y"):
        return True
    if first.endswith(("rás", "rá")) and len(first) > 4:  # future: gestionarás, publicará
        return first[: -3 if first.endswith("rás") else -2] not in lexicon.not_task_future_stems
    if first.endswith(("á", "é", "í")) and len(first) > 3:  # voseo imperative: Gestioná, Creá, Escribí
        lemma = simplemma.lemmatize(first, lang="es")
        return lemma != first and lemma.endswith(("ar", "er", "ir"))
    return False


def _separator_kind(mark: str) -> str:
    if "\n" in mark:
        return "newline"
    if mark == ";":
        return "semicolon"
    if mark[:1] in "-–—*+":
        return "dash"
    if mark[:1].isdigit() or mark.endswith(")"):
        return "number"
    return "bullet"


@lru_cache(maxsize=1024)  # an ad's sections are cut for the candidates, the hand rules and the judge
def _cut_pieces(text: str, start: int, end: int, lexicon: SegmentLexicon, *,
                split_on_capitals: bool) -> tuple[tuple[int, int, str], ...]:
    """Cut a section into items at bullets, numbers, line breaks, semicolons, field labels and sentence
    ends (and, with ``split_on_capitals``, where a capitalised task word starts a run-together item):
    ``(start, end, kind of cut before it)``, trimmed as the codebook trims duties."""
    cuts: list[tuple[int, int, str]] = []
    region = text[start:end]
    for match in _SEPARATORS.finditer(region):
        cuts.append((match.start(), match.end(), _separator_kind(match.group())))
    for match in _FIELD_LABEL.finditer(region):
        cuts.append((match.start(), match.end(), "field"))
    for match in _SENTENCE_END.finditer(region):
        words = _WORDS.findall(region[max(0, match.start() - 8): match.start()])
        last = words[-1].lower() if words else ""
        if last in lexicon.abbreviations or (len(last) == 1 and last.isalpha()):
            continue
        cuts.append((match.start(), match.end(), "sentence"))
    if split_on_capitals:
        parens = [(m.start(), m.group()) for m in _PARENS.finditer(region)]
        for match in _CAPITALISED_WORD.finditer(region):
            if _inside_parentheses(parens, match.start()) or not _opens_duty(match.group(1), lexicon):
                continue
            before = _WORDS.findall(region[max(0, match.start() - 20): match.start()])
            prev_char = region[match.start() - 1] if match.start() else ""
            if prev_char == ")" or (before and before[-1].lower() not in lexicon.function_words and prev_char not in ",:/-("):
                cuts.append((match.start(), match.end(), "capital"))
    cuts.sort()
    spans: list[tuple[int, int, str]] = []
    cursor, kind = 0, "start"
    for cut_start, cut_end, cut_kind in cuts + [(len(region), len(region), "end")]:
        if cut_start >= cursor:
            spans.append((cursor, cut_start, kind))
            cursor, kind = cut_end, cut_kind
        else:
            cursor = max(cursor, cut_end)
    trimmed = []
    for a, b, kind in spans:
        piece = region[a:b]
        head = len(piece) - len(_TRIM_HEAD.sub("", piece))
        tail_piece = _TRIM_TAIL.sub("", piece[head:])
        if tail_piece.count("(") > tail_piece.count(")") and piece[head:].rstrip().endswith(")"):
            tail_piece = piece[head:].rstrip(" .;,:")
        if tail_piece:
            trimmed.append((start + a + head, start + a + head + len(tail_piece), kind))
    return tuple(trimmed)


def _pieces(text: str, start: int, end: int, lexicon: SegmentLexicon, *, split_on_capitals: bool) -> list[tuple[int, int]]:
    return [(a, b) for a, b, _ in _cut_pieces(text, start, end, lexicon, split_on_capitals=split_on_capitals)]


def _work_naming_sentence(text: str, sections: list[Section], lexicon: SegmentLexicon) -> list[Duty]:
    """Codebook: "when the ad has no task list, the sentence that names the work is the duty"."""
    for section in sections:
        if section.label in lexicon.not_duty_sections:
            continue
        for a, b in _pieces(text, section.start, section.end, lexicon, split_on_capitals=False):
            piece = text[a:b]
            if any(w.lower() in lexicon.work_verbs for w in _WORDS.findall(piece)) and \
                    not lexicon.not_duty.search(fold_in_place(piece)) and not _looks_like_title(piece, lexicon):
                return [Duty(a, b, section.label)]
    return []


def item_spans(text: str, lexicon: SegmentLexicon | None = None) -> list[tuple[int, int]]:
    """Every bullet, line, or sentence of the text as (start, end) offsets, in order."""
    return _pieces(text, 0, len(text), lexicon or default_lexicon(), split_on_capitals=False)


def _inside_parentheses(parens: list[tuple[int, str]], position: int) -> bool:
    depth = 0
    for at, ch in parens:
        if at >= position:
            break
        depth = depth + 1 if ch == "(" else max(0, depth - 1)
    return depth > 0


def _words_key(text: str) -> str:
    return " ".join(_WORDS.findall(text)).lower()


def cut_duties(text: str, sections: list[Section] | None = None, lexicon: SegmentLexicon | None = None) -> list[Duty]:
    """The duties of one ad, in order, as offsets into ``text``.

    Items of a functions section are duties; an ad without one takes its
    task-led sentences from the sections that are not requirements, offer,
    company or application text.
    """
    lexicon = lexicon or default_lexicon()
    sections = sections if sections is not None else find_sections(text, lexicon)
    listed = [s for s in sections if s.label == "duties"]
    duties: list[Duty] = []
    for section in listed:
        for a, b in _pieces(text, section.start, section.end, lexicon, split_on_capitals=True):
            piece = text[a:b]
            words = _WORDS.findall(piece)
            # A one-word item ("Facturación") is a duty too, but not a stray fragment.
            if (len(words) >= 2 or (len(words) == 1 and len(words[0]) >= 5)) and not lexicon.not_duty.search(fold_in_place(piece)):
                duties.append(Duty(a, b, section.label))
    if not duties:
        for section in sections:
            if section.label in lexicon.not_duty_sections:
                continue
            # A bulleted list with no header is read as a task list: noun-led items count too.
            bulleted = len(_SEPARATORS.findall(text, section.start, section.end)) >= lexicon.segment.min_bullets_for_list
            for a, b in _pieces(text, section.start, section.end, lexicon, split_on_capitals=False):
                piece = text[a:b]
                words = _WORDS.findall(piece)
                task_led = (len(words) >= 3 and _is_task_led(piece, lexicon)) or (
                    bulleted and len(words) >= 2 and _opens_duty(words[0], lexicon))
                opening_title = a == len(text) - len(text.lstrip()) and _looks_like_title(piece, lexicon)
                if task_led and not opening_title and not lexicon.not_duty.search(fold_in_place(piece)):
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


# --- candidates for the learned duty decision ------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """An item that may be a duty: a bullet, line, sentence or run-together task item of one section."""

    start: int
    end: int
    section: str
    cut: str  # the kind of cut before it: start, newline, bullet, dash, number, semicolon, field, sentence, capital
    index: int  # position among its section's candidates
    section_size: int
    header: str = ""


def find_candidates(text: str, sections: list[Section], lexicon: SegmentLexicon | None = None) -> list[Candidate]:
    """Every item of every section, in text order (the learned decision picks the duties among them)."""
    lexicon = lexicon or default_lexicon()
    found: list[Candidate] = []
    for section in sections:
        pieces = _cut_pieces(text, section.start, section.end, lexicon, split_on_capitals=True)
        found += [Candidate(a, b, section.label, kind, i, len(pieces), section.header)
                  for i, (a, b, kind) in enumerate(pieces)]
    return found


def _bucket(value: int, edges: tuple[int, ...]) -> str:
    for edge in edges:
        if value <= edge:
            return f"<={edge}"
    return f">{edges[-1]}"


_MONEY = re.compile(r"\$ ?\d|\d ?(?:usd|pesos|€|eur)\b", re.IGNORECASE)
_CONTACT = re.compile(r"https?://|www\.|\S@\S")


@lru_cache(maxsize=4096)
def _first_word(header: str) -> str:
    words = _WORDS.findall(header)
    return fold_in_place(words[0]) if words else ""


def _contains_or_within(spans: list[tuple[int, int]], starts: list[int], start: int, end: int) -> bool:
    """Whether one of the sorted, non-overlapping ``spans`` holds ``start:end`` or lies within it."""
    before = bisect_right(starts, start) - 1
    if before >= 0 and end <= spans[before][1]:
        return True
    after = bisect_left(starts, start)
    return after < len(spans) and spans[after][1] <= end


def candidate_features(text: str, candidates: list[Candidate], sections: list[Section],
                       lexicon: SegmentLexicon | None = None) -> list[dict[str, float]]:
    """What a reader weighs to decide whether each candidate is a duty: where it stands (section,
    heading, position in its list, the cut before it), how it opens (a task verb, a noun of action,
    a future), its size and contents, what the hand rules say, and the same for its neighbours."""
    lexicon = lexicon or default_lexicon()
    rule_spans = sorted((d.start, d.end) for d in cut_duties(text, sections, lexicon))
    rule_starts = [a for a, _ in rule_spans]
    has_duties_section = any(s.label == "duties" for s in sections)
    seen: set[str] = set()
    rows = []
    for c in candidates:
        piece = text[c.start:c.end]
        words = _WORDS.findall(piece)
        first = fold_in_place(words[0]) if words else ""
        folded = fold_in_place(piece)
        key = _words_key(piece)
        f: dict[str, float] = {
            f"section={c.section}": 1, f"cut={c.cut}": 1, f"pos={_bucket(c.index, (0, 1, 2, 4, 8))}": 1,
            f"size={_bucket(c.section_size, (1, 2, 4, 8, 16))}": 1, f"words={_bucket(len(words), (1, 2, 4, 7, 12, 20, 35))}": 1,
            f"first={first}": 1, f"first_end={first[-3:]}": 1,
            f"header={_first_word(c.header)}": 1,
            f"where={_bucket(int(10 * c.start / max(len(text), 1)), (0, 2, 5, 8))}": 1,
        }
        flags = {
            "last_in_section": c.index == c.section_size - 1, "ad_has_duties_section": has_duties_section,
            "infinitive": bool(words) and _is_infinitive(first, lexicon),
            "action_noun": first.endswith(("cion", "sion", "miento")), "opener": first in lexicon.openers,
            "task_led": _is_task_led(piece, lexicon), "ends_colon": text[c.end:c.end + 1] == ":",
            "digit": any(map(str.isdigit, piece)), "money": bool(_MONEY.search(piece)),
            "contact": bool(_CONTACT.search(piece)), "not_duty_pattern": bool(lexicon.not_duty.search(folded)),
            "title_like": _looks_like_title(piece, lexicon), "upper": piece.isupper(),
            "repeat": key in seen, "question": "?" in piece,
            "rule_duty": _contains_or_within(rule_spans, rule_starts, c.start, c.end),
        }
        f.update({name: 1 for name, on in flags.items() if on})
        seen.add(key)
        rows.append(f)
    for i, f in enumerate(rows):
        for offset, tag in ((-1, "prev"), (1, "next")):
            j = i + offset
            if 0 <= j < len(rows) and candidates[j].section == candidates[i].section:
                for name in ("rule_duty", "infinitive", "action_noun", "task_led", "ends_colon"):
                    if rows[j].get(name):
                        f[f"{tag}_{name}"] = 1
            else:
                f[f"{tag}=none"] = 1
    return rows


def candidate_lemmas(doc: Doc, candidates: list[Candidate]) -> list[str]:
    """Each candidate as the accent-folded lemmas of its words, read off the lemmatised doc."""
    return lemma_texts_of_ranges(doc, [(c.start, c.end) for c in candidates])


def candidate_context(lemmas: list[str], candidates: list[Candidate]) -> list[str]:
    """The words around each candidate, tagged by where they stand: its heading (``h_``), the item
    before (``p_``) and after (``n_``)."""
    out = []
    for i, c in enumerate(candidates):
        words = [f"h_{fold_in_place(w)}" for w in _WORDS.findall(c.header)]
        if i > 0:
            words += [f"p_{w}" for w in lemmas[i - 1].split()]
        if i + 1 < len(candidates):
            words += [f"n_{w}" for w in lemmas[i + 1].split()]
        out.append(" ".join(words))
    return out


ITEM_LEMMAS = "cmclassify_item_lemmas"
"""``doc.user_data`` key: the lemmas of each span of ``doc.spans["items"]``, in order."""
SECTIONS = "cmclassify_sections"
DUTIES = "cmclassify_duties"
if not Span.has_extension("section"):
    Span.set_extension("section", default="")


class _LexiconComponent:
    """A component whose rules (the segmentation lexicon) travel with the pipeline."""

    def __init__(self, lexicon_dir: str | None = None):
        self.lexicon = SegmentLexicon.from_disk(Path(lexicon_dir)) if lexicon_dir else default_lexicon()

    def to_disk(self, path: str | Path, *, exclude: Any = ()) -> None:
        self.lexicon.to_disk(Path(path))

    def from_disk(self, path: str | Path, *, exclude: Any = ()) -> "_LexiconComponent":
        self.lexicon = SegmentLexicon.from_disk(Path(path))
        return self


class SectionTagger(_LexiconComponent):
    """Writes ``doc.spans["sections"]``, one span per section labelled with its section name."""

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for section in find_sections(doc_text(doc), self.lexicon):
            span = doc.char_span(section.start, section.end, label=section.label, alignment_mode="expand")
            if span is not None and len(span):
                spans.append(span)
        doc.spans["sections"] = spans
        return doc


def candidate_inputs(doc: Doc, lexicon: SegmentLexicon) -> tuple[list[Candidate], dict[str, list[Any]]]:
    """The candidate items of a lemmatised doc and the extraction model's input for each (the columns
    of :class:`cmclassify.DutyCandidateClassifier`'s DataFrame)."""
    text = doc_text(doc)
    sections = [Section(s.label_, s.start_char, s.end_char) for s in doc.spans.get("sections", [])] \
        or find_sections(text, lexicon)
    candidates = find_candidates(text, sections, lexicon)
    lemmas = candidate_lemmas(doc, candidates)
    return candidates, {"features": candidate_features(text, candidates, sections, lexicon),
                        "text": lemmas, "context": candidate_context(lemmas, candidates)}


class DutySegmenter(_LexiconComponent):
    """Writes ``doc.spans["duties"]``, in text order, each with ``span._.section``, the section it
    stands in (a later component gives each its codebook label), and ``doc.spans["items"]``, every
    candidate item labelled with its section (the judge reads them for sentence-level findings).

    The rule segmenter proposes candidates (bullets, lines, sentences, run-together items) and the
    extraction model decides which are duties, a batch of docs at a time; a repeated item counts once.
    ``to_disk`` writes the lexicon and the model, so both travel with a saved pipeline.
    """

    model = ShippedModelAttribute(EXTRACTION_MODEL, DutyCandidateClassifier)
    """The extraction model in use: the shipped one unless another was set."""

    def __init__(self, lexicon_dir: str | None = None, model: DutyCandidateClassifier | None = None):
        super().__init__(lexicon_dir)
        self.model = model

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 256) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            yield from self._segment(list(batch))

    def _segment(self, docs: list[Doc]) -> list[Doc]:
        found = [candidate_inputs(doc, self.lexicon) for doc in docs]
        batch = {column: [value for _, inputs in found for value in inputs[column]] for column in ("features", "text", "context")}
        chosen = iter(self.model.predict(pd.DataFrame(batch)) if batch["text"] else [])
        for doc, (candidates, inputs) in zip(docs, found):
            doc.user_data[ITEM_LEMMAS] = inputs["text"]
            text = doc_text(doc)
            spans, items, seen = [], [], set()
            for candidate in candidates:
                is_duty = next(chosen)
                span = doc.char_span(candidate.start, candidate.end, label=candidate.section, alignment_mode="expand")
                if span is None:
                    continue
                items.append(span)
                key = _words_key(text[candidate.start:candidate.end])
                if not is_duty or key in seen:
                    continue
                seen.add(key)
                duty = doc.char_span(candidate.start, candidate.end, alignment_mode="expand")
                duty._.section = candidate.section
                spans.append(duty)
            if len(items) != len(candidates):  # a candidate that does not align with tokens has no item
                doc.user_data[ITEM_LEMMAS] = lemma_texts_of_ranges(doc, [(i.start_char, i.end_char) for i in items])
            doc.spans["items"] = items
            doc.spans["duties"] = spans
        return docs

    def to_disk(self, path: str | Path, *, exclude: Any = ()) -> None:
        super().to_disk(path)
        save_model(self.model, path, {"model_version": "saved with a spaCy pipeline", "params": self.model.get_params(),
                                      "library_versions": library_versions()}, name=EXTRACTION_MODEL)

    def from_disk(self, path: str | Path, *, exclude: Any = ()) -> "DutySegmenter":
        super().from_disk(path)
        # Loading a saved pipeline is choosing to run it: its model is trusted, and checked against its card.
        self.model = load_model(path, trusted=True, expected=DutyCandidateClassifier, name=EXTRACTION_MODEL)
        return self


@Language.factory(SECTIONS, default_config={"lexicon_dir": None})
def make_section_tagger(nlp: Language, name: str, lexicon_dir: str | None) -> SectionTagger:
    return SectionTagger(lexicon_dir)


@Language.factory(DUTIES, default_config={"lexicon_dir": None})
def make_duty_segmenter(nlp: Language, name: str, lexicon_dir: str | None) -> DutySegmenter:
    return DutySegmenter(lexicon_dir)
