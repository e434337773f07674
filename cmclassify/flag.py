"""Stage 6, flagging: the ad-level judgments of the codebook's Unit 2.

The CM role, the alchemist reasons A–E, follower credentials, hype titles and discriminatory
requirements (found by a learned sentence detector),
each finding with its evidence (text and offsets into the cleaned text, or into
the title) and a plain-language explanation and suggestion in Spanish and
English. Rules are data: ``data/lexicons/flags.yaml``, ``cm_titles.yaml`` and
``messages.yaml``, validated on load. The spaCy component ``cmclassify_judge``
writes the judgments into ``Doc`` extensions (see :data:`DOC_EXTENSIONS`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import yaml
from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH, NORM
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from .classify import label_shares, orientation
from .clean import fold, fold_in_place
from .estimators import CM_FEATURES, CmRoleClassifier, FunctionTagger, SentenceDetector
from .model_files import CM_ROLE_MODEL, FINDINGS_MODEL, FUNCTIONS_MODEL, ShippedModelAttribute, has_model, \
    library_versions, load_model, save_model
from .nlp import SimplemmaLemmatizer, doc_text, lemma_text_of_span
from .patterns import PatternSet, running_breaks
from .rules import FLAG_GROUPS, TITLE_GROUPS, DetectorSettings, DiscriminationPatterns, FlagPatterns, Messages, \
    TitlePatterns, bundled, load, validate
from .segment import ITEM_LEMMAS, item_spans
from .vocabulary import FUNCTIONS, GROUNDS, REASONS

_TITLE_WORDS = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Evidence:
    """A quoted stretch of the ad: ``text == source[start:end]`` where source is the clean text or the title."""

    text: str
    start: int
    end: int
    field: str = "text"


@dataclass
class Finding:
    flag: str  # alchemist, follower_credential, hype_title or discriminatory_requirement
    reason: str  # A-E for alchemist, the ground for a discriminatory requirement, "" otherwise
    evidence: list[Evidence]
    detail: str = ""
    values: dict[str, str] = field(default_factory=dict)

    @property
    def reason_name(self) -> str:
        if self.flag == "discriminatory_requirement":
            return self.reason
        return REASONS.get(self.reason, self.flag)


@dataclass
class Judgement:
    is_cm_role: bool
    alchemist: bool
    alchemist_score: float
    alchemist_reasons: str
    n_functions: int
    functions: list[str]
    rule_functions: list[str]
    """The functions the hand function rules find: what the CM-role model reads (chosen by CV)."""
    follower_credential: bool
    hype_title: bool
    discriminatory_requirement: bool
    discrimination_grounds: str
    title_groups: list[str]
    findings: list[Finding]


# --- rules ---------------------------------------------------------------------------------------

RULE_FILES = {"patterns": "flags.yaml", "titles": "cm_titles.yaml", "messages": "messages.yaml",
              "detectors": "detectors.yaml"}


_WHOLE_BLOCKS = ("scoring", "discrimination")
"""Blocks of settings a user's file replaces whole, never adds to."""


def _merge(base: FlagPatterns, extra: FlagPatterns, replace: bool) -> FlagPatterns:
    """``base`` with the groups ``extra`` sets added to it (or replacing them)."""
    merged = base.model_dump()
    for key in extra.model_fields_set - {"replace"}:
        value = getattr(extra, key)
        if key in _WHOLE_BLOCKS or replace or not merged.get(key):
            merged[key] = value.model_dump() if key in _WHOLE_BLOCKS else value
        elif key == "functions":
            merged[key] = {**merged[key], **{k: list(merged[key].get(k, [])) + list(v) for k, v in value.items()}}
        else:
            merged[key] = list(merged[key]) + list(value)
    return FlagPatterns.model_validate(merged)


