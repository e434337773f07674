"""Ad-level judgments (codebook, Unit 2): CM role, alchemist reasons A–E, follower credentials, hype titles.

Every finding carries its evidence (text and offsets into the cleaned text, or
into the title) and a plain-language explanation and suggestion in Spanish and
English. Patterns live in ``data/lexicons/flags.yaml`` and ``cm_titles.yaml``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from spacy.language import Language
import numpy
from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH, NORM
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from .clean import fold, fold_in_place
from .nlp import SimplemmaLemmatizer, doc_text
from .resources import lexicon_path
from .segment import item_spans

REASONS = {"A": "outcome_overreach", "B": "scope_overload", "C": "sole_ownership", "D": "facade", "E": "mismatch"}
FUNCTION_NAMES = {
    "social_media": "social media / community", "content_writing": "content writing", "graphic_design": "graphic design",
    "video_photo": "video / photography", "paid_advertising": "paid advertising", "seo_sem": "SEO / SEM",
    "web": "web development / maintenance", "email_marketing": "e-mail marketing", "sales_follow_up": "sales / lead follow-up",
    "customer_service": "customer service", "press_pr": "press / PR", "events": "events", "analytics": "analytics / reporting",
    "strategy": "overall marketing or communication strategy",
}
SCOPE_OVERLOAD_MIN_FUNCTIONS = 5
_REASON_WEIGHTS = {"A": 0.55, "C": 0.3, "D": 0.3, "E": 0.3}
_SCOPE_WEIGHT = 0.55
_NOT_HIRE_SECTIONS = frozenset({"requirements", "offer", "company", "apply"})
_NEGATION_WINDOW = 4
_TITLE_WORDS = re.compile(r"[^\W\d_]+")
_TITLE_KEYS = ("names_cm_work", "explicit_cm", "skill_context", "channel_context", "other_job", "never_cm", "sales_job", "hype")
_MATCH_GROUPS = ("outcome_overreach", "sole_ownership", "support_named", "facade", "escalation", "junior_post",
                 "strategy_ownership", "strategy_not_owned", "follower_credential", "follower_not_own",
                 "running_accounts")


@dataclass(frozen=True)
class Evidence:
    """A quoted stretch of the ad: ``text == source[start:end]`` where source is the clean text or the title."""

    text: str
    start: int
    end: int
    field: str = "text"


@dataclass
class Finding:
    flag: str  # alchemist, follower_credential or hype_title
    reason: str  # A-E for alchemist, "" otherwise
    evidence: list[Evidence]
    detail: str = ""
    values: dict[str, str] = field(default_factory=dict)

    @property
    def reason_name(self) -> str:
        return REASONS.get(self.reason, self.flag)


@dataclass
class Judgement:
    is_cm_role: bool
    alchemist: bool
    alchemist_score: float
    alchemist_reasons: str
    n_functions: int
    functions: list[str]
    follower_credential: bool
    hype_title: bool
    findings: list[Finding]


# --- rules ------------------------------------------------------------------------

def _piece_variants(piece: list[str], lemmatizer: SimplemmaLemmatizer) -> list[list[str]]:
    """``["aumentar|incrementar", "?el", "venta"]`` -> every accent-folded lemma sequence it stands for."""
    variants: list[list[str]] = [[]]
    for part in piece:
        words = part.lstrip("?").split("|")
        norms = sorted({lemmatizer.lemma_and_norm(w.lower())[1] for w in words} | {fold(w) for w in words})
        options: list[list[str]] = [[n] for n in norms] + ([[]] if part.startswith("?") else [])
        variants = [v + o for v in variants for o in options]
    return [v for v in variants if v]


def _anchor_hashes(pattern: list[dict[str, Any]], vocab: Any) -> set[int] | None:
    """Hashes of the NORM values one required token of a raw pattern can take (None if no token has them)."""
    for token in pattern:
        if token.get("OP") in ("?", "*"):
            continue
        value = token.get("NORM")
        values = value.get("IN") if isinstance(value, dict) else [value] if isinstance(value, str) else None
        if values:
            return {vocab.strings.add(v) for v in values}
    return None


def running_breaks(punct_and_space: numpy.ndarray) -> numpy.ndarray:
    """Running count of punctuation and line breaks: equal counts at two tokens mean no break between."""
    return numpy.concatenate([[0], numpy.cumsum(punct_and_space.max(axis=1))])


class PatternSet:
    """Rules in the phrase syntax of ``flags.yaml``, matched over accent-folded lemmas (``token.norm_``).

    Each stretch of a phrase between ``*`` gaps becomes ``PhraseMatcher`` phrases
    (one per combination of its alternatives); the stretches are chained here,
    at most ``MAX_GAP`` words apart with no punctuation between. A hash lookup per
    token keeps this fast; ``Matcher`` patterns with alternatives and gaps cost a
    predicate check per token and pattern, a hundred times slower. Raw token
    patterns (lists of dicts) go to a ``Matcher`` as they are.
    """

    MAX_GAP = 6

    def __init__(self, vocab: Any):
        self.vocab = vocab
        self.phrases = PhraseMatcher(vocab, attr="NORM")
        self.matcher = Matcher(vocab)
        self.rules: list[tuple[str, list[str]]] = []  # (group, keys of its chained pieces)
        self._by_first_key: dict[str, list[tuple[str, list[str]]]] = {}
        self._words: dict[str, set[str] | None] = {}
        # NORM values that raw patterns need; the Matcher only runs on docs containing one
        # (None: some raw pattern needs no such value, so the Matcher always runs).
        self._raw_anchors: set[int] | None = set()

    def add(self, group: str, rule: Any, lemmatizer: SimplemmaLemmatizer) -> None:
        n = len(self.rules)
        if isinstance(rule, list):
            key = f"{group}#{n}"
            self.matcher.add(key, [rule])
            self._append(group, [key])
            self._words[group] = None  # type: ignore[assignment]  (a raw pattern: any word may match)
            anchors = _anchor_hashes(rule, self.vocab)
            self._raw_anchors = None if anchors is None or self._raw_anchors is None else self._raw_anchors | anchors
            return
        pieces: list[list[str]] = [[]]
        for part in str(rule).split():
            if part == "*":
                pieces.append([])
            else:
                pieces[-1].append(part)
        keys = []
        for i, piece in enumerate(p for p in pieces if p):
            key = f"{group}#{n}.{i}"
            variants = _piece_variants(piece, lemmatizer)
            self.phrases.add(key, [self._phrase_doc(words) for words in variants])
            if i == 0 and self._words.get(group, set()) is not None:
                self._words.setdefault(group, set()).update(words[0] for words in variants)
            keys.append(key)
        self._append(group, keys)

    def words_of(self, group: str) -> set[str] | None:
        """The words (accent-folded lemmas) a match of the group can start with; None when a raw pattern
        may start anywhere."""
        return self._words.get(group, set())

    def _append(self, group: str, keys: list[str]) -> None:
        self.rules.append((group, keys))
        self._by_first_key.setdefault(keys[0], []).append((group, keys))

    def _phrase_doc(self, norms: list[str]) -> Doc:
        doc = Doc(self.vocab, words=norms)
        for token, norm in zip(doc, norms):
            token.norm_ = norm
        return doc

    def __call__(self, doc: Doc, norms: list[int] | None = None,
                 breaks: numpy.ndarray | None = None) -> dict[str, list[tuple[int, int]]]:
        """Token spans (start, end) of every rule that matches, by group. ``norms`` (the doc's NORM
        hashes) and ``breaks`` (running count of punctuation and line breaks) are computed when not given."""
        strings = doc.vocab.strings
        found: dict[str, list[tuple[int, int]]] = {}
        matches = list(self.phrases(doc))
        if self._raw_anchors is None or (self._raw_anchors and not self._raw_anchors.isdisjoint(
                norms if norms is not None else doc.to_array(NORM).tolist())):
            matches += self.matcher(doc)
        for match_id, start, end in matches:
            found.setdefault(strings[match_id], []).append((start, end))
        result: dict[str, list[tuple[int, int]]] = {}
        candidates = [rule for key in found for rule in self._by_first_key.get(key, ())]
        for group, keys in candidates:
            if not all(key in found for key in keys):
                continue
            if len(keys) > 1 and breaks is None:
                breaks = running_breaks(doc.to_array([IS_PUNCT, IS_SPACE]))
            for start, end in found[keys[0]]:
                for key in keys[1:]:
                    following = [(s, e) for s, e in found[key]
                                 if end <= s <= end + self.MAX_GAP and breaks[s] == breaks[end]]  # type: ignore[index]
                    if not following:
                        break
                    end = min(following)[1]
                else:
                    result.setdefault(group, []).append((start, end))
        return result


def _merge(base: dict[str, Any], extra: dict[str, Any], replace: bool) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if key == "replace":
            continue
        if key in merged and not replace:
            if isinstance(value, dict):
                merged[key] = {**merged[key], **{k: list(merged[key].get(k, [])) + list(v) for k, v in value.items()}}
            else:
                merged[key] = list(merged[key]) + list(value)
        else:
            merged[key] = value
    return merged


class FlagRules:
    """The compiled patterns of the flags. ``FlagRules.load("mine.yaml")`` adds a user's file to the defaults."""

    def __init__(self, flag_spec: dict[str, Any], title_spec: dict[str, Any], vocab_nlp: Language):
        lemmatizer = SimplemmaLemmatizer()
        self.spec = flag_spec
        self.patterns = PatternSet(vocab_nlp.vocab)
        for group in _MATCH_GROUPS:
            for rule in flag_spec.get(group, []):
                self.patterns.add(group, rule, lemmatizer)
        self.function_groups = list(flag_spec.get("functions", {}))
        for name, rules in flag_spec.get("functions", {}).items():
            for rule in rules:
                self.patterns.add(f"function:{name}", rule, lemmatizer)
        self.supporting = {fold(w) for w in flag_spec.get("supporting_openers", [])}
        strings = vocab_nlp.vocab.strings
        self.negation_hashes = {strings.add(fold(w)) for w in flag_spec.get("negation", [])}
        self.negation_adjacent_hashes = {strings.add(fold(w)) for w in flag_spec.get("negation_adjacent", [])}
        # One alternation per key: a single search per title and key.
        self.titles = {key: [re.compile("|".join(f"(?:{p})" for p in title_spec[key]))] if title_spec.get(key) else []
                       for key in _TITLE_KEYS}
        self._nlp = vocab_nlp
        self._lemmatizer = vocab_nlp.get_pipe("cmclassify_lemmatizer")
        self._junior_titles: dict[str, bool] = {}
        self.title_cache: dict[tuple[str, str], list[re.Match[str]]] = {}

    def title_is_junior(self, title: str) -> bool:
        """Whether the title names a junior, intern or part-time post (cached: titles repeat)."""
        cached = self._junior_titles.get(title)
        if cached is None:
            # Most titles share no word with the patterns: no need to build a doc for them.
            words = self.patterns.words_of("junior_post")
            norms = {self._lemmatizer.lemma_and_norm(w)[1] for w in _TITLE_WORDS.findall(title.lower())}
            cached = (words is None or not norms.isdisjoint(words)) and \
                "junior_post" in self.patterns(self._lemmatizer(self._nlp.make_doc(title)))
            if len(self._junior_titles) < 100_000:
                self._junior_titles[title] = cached
        return cached

    @classmethod
    def load(cls, *extra_files: str | Path, replace: bool = False) -> "FlagRules":
        """Default rules plus the groups in ``extra_files`` (added to the defaults, or replacing
        them when ``replace`` is true or the file says ``replace: true``)."""
        from .nlp import shared_nlp

        flags = yaml.safe_load(lexicon_path("flags.yaml").read_text(encoding="utf-8"))
        titles = yaml.safe_load(lexicon_path("cm_titles.yaml").read_text(encoding="utf-8"))
        for path in extra_files:
            extra = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
            replace_here = replace or bool(extra.get("replace"))
            title_keys = {k: v for k, v in extra.items() if k in _TITLE_KEYS}
            flags = _merge(flags, {k: v for k, v in extra.items() if k not in title_keys}, replace_here)
            titles = _merge(titles, title_keys, replace_here)
        return cls(flags, titles, shared_nlp())


