"""The project's own labelled real ads: drawn from the corpus, stored as references, resolved on load.

An annotation names an ad of ``../shared/corpus/ads.parquet`` by id and by the
sha1 of its ``description``; duties and evidence are character offsets into
that description. No corpus text is stored in the project: :func:`resolve`
joins the references with the corpus and refuses any that no longer fit.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import vocabulary
from .clean import fold
from .errors import AnnotationError
from .rules import SamplingPlan, Stratum, load_sampling_plan
from .vocabulary import GROUNDS, LABELS, REASONS

REASON_LETTERS = tuple(REASONS)
FUNCTIONS = tuple(vocabulary.FUNCTIONS)
EVIDENCE_KINDS = (*REASON_LETTERS, "follower_credential", *(f"discrimination:{g}" for g in GROUNDS))
PASSES = ("1", "2")
EVIDENCE_FIELDS = ("description", "title")


def text_sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


_NOT_ALNUM = re.compile(r"[^0-9a-zñ]+")


def near_duplicate_key(text: str, n_chars: int = 200) -> str:
    """The first ``n_chars`` of the text, folded and with punctuation and spacing removed: equal keys
    mark the same ad posted twice (another city, another board)."""
    return _NOT_ALNUM.sub("", fold(text or ""))[:n_chars]


# --- the sample -------------------------------------------------------------------------

def _folded(series: pd.Series) -> pd.Series:
    return series.fillna("").map(fold)


def _matches(folded: pd.Series, pattern: str | None) -> pd.Series:
    if not pattern:
        return pd.Series(True, index=folded.index)
    return folded.str.contains(pattern, regex=True)


def _source_mask(corpus: pd.DataFrame, which: str) -> pd.Series:
    workana = corpus["source"].eq("Workana")
    return {"workana": workana, "not_workana": ~workana, "any": pd.Series(True, index=corpus.index)}[which]


def title_family(folded_title: str, families: dict[str, re.Pattern[str]]) -> str:
    return next((name for name, pattern in families.items() if pattern.search(folded_title)), "other")


def _round_robin(groups: dict[str, list[int]], size: int) -> list[int]:
    """Take one from each group in turn (each already shuffled) until ``size``: equal shares up to availability."""
    queues = {k: list(v) for k, v in sorted(groups.items())}
    taken: list[int] = []
    while len(taken) < size and any(queues.values()):
        for key in list(queues):
            if queues[key] and len(taken) < size:
                taken.append(queues[key].pop(0))
    return taken


def _proportional(groups: dict[str, list[int]], size: int, minimum: int = 2) -> list[int]:
    """Shares proportional to group size (rounded), at least ``minimum`` from each group, never more
    than a group holds; rounding is settled on the largest groups."""
    total = sum(len(v) for v in groups.values())
    size = min(size, total)
    quotas = {k: min(len(v), max(minimum, round(size * len(v) / total))) for k, v in groups.items()}
    while sum(quotas.values()) > size:
        largest = max(quotas, key=lambda k: quotas[k])
        quotas[largest] -= 1
    while sum(quotas.values()) < size:
        largest = max((k for k in quotas if quotas[k] < len(groups[k])), key=lambda k: len(groups[k]) - quotas[k])
        quotas[largest] += 1
    return [i for k in sorted(groups) for i in groups[k][:quotas[k]]]


def draw_sample(corpus: pd.DataFrame, exclude: Iterable[str] = (), plan: SamplingPlan | None = None) -> pd.DataFrame:
    """The ads to annotate, as ``ad_id``, ``stratum``, ``title_family``, ``second_pass``, in a seeded,
    reproducible order (``second_pass`` marks the ads read a second time, independently).

    ``exclude`` holds texts (the dev ads) whose near-duplicates may not be drawn. Within the corpus,
    one ad is kept per near-duplicate key before drawing, so a re-posted ad is annotated once.
    """
    plan = plan or load_sampling_plan()
    rng = np.random.default_rng(plan.seed)
    keys = corpus["description"].map(lambda t: near_duplicate_key(t, plan.near_duplicate_chars))
    excluded_keys = {near_duplicate_key(t, plan.near_duplicate_chars) for t in exclude}
    order = rng.permutation(len(corpus))
    shuffled = corpus.iloc[order].assign(_key=keys.iloc[order].to_numpy())
    shuffled = shuffled[~shuffled["_key"].isin(excluded_keys)].drop_duplicates("_key")
    titles = _folded(shuffled["title"])
    descriptions = _folded(shuffled["description"])
    families = {name: re.compile(p) for name, p in plan.title_families.items()}
    family = titles.map(lambda t: title_family(t, families))
    available = pd.Series(True, index=shuffled.index)
    rows = []
    for stratum in plan.strata:
        mask = available & _source_mask(shuffled, stratum.sources) & _matches(titles, stratum.title) & \
            _matches(descriptions, stratum.description)
        candidates = list(shuffled.index[mask])
        chosen = _choose(stratum, candidates, shuffled, family)
        available[chosen] = False
        rows += [{"ad_id": shuffled.at[i, "ad_id"], "stratum": stratum.name, "title_family": family[i]} for i in chosen]
    sample = pd.DataFrame(rows, columns=["ad_id", "stratum", "title_family"])
    # Annotation order: strata interleaved, so any prefix of the batches covers every stratum.
    sample = sample.iloc[rng.permutation(len(sample))].reset_index(drop=True)
    rank = sample.groupby("stratum").cumcount()
    sample["second_pass"] = rank < sample["stratum"].map(plan.second_pass).fillna(0)
    return sample


def _choose(stratum: Stratum, candidates: list[Any], frame: pd.DataFrame, family: pd.Series) -> list[Any]:
    if stratum.size == "all":
        return candidates
    size = int(stratum.size)
    if stratum.by_title_family:
        groups: dict[str, list[Any]] = {}
        for i in candidates:
            groups.setdefault(family[i], []).append(i)
        return _round_robin(groups, size)
    if stratum.by_source:
        groups = {}
        for i in candidates:
            groups.setdefault(frame.at[i, "source"], []).append(i)
        return _proportional(groups, size)
    return candidates[:size]


# --- reading and resolving annotations ---------------------------------------------------

@dataclass
class Duty:
    start: int
    end: int
    label: str
    functions: list[str] = field(default_factory=list)
    text: str = ""


@dataclass
class EvidenceSpan:
    start: int
    end: int
    kind: str
    text: str = ""
    field: str = "description"
    """Where the offsets point: the ad's ``description`` or, for a requirement stated in it, its ``title``."""