class FlagRules:
    """The flag rules as validated data: patterns (``flags.yaml``), title patterns (``cm_titles.yaml``),
    messages (``messages.yaml``) and which findings come from the sentence detector, with their
    thresholds (``detectors.yaml``). ``FlagRules.load("mine.yaml")`` adds a user's file to the
    defaults; an unknown group or key in it is an error naming the file, the key and what is allowed."""

    def __init__(self, patterns: FlagPatterns, titles: TitlePatterns, messages: Messages, detectors: DetectorSettings):
        if patterns.scoring is None:
            raise ValueError("the flag patterns need a scoring block (reason weights and thresholds)")
        self.patterns, self.titles, self.messages, self.detectors = patterns, titles, messages, detectors
        self._compiled: dict[int, CompiledRules] = {}

    @classmethod
    def default(cls) -> "FlagRules":
        return default_rules()

    @classmethod
    def load(cls, *extra_files: str | Path, replace: bool = False) -> "FlagRules":
        """Default rules plus the groups in ``extra_files`` (added to the defaults, or replacing
        them when ``replace`` is true or the file says ``replace: true``). A file may hold title
        groups (those of ``cm_titles.yaml``) too."""
        base = default_rules()
        patterns, titles = base.patterns, base.titles.model_dump()
        for path in extra_files:
            extra = load(FlagPatterns, path)
            replace_here = replace or extra.replace
            title_keys = extra.model_fields_set & set(TITLE_GROUPS)
            for key in title_keys:
                titles[key] = getattr(extra, key) if replace_here else titles[key] + getattr(extra, key)
            given = {k: getattr(extra, k) for k in extra.model_fields_set - title_keys - {"replace"}}
            patterns = _merge(patterns, FlagPatterns.model_validate(given), replace_here)
        return cls(patterns, validate(TitlePatterns, titles, "merged title patterns"), base.messages, base.detectors)

    def compiled(self, nlp: Language) -> "CompiledRules":
        """The rules compiled for ``nlp``'s vocabulary (once per pipeline)."""
        key = id(nlp.vocab)
        if key not in self._compiled:
            self._compiled[key] = CompiledRules(self, nlp)
        return self._compiled[key]

    def to_disk(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for attribute, name in RULE_FILES.items():
            spec = getattr(self, attribute).model_dump(exclude_defaults=attribute == "patterns")
            (folder / name).write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")

    @classmethod
    def from_disk(cls, folder: Path) -> "FlagRules":
        return cls(load(FlagPatterns, folder / RULE_FILES["patterns"]), load(TitlePatterns, folder / RULE_FILES["titles"]),
                   load(Messages, folder / RULE_FILES["messages"]), load(DetectorSettings, folder / RULE_FILES["detectors"]))


@lru_cache(maxsize=1)
def default_rules() -> FlagRules:
    return FlagRules(bundled(FlagPatterns, "lexicons/flags.yaml"), bundled(TitlePatterns, "lexicons/cm_titles.yaml"),
                     bundled(Messages, "lexicons/messages.yaml"), bundled(DetectorSettings, "lexicons/detectors.yaml"))


class ScreeningPatterns:
    """The hand patterns of discriminatory requirements (``flags.yaml`` ``discrimination``), compiled."""

    def __init__(self, spec: DiscriminationPatterns):
        self.spec = spec
        self.sex = [re.compile(p) for p in spec.sex]
        self.appearance = [re.compile(p) for p in spec.appearance]
        self.ranges = [re.compile(p) for p in spec.age_ranges]
        self.upper = [re.compile(p) for p in spec.age_upper]
        self.lower = [re.compile(p) for p in spec.age_lower]
        words = "|".join(f"(?:{w})" for w in spec.experience_words)
        # "experiencia de 15 a 20 años" or "20 a 25 años de experiencia": experience, not age.
        self.experience_before = re.compile(f"(?:{words})") if words else None
        self.experience_after = re.compile(rf"\s*(?:de|en)\s+(?:{words})") if words else None

    def grounds(self, folded: str) -> list[str]:
        """The grounds an item's folded text states (``sex``, ``appearance``, ``age``)."""
        found = [g for g, patterns in (("sex", self.sex), ("appearance", self.appearance))
                 if any(p.search(folded) for p in patterns)]
        if any(folded.find(d) >= 0 for d in "0123456789") and self._age(folded):
            found.append("age")
        return found

    def _about_experience(self, folded: str, match: re.Match[str]) -> bool:
        if self.experience_before is None or self.experience_after is None:
            return False
        return bool(self.experience_before.search(folded, max(0, match.start() - 25), match.start())
                    or self.experience_after.match(folded, match.end()))

    def _age(self, folded: str) -> bool:
        bounds = self.spec.age_bounds
        low_number, high_number = bounds.numbers
        for pattern in self.ranges:
            for match in pattern.finditer(folded):
                low, high = int(match.group(1)), int(match.group(2))
                if (low_number <= low < high <= high_number and not self._about_experience(folded, match)
                        and (low > bounds.range_low_above or high <= bounds.range_high_at_most)):
                    return True
        for patterns, (least, most) in ((self.upper, bounds.upper_limit), (self.lower, bounds.lower_limit)):
            for pattern in patterns:
                for match in pattern.finditer(folded):
                    if least <= int(match.group(1)) <= most and not self._about_experience(folded, match):
                        return True
        return False


class CompiledRules:
    """Flag rules compiled to matchers for one pipeline's vocabulary."""

    def __init__(self, rules: FlagRules, nlp: Language):
        lemmatizer = SimplemmaLemmatizer()
        spec = rules.patterns
        self.rules = rules
        self.scoring = spec.scoring
        self.patterns = PatternSet(nlp.vocab)
        for group in FLAG_GROUPS:
            for rule in getattr(spec, group):
                self.patterns.add(group, rule, lemmatizer)
        self.function_groups = list(spec.functions)
        for name, function_rules in spec.functions.items():
            for rule in function_rules:
                self.patterns.add(f"function:{name}", rule, lemmatizer)
        self.supporting = {fold(w) for w in spec.supporting_openers}
        self.screening = ScreeningPatterns(spec.discrimination) if spec.discrimination else None
        strings = nlp.vocab.strings
        self.negation_hashes = {strings.add(fold(w)) for w in spec.negation}
        self.negation_adjacent_hashes = {strings.add(fold(w)) for w in spec.negation_adjacent}
        # One alternation per key: a single search per title and key.
        self.titles = {key: [re.compile("|".join(f"(?:{p})" for p in getattr(rules.titles, key)))]
                       if getattr(rules.titles, key) else [] for key in TITLE_GROUPS}
        self._tokenizer = nlp.tokenizer
        self._lemmatizer = lemmatizer
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
                "junior_post" in self.patterns(self._lemmatizer(self._tokenizer(title)))
            if len(self._junior_titles) < 100_000:
                self._junior_titles[title] = cached
        return cached


# --- judging one ad ---------------------------------------------------------------

class Hit(NamedTuple):
    """A pattern match: token and character offsets (what a ``Span`` holds, without building one)."""

    start: int
    end: int
    start_char: int
    end_char: int


class _AdView:
    """Matches of one doc, grouped, with the sentence-like unit and section of every offset."""

    def __init__(self, doc: Doc, rules: CompiledRules):
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
        for i in range(start - 1, max(-1, start - 1 - rules.scoring.negation_window), -1):
            if self._breaks[i]:
                break
            if self._norms[i] in rules.negation_hashes or (i == start - 1 and self._norms[i] in rules.negation_adjacent_hashes):
                return True
        return False

    def get(self, group: str, *, hire_sections_only: bool = False) -> list[Hit]:
        spans = self.matches.get(group, [])
        if hire_sections_only:
            spans = [s for s in spans if self.section_of(s) not in self.rules.scoring.not_hire_sections]
        return spans

    def evidence(self, spans: Iterable[Hit | Span]) -> list[Evidence]:
        seen: dict[tuple[int, int], Evidence] = {}
        for span in spans:
            start, end = self.unit_of(span)
            seen.setdefault((start, end), Evidence(doc_text(self.doc)[start:end], start, end))
        return list(seen.values())

    def in_unit(self, group: str, unit: tuple[int, int]) -> bool:
        return any(unit[0] <= s.start_char and s.end_char <= unit[1] for s in self.matches.get(group, []))


def _title_matches(rules: CompiledRules, key: str, folded_title: str) -> list[re.Match[str]]:
    """Matches of the title patterns of ``key`` (cached per title: titles repeat across ads)."""
    cached = rules.title_cache.get((key, folded_title))
    if cached is None:
        cached = [m for pattern in rules.titles[key] if (m := pattern.search(folded_title))]
        if len(rules.title_cache) < 200_000:
            rules.title_cache[(key, folded_title)] = cached
    return cached


def title_groups(rules: CompiledRules, folded_title: str) -> list[str]:
    """The title pattern groups (``cm_titles.yaml``) that match a folded title: what the title says of
    the role (names the work, names it as a skill or a channel, another job…)."""
    return [key for key in TITLE_GROUPS if _title_matches(rules, key, folded_title)]


def _only_supports(duty: Span, rules: CompiledRules) -> bool:
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


def expected_functions(proba: Any, duties: list[Span], supporting: list[bool]) -> tuple[float, dict[str, Span]]:
    """The ad's expected number of distinct functions from the tagger's per-duty probabilities (``proba``:
    one row per duty, one column per function), supporting duties left out (the codebook): each
    function's highest probability summed. The functions kept are the most probable ones, as many as
    that number rounded half up, each with the duty where it is most probable."""
    values = proba.to_numpy()[[not s for s in supporting]]
    if values.size == 0:
        return 0.0, {}
    kept_duties = [d for d, s in zip(duties, supporting) if not s]
    best, where = values.max(axis=0), values.argmax(axis=0)
    expected = float(best.sum())
    columns = list(proba.columns)
    ranked = sorted(range(len(columns)), key=lambda j: -best[j])[:int(expected + 0.5)]
    kept = {columns[j]: kept_duties[where[j]] for j in ranked}
    return expected, {name: kept[name] for name in FUNCTIONS if name in kept}


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


def judge(doc: Doc, title: str, rules: CompiledRules, detected: dict[str, list[Span]] | None = None,
          function_proba: Any = None) -> Judgement:
    """All ad-level judgments for one processed ad (``doc`` from :func:`cmclassify.load_nlp`);
    ``detected`` holds the items the sentence detector found for each kind it is used for, and
    ``function_proba`` the function tagger's probabilities for the ad's duties (without it, the hand
    function rules count the functions)."""
    detected = detected or {}
    scoring = rules.scoring
    view = _AdView(doc, rules)
    duties = list(doc.spans.get("duties", []))
    folded_title = fold_in_place(title or "")
    findings: list[Finding] = []
    is_cm = _is_cm_role(view, folded_title, duties)
    # A salesperson's own quota is not A, also in a CM + sales post.
    sales_post = bool(_title_matches(rules, "sales_job", folded_title))

    confirm = set(rules.rules.detectors.confirm)

    def confirmed(letter: str) -> bool:
        return letter not in confirm or bool(detected.get(letter))

    letters: dict[str, Finding] = {}
    outcome = view.get("outcome_overreach", hire_sections_only=True)
    if outcome and not sales_post and confirmed("A"):
        letters["A"] = Finding("alchemist", "A", view.evidence(outcome))

    rule_functions = _functions(view, duties)
    if function_proba is None:
        functions = rule_functions
    else:
        functions = expected_functions(function_proba, duties, [_only_supports(d, rules) for d in duties])[1]
    if len(functions) >= scoring.scope_overload_min_functions:
        names = [FUNCTIONS[f] for f in functions]
        letters["B"] = Finding("alchemist", "B", view.evidence(functions.values()),
                               detail=f"{len(functions)} functions: {', '.join(names)}",
                               values={"n": str(len(functions)), "functions": ",".join(functions)})

    ownership = view.get("sole_ownership", hire_sections_only=True)
    if ownership and not view.get("support_named") and confirmed("C"):
        letters["C"] = Finding("alchemist", "C", view.evidence(ownership))

    facade = [s for s in view.get("facade", hire_sections_only=True)
              if is_cm or view.in_unit("function:social_media", view.unit_of(s))]
    if facade and not view.get("escalation"):
        letters["D"] = Finding("alchemist", "D", view.evidence(facade))

    title_junior = bool(title) and rules.title_is_junior(title)
    junior = title_junior or view.get("junior_post")
    owned = [s for s in view.get("strategy_ownership", hire_sections_only=True)
             if not view.in_unit("strategy_not_owned", view.unit_of(s))]
    if junior and (owned or "A" in letters) and confirmed("E"):
        evidence = view.evidence(owned or outcome)
        if title_junior:
            evidence = [Evidence(title, 0, len(title), "title")] + evidence
        else:
            evidence = view.evidence(junior[:1]) + evidence
        letters["E"] = Finding("alchemist", "E", evidence)

    alchemist = "A" in letters or "B" in letters or len(letters) >= 2
    keep = 1.0
    for letter in letters:
        keep *= 1 - scoring.reason_weights.get(letter, 0.0)
    if len(functions) >= 3:
        keep *= 1 - scoring.scope_weight * min(1.0, (len(functions) - 2) / 3)
    findings.extend(letters[k] for k in sorted(letters))

    followers = [s for s in view.get("follower_credential") if not view.in_unit("follower_not_own", view.unit_of(s))]
    if followers:
        findings.append(Finding("follower_credential", "", view.evidence(followers)))

    hype = _title_matches(rules, "hype", folded_title)
    if hype:
        match = min(hype, key=lambda m: m.start())
        findings.append(Finding("hype_title", "", [Evidence(title[match.start():match.end()], match.start(), match.end(), "title")],
                                values={"word": title[match.start():match.end()]}))

    grounds = [g for g in GROUNDS if detected.get(f"discrimination:{g}")]
    findings.extend(Finding("discriminatory_requirement", g, view.evidence(detected[f"discrimination:{g}"]),
                            values={"ground": g}) for g in grounds)

    return Judgement(is_cm_role=is_cm, alchemist=alchemist, alchemist_score=round(1 - keep, 4),
                     alchemist_reasons=",".join(sorted(letters)), n_functions=len(functions),
                     functions=list(functions), rule_functions=list(rule_functions), follower_credential=bool(followers), hype_title=bool(hype),
                     discriminatory_requirement=bool(grounds), discrimination_grounds=",".join(grounds),
                     title_groups=title_groups(rules, folded_title),
                     findings=findings)


def finding_records(ad_id: str, findings: list[Finding], messages: Messages) -> list[dict[str, Any]]:
    """One row per piece of evidence, with the finding's explanation and suggestion in both languages."""
    rows = []
    for finding in findings:
        message = getattr(messages, finding.flag if finding.flag == "discriminatory_requirement" else
                          finding.reason or finding.flag)
        values = {"n": "", "functions": "", "functions_es": "", "functions_en": "", "word": "", **finding.values}
        if values["functions"]:
            keys = values["functions"].split(",")
            values.update(functions_es=", ".join(messages.functions[k].es for k in keys),
                          functions_en=", ".join(messages.functions[k].en for k in keys))
        if "ground" in finding.values:
            names = messages.grounds[finding.values["ground"]]
            values.update(ground_es=names.es, ground_en=names.en)
        localised = {f"{part}_{lang}": getattr(getattr(message, part), lang).format(**values)
                     for part in ("explanation", "suggestion") for lang in ("es", "en")}
        for evidence in finding.evidence:
            rows.append({"ad_id": ad_id, "flag": finding.flag, "reason": finding.reason,
                         "reason_name": finding.reason_name, "evidence": evidence.text, "field": evidence.field,
                         "start": evidence.start, "end": evidence.end, "detail": finding.detail, **localised})
    return rows


# --- the spaCy component ---------------------------------------------------------------------------

JUDGE = "cmclassify_judge"
DOC_EXTENSIONS = {
    "ad_title": "the ad's title (set it before the pipeline runs; the title patterns read it)",
    "is_cm_role": "the post is a community-manager / social-media role",
    "orientation": "marketing_sales, communication_conversation, mixed or undetermined (60 % rule over the duties)",
    "label_shares": "share of the duties with each label ({'share_marketing_sales': …})",
    "alchemist": "one hire expected to fix what is the organisation's problem",
    "alchemist_score": "0-1, to rank ads",
    "alchemist_reasons": "letters that hold, e.g. 'A,B'",
    "functions": "the distinct functions the duties assign, the most probable ones by the function tagger (scope overload at five or more)",
    "follower_credential": "the candidate's own audience treated as a qualification",
    "hype_title": "the title inflates the role",
    "discriminatory_requirement": "the ad screens candidates by a personal trait unrelated to the job",
    "discrimination_grounds": "the grounds that hold, e.g. 'age,appearance'",
    "findings": "list of dicts, one per piece of evidence: flag, reason, evidence, offsets, explanations, suggestions",
}
"""The ``Doc`` extensions (``doc._.name``) the judge component writes, with their meaning."""
for _name in DOC_EXTENSIONS:
    if not Doc.has_extension(_name):  # ad_title is registered with the tokens (nlp.py)
        Doc.set_extension(_name, default=None)


class Judge:
    """spaCy component: writes the ad-level judgments of the codebook into ``Doc`` extensions.

    Docs are judged a batch at a time: one call of the sentence detector for all their items
    (``doc.spans["items"]``), one of the function tagger for all their duties, and one of the CM-role
    model, which reads the hand rule's decision with the title, duties and functions. With
    ``use_cm_model`` false the hand rule decides the CM role, with ``use_function_model`` false the
    hand function rules count reason B's functions. ``to_disk`` writes the rules and the models.
    """

    detector = ShippedModelAttribute(FINDINGS_MODEL, SentenceDetector)
    """The sentence detector in use: the shipped one unless another was set."""
    function_model = ShippedModelAttribute(FUNCTIONS_MODEL, FunctionTagger)
    """The function tagger in use: the shipped one unless another was set."""
    cm_model = ShippedModelAttribute(CM_ROLE_MODEL, CmRoleClassifier)
    """The CM-role model in use: the shipped one unless another was set."""

    def __init__(self, nlp: Language, rules_dir: str | None = None, detector: SentenceDetector | None = None,
                 cm_model: CmRoleClassifier | None = None, use_cm_model: bool = True,
                 function_model: FunctionTagger | None = None, use_function_model: bool = True):
        self.nlp = nlp
        self.rules = FlagRules.from_disk(Path(rules_dir)) if rules_dir else default_rules()
        self.detector = detector
        self.function_model = function_model
        self.cm_model = cm_model
        self.use_cm_model = use_cm_model
        self.use_function_model = use_function_model

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 256) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            yield from self._judge(list(batch))

    def _detect(self, docs: list[Doc]) -> list[dict[str, list[Span]]]:
        """The items of each doc showing each kind: by the sentence detector (the kinds in use or to
        confirm, at their thresholds) and, for discriminatory grounds, by the hand patterns too."""
        settings = self.rules.detectors
        items = [(i, span) for i, doc in enumerate(docs) for span in doc.spans.get("items", [])]
        texts = [doc_text(docs[i])[span.start_char:span.end_char] for i, span in items]
        shown: dict[str, set[int]] = {}
        wanted = [kind for kind in (*settings.use, *settings.confirm) if kind in self.detector.kinds_]
        if wanted and items:
            import pandas as pd

            lemmas = [lemma for doc in docs for lemma in
                      doc.user_data.get(ITEM_LEMMAS) or [lemma_text_of_span(s) for s in doc.spans.get("items", [])]]
            proba = self.detector.predict_proba(pd.DataFrame({"text": texts, "lemmas": lemmas}), kinds=wanted)
            for kind in wanted:
                threshold = settings.thresholds.get(kind, self.detector.threshold)
                shown[kind] = set(np.flatnonzero(proba[kind].to_numpy() >= threshold).tolist())
        screening = self.rules.compiled(self.nlp).screening
        if screening is not None:
            for index, text in enumerate(texts):
                for ground in screening.grounds(fold(text)):
                    shown.setdefault(f"discrimination:{ground}", set()).add(index)
        found: list[dict[str, list[Span]]] = [{} for _ in docs]
        for kind, indices in shown.items():
            for index in sorted(indices):
                i, span = items[index]
                found[i].setdefault(kind, []).append(span)
        return found

    def _function_probabilities(self, docs: list[Doc]) -> list[Any]:
        """The function tagger's probabilities for each doc's duties (None for every doc without the model)."""
        if not self.use_function_model:
            return [None] * len(docs)
        import pandas as pd

        duties = [(doc, span) for doc in docs for span in doc.spans.get("duties", [])]
        frame = pd.DataFrame({"text": [doc_text(doc)[s.start_char:s.end_char] for doc, s in duties],
                              "lemmas": [lemma_text_of_span(s) for _, s in duties]})
        proba = self.function_model.predict_proba(frame)
        counts = [len(doc.spans.get("duties", [])) for doc in docs]
        ends = np.cumsum(counts)
        return [proba.iloc[end - count:end] for count, end in zip(counts, ends)]

    def _cm_roles(self, docs: list[Doc], judgements: list[Judgement]) -> list[bool]:
        if not self.use_cm_model:
            return [j.is_cm_role for j in judgements]
        import pandas as pd

        rows = []
        for doc, judgement in zip(docs, judgements):
            duties = list(doc.spans.get("duties", []))
            rows.append({"title": doc._.ad_title or "", "duties": " . ".join(s.text for s in duties),
                         "functions": ",".join(judgement.rule_functions), "n_duties": len(duties),
                         "rule_cm": judgement.is_cm_role, "title_groups": ",".join(judgement.title_groups),
                         **label_shares([s.label_ for s in duties])})
        return [bool(v) for v in self.cm_model.predict(pd.DataFrame(rows, columns=list(CM_FEATURES)))]

    def _judge(self, docs: list[Doc]) -> list[Doc]:
        rules = self.rules.compiled(self.nlp)
        judgements = [judge(doc, doc._.ad_title or "", rules, detected, functions) for doc, detected, functions
                      in zip(docs, self._detect(docs), self._function_probabilities(docs))]
        for doc, judgement, is_cm in zip(docs, judgements, self._cm_roles(docs, judgements)):
            labels = [span.label_ for span in doc.spans.get("duties", [])]
            doc._.is_cm_role = is_cm
            doc._.orientation = orientation(labels)
            doc._.label_shares = label_shares(labels)
            doc._.alchemist = judgement.alchemist
            doc._.alchemist_score = judgement.alchemist_score
            doc._.alchemist_reasons = judgement.alchemist_reasons
            doc._.functions = judgement.functions
            doc._.follower_credential = judgement.follower_credential
            doc._.hype_title = judgement.hype_title
            doc._.discriminatory_requirement = judgement.discriminatory_requirement
            doc._.discrimination_grounds = judgement.discrimination_grounds
            doc._.findings = finding_records("", judgement.findings, self.rules.messages)
        return docs

    def to_disk(self, path: str | Path, *, exclude: Any = ()) -> None:
        self.rules.to_disk(Path(path))
        for model, name in ((self.detector, FINDINGS_MODEL), (self.function_model, FUNCTIONS_MODEL),
                            (self.cm_model, CM_ROLE_MODEL)):
            save_model(model, path, {"model_version": "saved with a spaCy pipeline", "params": model.get_params(),
                                     "library_versions": library_versions()}, name=name)

    def from_disk(self, path: str | Path, *, exclude: Any = ()) -> "Judge":
        self.rules = FlagRules.from_disk(Path(path))
        # Loading a saved pipeline is choosing to run it: its model is trusted, and checked against its card.
        self.detector = load_model(path, trusted=True, expected=SentenceDetector, name=FINDINGS_MODEL)
        self.cm_model = load_model(path, trusted=True, expected=CmRoleClassifier, name=CM_ROLE_MODEL)
        if has_model(path, FUNCTIONS_MODEL):  # pipelines saved before the tagger keep the shipped one
            self.function_model = load_model(path, trusted=True, expected=FunctionTagger, name=FUNCTIONS_MODEL)
        return self


@Language.factory(JUDGE, default_config={"rules_dir": None, "use_cm_model": True, "use_function_model": True})
def make_judge(nlp: Language, name: str, rules_dir: str | None, use_cm_model: bool,
               use_function_model: bool) -> Judge:
    return Judge(nlp, rules_dir, use_cm_model=use_cm_model, use_function_model=use_function_model)