@lru_cache(maxsize=1)
def default_rules() -> FlagRules:
    return FlagRules.load()


@lru_cache(maxsize=1)
def messages() -> dict[str, Any]:
    """Explanations and suggestions per finding, in Spanish and English (``data/lexicons/messages.yaml``)."""
    return yaml.safe_load(lexicon_path("messages.yaml").read_text(encoding="utf-8"))


def finding_records(ad_id: str, findings: list[Finding]) -> list[dict[str, Any]]:
    """One row per piece of evidence, with the finding's explanation and suggestion in both languages."""
    rows = []
    for finding in findings:
        text = messages()[finding.reason or finding.flag]
        values = {"n": "", "functions": "", "word": "", **finding.values}
        localised = {f"{part}_{lang}": text[part][lang].format(**values)
                     for part in ("explanation", "suggestion") for lang in ("es", "en")}
        for evidence in finding.evidence:
            rows.append({"ad_id": ad_id, "flag": finding.flag, "reason": finding.reason,
                         "reason_name": finding.reason_name, "evidence": evidence.text, "field": evidence.field,
                         "start": evidence.start, "end": evidence.end, "detail": finding.detail, **localised})
    return rows


# --- judging one ad ---------------------------------------------------------------

class Hit(NamedTuple):
    """A pattern match: token and character offsets (what a ``Span`` holds, without building one)."""

    start: int
    end: int
    start_char: int
    end_char: int


