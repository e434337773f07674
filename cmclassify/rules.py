"""The project's data files (rules, thresholds, lexicons, sampling plans): schemas and validated loading.

Every file under ``data/`` that steers behaviour is read here, through
``importlib.resources``, and checked against a pydantic model: an unknown key,
a misspelt group or a value of the wrong type is a :class:`RulesError` that
names the file, the key and what is allowed.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Union, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import RulesError
from .resources import data_file
from .vocabulary import FUNCTIONS, GROUNDS, REASONS


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stratum(Strict):
    name: str
    about: str
    sources: Literal["workana", "not_workana", "any"]
    title: str | None = None
    description: str | None = None
    size: int | Literal["all"]
    by_title_family: bool = False
    by_source: bool = False


class SamplingPlan(Strict):
    seed: int
    near_duplicate_chars: int = 200
    strata: list[Stratum]
    second_pass: dict[str, int]
    title_families: dict[str, str]

    @field_validator("strata")
    @classmethod
    def _unique_names(cls, strata: list[Stratum]) -> list[Stratum]:
        names = [s.name for s in strata]
        if len(set(names)) != len(names):
            raise ValueError(f"stratum names repeat: {names}")
        return strata

    @field_validator("second_pass")
    @classmethod
    def _known_strata(cls, second_pass: dict[str, int], info: Any) -> dict[str, int]:
        names = [s.name for s in info.data.get("strata", [])]
        unknown = sorted(set(second_pass) - set(names))
        if unknown:
            raise ValueError(f"unknown strata {unknown}; the strata are {names}")
        return second_pass


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc}): {pattern!r}") from None
    return pattern


def _regexes(patterns: list[str]) -> list[str]:
    return [_regex(p) for p in patterns]


# --- clean.py -----------------------------------------------------------------------------------

class BoilerplateRules(Strict):
    """Portal text that is not part of the ad (``boilerplate.yaml``)."""

    head_chars: int = Field(gt=0)
    strip_through: list[str] = []
    cut_from: list[str] = []

    _check = field_validator("strip_through", "cut_from")(_regexes)


class LanguageRules(Strict):
    """How the language of an ad is told (``language.yaml``)."""

    min_function_words: int = Field(gt=0)
    clear_ratio: float = Field(gt=0)
    min_words_to_identify: int = Field(ge=0)
    min_spanish_share: float = Field(ge=0, le=1)
    min_confidence: float = Field(ge=0, le=1)
    identify: list[str]
    analysed: list[str]
    names: dict[str, str]
    function_words: dict[str, list[str]]


# --- segment.py ---------------------------------------------------------------------------------

SECTION_LABELS = ("duties", "mission", "summary", "requirements", "offer", "company", "apply")


class SectionRules(Strict):
    """Section headers and cues (``sections.yaml``)."""

    headers: dict[Literal[SECTION_LABELS], list[str]]  # type: ignore[valid-type]
    after_word: dict[Literal[SECTION_LABELS], list[str]]  # type: ignore[valid-type]
    cues: dict[Literal[SECTION_LABELS], list[str]]  # type: ignore[valid-type]

    @field_validator("headers", "after_word", "cues")
    @classmethod
    def _patterns(cls, groups: dict[str, list[str]]) -> dict[str, list[str]]:
        return {label: _regexes(patterns) for label, patterns in groups.items()}


class DutyStartRules(Strict):
    """Words that open a duty in a run-together list, and verbs that name work (``duty_starts.yaml``)."""

    openers: list[str]
    work_verbs: list[str] = []


class SegmentRules(Strict):
    """Word lists and patterns of the duty segmenter (``segment.yaml``)."""

    abbreviations: list[str]
    function_words: list[str]
    not_infinitives: list[str]
    connectors: list[str]
    not_task_future_stems: list[str]
    always_task_phrases: list[str]
    not_duty_patterns: list[str]
    strong_headers: list[str]
    not_duty_sections: list[Literal[SECTION_LABELS]]  # type: ignore[valid-type]
    min_bullets_for_list: int = Field(gt=0)

    _check = field_validator("always_task_phrases", "not_duty_patterns")(_regexes)


# --- flag.py ------------------------------------------------------------------------------------

Rule = Union[str, list[dict[str, Any]]]
"""A phrase in the flag syntax, or a raw spaCy token pattern."""

FLAG_GROUPS = ("outcome_overreach", "sole_ownership", "support_named", "facade", "escalation", "junior_post",
               "strategy_ownership", "strategy_not_owned", "follower_credential", "follower_not_own",
               "running_accounts")
TITLE_GROUPS = ("names_cm_work", "explicit_cm", "skill_context", "channel_context", "other_job", "never_cm",
                "sales_job", "hype")


class Scoring(Strict):
    """How reasons combine into the alchemist score, and the count that makes scope overload."""

    reason_weights: dict[Literal[tuple(REASONS)], float]  # type: ignore[valid-type]
    scope_weight: float = Field(ge=0, le=1)
    scope_overload_min_functions: int = Field(gt=0)
    not_hire_sections: list[Literal[SECTION_LABELS]]  # type: ignore[valid-type]
    negation_window: int = Field(ge=0)


class AgeBounds(Strict):
    """When the numbers of an age pattern screen by age rather than state the legal minimum."""

    numbers: tuple[int, int]
    """Numbers outside this span are not ages (experience, hours, codes)."""
    range_low_above: int
    """A range screens when its low end is above this (the legal minimum of 18)…"""
    range_high_at_most: int
    """…or its high end is at most this ("entre 18 y 35" screens, "entre 18 y 99" does not)."""
    upper_limit: tuple[int, int]
    """"menor de N": N within this span screens."""
    lower_limit: tuple[int, int]
    """"mayor de N": N within this span screens (18 and 21 are legal minimums)."""


class DiscriminationPatterns(Strict):
    """Hand patterns for discriminatory requirements: regular expressions over each item's accent-folded,
    lower-cased text. The age patterns capture their numbers: ``age_ranges`` two (low, high),
    ``age_upper`` and ``age_lower`` one, judged by ``age_bounds``; a range right after
    ``experience_words`` is experience, not age."""

    sex: list[str] = []
    appearance: list[str] = []
    age_ranges: list[str] = []
    age_upper: list[str] = []
    age_lower: list[str] = []
    experience_words: list[str] = []
    age_bounds: AgeBounds

    _check = field_validator("sex", "appearance", "experience_words")(_regexes)

    @field_validator("age_ranges", "age_upper", "age_lower")
    @classmethod
    def _captures(cls, value: list[str], info: Any) -> list[str]:
        wanted = 2 if info.field_name == "age_ranges" else 1
        for pattern in _regexes(value):
            if re.compile(pattern).groups != wanted:
                raise ValueError(f"{pattern!r} must capture {wanted} number(s)")
        return value


class FlagPatterns(Strict):
    """The flag patterns (``flags.yaml``, or a user's file of the same layout)."""

    replace: bool = False
    outcome_overreach: list[Rule] = []
    sole_ownership: list[Rule] = []
    support_named: list[Rule] = []
    facade: list[Rule] = []
    escalation: list[Rule] = []
    junior_post: list[Rule] = []
    strategy_ownership: list[Rule] = []
    strategy_not_owned: list[Rule] = []
    follower_credential: list[Rule] = []
    follower_not_own: list[Rule] = []
    running_accounts: list[Rule] = []
    functions: dict[Literal[tuple(FUNCTIONS)], list[Rule]] = {}  # type: ignore[valid-type]
    supporting_openers: list[str] = []
    negation: list[str] = []
    negation_adjacent: list[str] = []
    scoring: Scoring | None = None
    discrimination: DiscriminationPatterns | None = None
    names_cm_work: list[str] = []
    explicit_cm: list[str] = []
    skill_context: list[str] = []
    channel_context: list[str] = []
    other_job: list[str] = []
    never_cm: list[str] = []
    sales_job: list[str] = []
    hype: list[str] = []

    _check = field_validator(*TITLE_GROUPS)(_regexes)


class TitlePatterns(Strict):
    """Title patterns for the CM role and hype titles (``cm_titles.yaml``)."""

    names_cm_work: list[str]
    explicit_cm: list[str]
    skill_context: list[str]
    channel_context: list[str]
    other_job: list[str]
    never_cm: list[str]
    sales_job: list[str]
    hype: list[str]

    _check = field_validator(*TITLE_GROUPS)(_regexes)


class Localised(Strict):
    es: str
    en: str


class Message(Strict):
    name: str
    explanation: Localised
    suggestion: Localised


class Messages(Strict):
    """Explanations and suggestions per finding (``messages.yaml``); ``grounds`` names each ground of a
    discriminatory requirement in both languages (``{ground}`` in its message)."""

    A: Message
    B: Message
    C: Message
    D: Message
    E: Message
    follower_credential: Message
    hype_title: Message
    discriminatory_requirement: Message
    grounds: dict[str, Localised]
    functions: dict[Literal[tuple(FUNCTIONS)], Localised]  # type: ignore[valid-type]

    @field_validator("grounds")
    @classmethod
    def _known_grounds(cls, value: dict[str, Localised]) -> dict[str, Localised]:
        unknown = sorted(set(value) - set(GROUNDS))
        missing = sorted(set(GROUNDS) - set(value))
        if unknown or missing:
            raise ValueError(f"grounds must name exactly {', '.join(GROUNDS)} (unknown: {unknown}, missing: {missing})")
        return value


class Rewrite(Strict):
    find: str
    replace: str
    _check = field_validator("find")(_regex)


class RewriteRules(Strict):
    """Concrete rewrites of an ad's sentence for the review's fix-first list (``rewrites.yaml``): per
    finding key, patterns tried in order (the first that matches is replaced); ``append`` is added
    to the sentence when none matches; ``areas`` names each function as a team, for splitting a role."""

    rules: dict[str, list[Rewrite]]
    append: dict[str, str]
    areas: dict[Literal[tuple(FUNCTIONS)], str]  # type: ignore[valid-type]
    kept_functions: list[Literal[tuple(FUNCTIONS)]]  # type: ignore[valid-type]
    split_line: str
    title_word: str

    @field_validator("rules", "append")
    @classmethod
    def _known_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        known = {*REASONS, "follower_credential", "hype_title", *GROUNDS}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown finding keys {unknown}; allowed: {', '.join(sorted(known))}")
        return value


DETECTOR_KINDS = (*REASONS, "follower_credential", *(f"discrimination:{g}" for g in GROUNDS))
"""What the sentence detector can find: an alchemist letter, a follower credential, a ground."""


class DetectorSettings(Strict):
    """Which findings the tool takes from the learned sentence detector (``use``), which alchemist
    letters of the hand rules stand only when it agrees (``confirm``: some item of the ad reaches the
    letter's threshold), and each kind's threshold (``detectors.yaml``; chosen by grouped
    cross-validation, ``experiments/sentence_detectors.py``)."""

    use: list[str]
    confirm: list[str] = []
    thresholds: dict[str, float]

    @field_validator("confirm")
    @classmethod
    def _letters_only(cls, value: list[str]) -> list[str]:
        unknown = [k for k in value if k not in REASONS or k == "B"]
        if unknown:
            raise ValueError(f"only alchemist letters found by sentences can be confirmed, not {unknown}; "
                             f"allowed: {', '.join(r for r in REASONS if r != 'B')}")
        return value

    @field_validator("use")
    @classmethod
    def _known_kinds(cls, value: list[str]) -> list[str]:
        unknown = [k for k in value if k not in DETECTOR_KINDS]
        if unknown:
            raise ValueError(f"unknown kinds {unknown}; allowed: {', '.join(DETECTOR_KINDS)}")
        return value

    @field_validator("thresholds")
    @classmethod
    def _valid_thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = [k for k in value if k not in DETECTOR_KINDS]
        if unknown:
            raise ValueError(f"unknown kinds {unknown}; allowed: {', '.join(DETECTOR_KINDS)}")
        outside = [k for k, v in value.items() if not 0 < v < 1]
        if outside:
            raise ValueError(f"thresholds must lie between 0 and 1: {outside}")
        return value


# --- loading ------------------------------------------------------------------------------------

def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def _allowed(model: type[BaseModel], error: ValidationError) -> str:
    """What may stand where the first error is: the keys of the (nested) model there."""
    first = error.errors()[0]["loc"]
    current: Any = model
    for part in first[:-1] if error.errors()[0]["type"] == "extra_forbidden" else first:
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            break
        models = [a for a in (field.annotation, *get_args(field.annotation))
                  if isinstance(a, type) and issubclass(a, BaseModel)]
        if not models:
            break
        current = models[0]
    fields = getattr(current, "model_fields", None)
    return f" (allowed keys: {', '.join(fields)})" if fields else ""


def validate(model: type[BaseModel], spec: Any, source: str) -> Any:
    """``model`` built from ``spec``; errors name ``source``, each bad key, and what is allowed there."""
    try:
        return model.model_validate(spec if spec is not None else {})
    except ValidationError as exc:
        raise RulesError(f"{source}: {_describe(exc)}{_allowed(model, exc)}") from None


def read_yaml(path: Path | str) -> Any:
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{path}: cannot be read as YAML: {exc}") from None


def load(model: type[BaseModel], path: str | Path) -> Any:
    """A data file validated against ``model``."""
    return validate(model, read_yaml(path), str(path))


@lru_cache(maxsize=None)
def bundled(model: type[BaseModel], relative: str) -> Any:
    """One of the package's own data files (``data/<relative>``), validated once per process."""
    return load(model, data_file(relative))


def load_sampling_plan(path: str | Path | None = None) -> SamplingPlan:
    return load(SamplingPlan, path) if path else bundled(SamplingPlan, "annotations/sampling.yaml")