@dataclass
class Annotation:
    """One pass over one ad, with the corpus fields filled in by :func:`resolve`."""

    ad_id: str
    text_sha1: str
    pass_: str
    is_cm_role: bool
    alchemist: bool
    alchemist_reasons: str
    b_functions: list[str]
    follower_credential: bool
    hype_title: bool
    discriminatory_requirement: bool
    discrimination_grounds: str
    duties: list[Duty]
    evidence: list[EvidenceSpan] = field(default_factory=list)
    notes: str = ""
    stratum: str = ""
    title: str = ""
    description: str = ""
    source: str = ""
    country: str = ""

    @property
    def duty_texts(self) -> list[str]:
        return [d.text for d in self.duties]

    @property
    def duty_labels(self) -> list[str]:
        return [d.label for d in self.duties]

    def as_gold(self) -> dict[str, Any]:
        """The ad in the format of ``shared/eval/dev.jsonl``, which :mod:`cmclassify.evaluate` scores."""
        return {"ad_id": self.ad_id, "title": self.title, "description": self.description, "source": self.source,
                "country": self.country, "stratum": self.stratum, "is_cm_role": self.is_cm_role,
                "duties": [{"text": d.text, "label": d.label, "functions": d.functions} for d in self.duties],
                "alchemist": self.alchemist, "alchemist_reasons": self.alchemist_reasons,
                "b_functions": self.b_functions, "follower_credential": self.follower_credential,
                "hype_title": self.hype_title, "discriminatory_requirement": self.discriminatory_requirement,
                "discrimination_grounds": self.discrimination_grounds,
                "evidence": [{"text": e.text, "kind": e.kind} for e in self.evidence]}