class _AdView:
    """Matches of one doc, grouped, with the sentence-like unit and section of every offset."""

    def __init__(self, doc: Doc, rules: FlagRules):
        self.doc = doc
        self.rules = rules
        self._units: list[tuple[int, int]] | None = None
        self._unit_starts: list[int] = []
        self.duties = [(d.start_char, d.end_char) for d in doc.spans.get("duties", [])]
        self.duty_starts = [start for start, _ in self.duties]
        sections = list(doc.spans.get("sections", []))
        self.section_starts = [s.start_char for s in sections]
        self.section_labels = [s.label_ for s in sections]
        self.matches: dict[str, list[Hit]] = {}
        arrays = doc.to_array([NORM, IDX, LENGTH, IS_PUNCT, IS_SPACE])
        self._norms = arrays[:, 0].tolist()
        found = rules.patterns(doc, self._norms, running_breaks(arrays[:, 3:5]))
        if found:
            starts, lengths = arrays[:, 1].tolist(), arrays[:, 2].tolist()
            self._breaks = (arrays[:, 3] | arrays[:, 4]).tolist()
            for group, spans in found.items():
                kept = [Hit(start, end, starts[start], starts[end - 1] + lengths[end - 1])
                        for start, end in spans if not self._negated(start)]
                if kept:
                    self.matches[group] = kept

    def unit_of(self, span: Hit | Span) -> tuple[int, int]:
        """The duty holding the span, else the bullet, line or sentence holding it."""
        d = bisect.bisect_right(self.duty_starts, span.start_char) - 1
        if d >= 0 and self.duties[d][1] >= span.end_char:
            return self.duties[d]
        if self._units is None:  # only ads with findings outside duties need them
            self._units = item_spans(doc_text(self.doc))
            self._unit_starts = [start for start, _ in self._units]
        i = bisect.bisect_right(self._unit_starts, span.start_char) - 1
        if i >= 0 and self._units[i][1] >= span.end_char:
            return self._units[i]
        return span.start_char, span.end_char

    def section_of(self, span: Hit) -> str:
        i = bisect.bisect_right(self.section_starts, span.start_char) - 1
        return self.section_labels[i] if i >= 0 else "intro"

    def _negated(self, start: int) -> bool:
        """A negation word shortly before the match, in the same sentence or item."""
        rules = self.rules
        for i in range(start - 1, max(-1, start - 1 - _NEGATION_WINDOW), -1):
            if self._breaks[i]:
                break
            if self._norms[i] in rules.negation_hashes or (i == start - 1 and self._norms[i] in rules.negation_adjacent_hashes):
                return True
        return False

    def get(self, group: str, *, hire_sections_only: bool = False) -> list[Hit]:
        spans = self.matches.get(group, [])
        if hire_sections_only:
            spans = [s for s in spans if self.section_of(s) not in _NOT_HIRE_SECTIONS]
        return spans

    def evidence(self, spans: Iterable[Hit | Span]) -> list[Evidence]:
        seen: dict[tuple[int, int], Evidence] = {}
        for span in spans:
            start, end = self.unit_of(span)
            seen.setdefault((start, end), Evidence(doc_text(self.doc)[start:end], start, end))
        return list(seen.values())

    def in_unit(self, group: str, unit: tuple[int, int]) -> bool:
        return any(unit[0] <= s.start_char and s.end_char <= unit[1] for s in self.matches.get(group, []))