def _letters(value: str, allowed: Sequence[str], what: str, ad_id: str) -> str:
    items = [v.strip() for v in (value or "").split(",") if v.strip()]
    unknown = [v for v in items if v not in allowed]
    if unknown:
        raise AnnotationError(f"{ad_id}: unknown {what} {unknown}; allowed: {', '.join(allowed)}")
    return ",".join(sorted(set(items), key=list(allowed).index))


def parse_record(record: dict[str, Any]) -> Annotation:
    """One line of ``ads.jsonl``, checked against the codebook's vocabulary (not yet against the corpus)."""
    ad_id = str(record.get("ad_id", "?"))
    required = ("ad_id", "text_sha1", "pass", "is_cm_role", "alchemist", "alchemist_reasons", "duties")
    missing = [k for k in required if k not in record]
    if missing:
        raise AnnotationError(f"{ad_id}: missing field(s) {', '.join(missing)}")
    if str(record["pass"]) not in PASSES:
        raise AnnotationError(f"{ad_id}: pass must be '1' or '2', not {record['pass']!r}")
    duties = []
    for d in record["duties"]:
        if d.get("label") not in LABELS:
            raise AnnotationError(f"{ad_id}: unknown duty label {d.get('label')!r}; allowed: {', '.join(LABELS)}")
        functions = list(d.get("functions", []))
        bad = [f for f in functions if f not in FUNCTIONS]
        if bad:
            raise AnnotationError(f"{ad_id}: unknown function(s) {bad}; allowed: {', '.join(FUNCTIONS)}")
        duties.append(Duty(int(d["start"]), int(d["end"]), d["label"], functions))
    evidence = []
    for e in record.get("evidence", []):
        if e.get("kind") not in EVIDENCE_KINDS:
            raise AnnotationError(f"{ad_id}: unknown evidence kind {e.get('kind')!r}; allowed: {', '.join(EVIDENCE_KINDS)}")
        where = e.get("field", "description")
        if where not in EVIDENCE_FIELDS:
            raise AnnotationError(f"{ad_id}: evidence field must be one of {', '.join(EVIDENCE_FIELDS)}, not {where!r}")
        evidence.append(EvidenceSpan(int(e["start"]), int(e["end"]), e["kind"], field=where))
    b_functions = list(record.get("b_functions", []))
    bad = [f for f in b_functions if f not in FUNCTIONS]
    if bad:
        raise AnnotationError(f"{ad_id}: unknown b_functions {bad}; allowed: {', '.join(FUNCTIONS)}")
    return Annotation(
        ad_id=ad_id, text_sha1=str(record["text_sha1"]), pass_=str(record["pass"]),
        is_cm_role=bool(record["is_cm_role"]), alchemist=bool(record["alchemist"]),
        alchemist_reasons=_letters(record["alchemist_reasons"], REASON_LETTERS, "reason letters", ad_id),
        b_functions=b_functions, follower_credential=bool(record.get("follower_credential", False)),
        hype_title=bool(record.get("hype_title", False)),
        discriminatory_requirement=bool(record.get("discriminatory_requirement", False)),
        discrimination_grounds=_letters(record.get("discrimination_grounds", ""), GROUNDS, "grounds", ad_id),
        duties=duties, evidence=evidence, notes=str(record.get("notes", "")), stratum=str(record.get("stratum", "")))


def read_annotations(path: str | Path) -> list[Annotation]:
    """Parse ``ads.jsonl`` (references only); a bad line is an error naming the file and line."""
    path = Path(path)
    annotations = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                annotations.append(parse_record(json.loads(line)))
            except (json.JSONDecodeError, AnnotationError, KeyError, TypeError, ValueError) as exc:
                raise AnnotationError(f"{path}:{number}: {exc}") from None
    return annotations


def resolve(annotations: list[Annotation], corpus: pd.DataFrame) -> list[Annotation]:
    """Fill in each annotation's text fields from the corpus, refusing unknown ids, changed texts
    (sha1 mismatch) and offsets outside the text."""
    by_id = corpus.set_index("ad_id")
    for annotation in annotations:
        ad_id = annotation.ad_id
        if ad_id not in by_id.index:
            raise AnnotationError(f"{ad_id}: no ad with this id in the corpus")
        row = by_id.loc[ad_id]
        description = row["description"]
        if text_sha1(description) != annotation.text_sha1:
            raise AnnotationError(f"{ad_id}: the corpus text no longer matches the annotation's sha1 "
                                  f"({annotation.text_sha1[:12]}…); the ad was changed or replaced")
        title = "" if pd.isna(row["title"]) else str(row["title"])
        for span in [*annotation.duties, *annotation.evidence]:
            text = title if getattr(span, "field", "description") == "title" else description
            if not 0 <= span.start < span.end <= len(text):
                raise AnnotationError(f"{ad_id}: offsets {span.start}:{span.end} fall outside the "
                                      f"{getattr(span, 'field', 'description')} ({len(text)} characters)")
            span.text = text[span.start:span.end]
        annotation.description = description
        annotation.title = title
        annotation.source, annotation.country = str(row["source"]), str(row["country"])
    return annotations


def default_annotations_path() -> Path:
    from .resources import data_dir

    return data_dir() / "annotations" / "ads.jsonl"


def load_annotations(path: str | Path | None = None, corpus: pd.DataFrame | str | Path | None = None,
                     pass_: str | None = "1") -> list[Annotation]:
    """The annotations of ``path`` (default: the project's own), resolved against the corpus.

    ``pass_`` keeps one pass ("1", the adjudicated gold; "2", the independent second reading);
    ``None`` keeps both.
    """
    annotations = read_annotations(path or default_annotations_path())
    if pass_ is not None:
        annotations = [a for a in annotations if a.pass_ == pass_]
    if corpus is None or isinstance(corpus, (str, Path)):
        corpus = read_corpus(corpus)
    return resolve(annotations, corpus)


def default_corpus_path() -> Path:
    from .resources import shared_dir

    return shared_dir() / "corpus" / "ads.parquet"


def read_corpus(path: str | Path | None = None) -> pd.DataFrame:
    path = Path(path) if path else default_corpus_path()
    if not path.exists():
        raise FileNotFoundError(f"corpus not found at {path}; the annotations are references into it")
    return pd.read_parquet(path, columns=["ad_id", "source", "country", "title", "description"])


# --- groups for cross-validation ---------------------------------------------------------

_WORDS = re.compile(r"[0-9a-zñ]+")


def _shingles(text: str, n: int = 8) -> set[int]:
    words = _WORDS.findall(fold(text))
    return {hash(" ".join(words[i:i + n])) for i in range(max(0, len(words) - n + 1))}


def cv_groups(texts: Sequence[str], *, shared_shingles: int = 12, n_chars: int = 200) -> np.ndarray:
    """Group ids such that near-duplicates and ads sharing a long passage (an employer's boilerplate,
    a brief posted twice) fall in one group: connected components of ads with the same
    near-duplicate key or at least ``shared_shingles`` common 8-word sequences."""
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    first_with_key: dict[str, int] = {}
    postings: dict[int, list[int]] = {}
    for i, text in enumerate(texts):
        key = near_duplicate_key(text, n_chars)
        if key:
            union(i, first_with_key.setdefault(key, i))
        for shingle in _shingles(text):
            postings.setdefault(shingle, []).append(i)
    shared: dict[tuple[int, int], int] = {}
    for ads in postings.values():
        if 1 < len(ads) <= 50:  # a passage in more than 50 ads is portal boilerplate, not an employer's
            for a in range(len(ads)):
                for b in range(a + 1, len(ads)):
                    pair = (ads[a], ads[b])
                    shared[pair] = shared.get(pair, 0) + 1
    for (i, j), count in shared.items():
        if count >= shared_shingles:
            union(i, j)
    roots = [find(i) for i in range(len(texts))]
    _, ids = np.unique(roots, return_inverse=True)
    return ids