def _title_matches(rules: FlagRules, key: str, folded_title: str) -> list[re.Match[str]]:
    """Matches of the title patterns of ``key`` (cached per title: titles repeat across ads)."""
    cached = rules.title_cache.get((key, folded_title))
    if cached is None:
        cached = [m for pattern in rules.titles[key] if (m := pattern.search(folded_title))]
        if len(rules.title_cache) < 200_000:
            rules.title_cache[(key, folded_title)] = cached
    return cached


def _only_supports(duty: Span, rules: FlagRules) -> bool:
    """A duty opening with "apoyar", "colaborar", "derivar"…: the work belongs to another team."""
    return next((t.norm_ for t in duty if t.is_alpha), "") in rules.supporting


def _functions(view: _AdView, duties: list[Span]) -> dict[str, Span]:
    """Functions assigned by the duties (supporting duties excluded), each with the first duty naming it."""
    assigned: dict[str, Span] = {}
    for duty in duties:
        if _only_supports(duty, view.rules):
            continue
        unit = (duty.start_char, duty.end_char)
        named = {name for name in view.rules.function_groups if view.in_unit(f"function:{name}", unit)}
        if "press_pr" in named:
            named.discard("content_writing")  # "redactar notas de prensa" is press work
        if view.in_unit("strategy_not_owned", unit):
            named.discard("strategy")  # carrying out a strategy set by others
        for name in view.rules.function_groups:
            if name in named and name not in assigned:
                assigned[name] = duty
    return assigned


def _is_cm_role(view: _AdView, folded_title: str, duties: list[Span]) -> bool:
    """CM role when the title names the work (not as a skill, a channel or part of another job's title),
    or when at least half the duties run the organisation's social accounts."""
    rules = view.rules
    never = bool(_title_matches(rules, "never_cm", folded_title))
    if _title_matches(rules, "explicit_cm", folded_title) and not never:
        return True
    names_work = bool(_title_matches(rules, "names_cm_work", folded_title))
    qualified = never or any(_title_matches(rules, key, folded_title)
                             for key in ("skill_context", "channel_context", "other_job"))
    if names_work and not qualified:
        return True

    # For a sales, call-centre or craft title, answering messages on social media only uses them as a channel.
    strict = any(_title_matches(rules, key, folded_title) for key in ("other_job", "channel_context"))

    def runs_accounts(duty: Span) -> bool:
        unit = (duty.start_char, duty.end_char)
        return (not _only_supports(duty, rules) and view.in_unit("function:social_media", unit)
                and (not strict or view.in_unit("running_accounts", unit)))

    running = sum(runs_accounts(d) for d in duties)
    return running > 0 and running >= 0.5 * len(duties)


def judge(doc: Doc, title: str, rules: FlagRules | None = None) -> Judgement:
    """All ad-level judgments for one processed ad (``doc`` from :func:`cmclassify.load_nlp`)."""
    rules = rules or default_rules()
    view = _AdView(doc, rules)
    duties = list(doc.spans.get("duties", []))
    folded_title = fold_in_place(title or "")
    findings: list[Finding] = []
    is_cm = _is_cm_role(view, folded_title, duties)
    # A salesperson's own quota is not A, also in a CM + sales post.
    sales_post = bool(_title_matches(rules, "sales_job", folded_title))

    letters: dict[str, Finding] = {}
    outcome = view.get("outcome_overreach", hire_sections_only=True)
    if outcome and not sales_post:
        letters["A"] = Finding("alchemist", "A", view.evidence(outcome))

    functions = _functions(view, duties)
    if len(functions) >= SCOPE_OVERLOAD_MIN_FUNCTIONS:
        names = [FUNCTION_NAMES[f] for f in functions]
        letters["B"] = Finding("alchemist", "B", view.evidence(functions.values()),
                               detail=f"{len(functions)} functions: {', '.join(names)}",
                               values={"n": str(len(functions)), "functions": ", ".join(names)})

    ownership = view.get("sole_ownership", hire_sections_only=True)
    if ownership and not view.get("support_named"):
        letters["C"] = Finding("alchemist", "C", view.evidence(ownership))

    facade = [s for s in view.get("facade", hire_sections_only=True)
              if is_cm or view.in_unit("function:social_media", view.unit_of(s))]
    if facade and not view.get("escalation"):
        letters["D"] = Finding("alchemist", "D", view.evidence(facade))

    title_junior = bool(title) and rules.title_is_junior(title)
    junior = title_junior or view.get("junior_post")
    owned = [s for s in view.get("strategy_ownership", hire_sections_only=True)
             if not view.in_unit("strategy_not_owned", view.unit_of(s))]
    if junior and (owned or "A" in letters):
        evidence = view.evidence(owned or outcome)
        if title_junior:
            evidence = [Evidence(title, 0, len(title), "title")] + evidence
        else:
            evidence = view.evidence(junior[:1]) + evidence
        letters["E"] = Finding("alchemist", "E", evidence)

    alchemist = "A" in letters or "B" in letters or len(letters) >= 2
    keep = 1.0
    for letter in letters:
        keep *= 1 - _REASON_WEIGHTS.get(letter, 0.0)
    if len(functions) >= 3:
        keep *= 1 - _SCOPE_WEIGHT * min(1.0, (len(functions) - 2) / 3)
    findings.extend(letters[k] for k in sorted(letters))

    followers = [s for s in view.get("follower_credential") if not view.in_unit("follower_not_own", view.unit_of(s))]
    if followers:
        findings.append(Finding("follower_credential", "", view.evidence(followers)))

    hype = _title_matches(rules, "hype", folded_title)
    if hype:
        match = min(hype, key=lambda m: m.start())
        findings.append(Finding("hype_title", "", [Evidence(title[match.start():match.end()], match.start(), match.end(), "title")],
                                values={"word": title[match.start():match.end()]}))

    return Judgement(is_cm_role=is_cm, alchemist=alchemist, alchemist_score=round(1 - keep, 4),
                     alchemist_reasons=",".join(sorted(letters)), n_functions=len(functions),
                     functions=list(functions), follower_credential=bool(followers), hype_title=bool(hype),
                     findings=findings)
