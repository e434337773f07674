"""Training the learned models (``cmclassify train``): the duty classifier from labelled duties, the
duty extraction model from the annotated real ads.

With fixed seeds and the same library versions, ``cmclassify train -o models/``
reproduces the shipped model byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from .estimators import (CmRoleClassifier, DutyCandidateClassifier, DutyClassifier, FunctionTagger, Models,
                         SentenceDetector, cm_role_frame)
from .metrics import duty_scores
from .model_files import CM_ROLE_MODEL, EXTRACTION_MODEL, FINDINGS_MODEL, FUNCTIONS_MODEL, library_versions, read_card, \
    save_model, sha256_of
from .resources import data_dir
from .vocabulary import LABELS

def read_labelled(path: str | Path) -> pd.DataFrame:
    """Labelled duties from a JSONL/CSV file or a folder of them: columns ``text`` and ``label``."""
    files = training_files(path)
    frames = []
    for file in files:
        frame = pd.read_csv(file, dtype=str) if file.suffix == ".csv" else pd.read_json(file, lines=True, dtype=False)
        missing = {"text", "label"} - set(frame.columns)
        if missing:
            raise ValueError(f"{file}: missing column(s) {', '.join(sorted(missing))}")
        frames.append(frame[["text", "label"]].assign(source=file.name))
    if not frames:
        raise ValueError(f"{path}: no .jsonl or .csv files with labelled duties")
    return pd.concat(frames, ignore_index=True)


def default_training_data() -> Path:
    return data_dir() / "duties"


def training_files(path: str | Path) -> list[Path]:
    path = Path(path)
    return sorted(p for p in path.iterdir() if p.suffix in (".jsonl", ".csv")) if path.is_dir() else [path]


def model_card(classifier: DutyClassifier, data: pd.DataFrame, files: list[Path], metrics: dict[str, Any],
               model_version: str) -> dict[str, Any]:
    return {
        "model_version": model_version,
        "created": date.today().isoformat(),
        "params": classifier.get_params(),
        "training_data": {"sha256": sha256_of(files), "rows": int(len(data)), "files": [p.name for p in files],
                          "annotated_duties": int((data["context"] != "").sum()),
                          "label_counts": {k: int(v) for k, v in data["label"].value_counts().sort_index().items()}},
        "library_versions": library_versions(), "labels": list(LABELS),
        "metrics": metrics,
    }


def train_model(out_dir: str | Path, data: str | Path | None = None, extra: Sequence[str | Path] = (),
                gold: str | Path | None = None, classifier: DutyClassifier | None = None,
                cv_folds: int = 5, annotations: Sequence[dict[str, Any]] | None = None,
                annotations_source: str | Path | None = None) -> dict[str, Any]:
    """Fit the duty classifier on ``data`` (default: the project's ``data/duties``) plus ``extra`` files
    and, when given, the duties of the annotated real ads (``annotations``, gold ads as
    :meth:`cmclassify.annotations.Annotation.as_gold` gives them, read from ``annotations_source``);
    measure it and save model and card in ``out_dir``. Returns the card.

    ``cv_folds`` cross-validates on the written duties only (stratified, not grouped): with annotations
    the honest figures come from ``cmclassify evaluate --cv``. With fixed seeds and the same library
    versions, the saved model is identical byte for byte.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    files = training_files(data or default_training_data()) + [Path(p) for p in extra]
    written = pd.concat([read_labelled(f) for f in files], ignore_index=True)
    written = written.drop_duplicates(subset=["text", "label"]).reset_index(drop=True)
    classifier = classifier or DutyClassifier()
    metrics: dict[str, Any] = {}
    if cv_folds > 1 and annotations is None:
        folds = StratifiedKFold(n_splits=cv_folds, shuffle=True, random_state=classifier.random_state)
        cv_predicted = cross_val_predict(classifier, written["text"].tolist(), written["label"].tolist(), cv=folds)
        metrics["cross_validation"] = {"folds": cv_folds, **duty_scores(written["label"].tolist(), cv_predicted)}
    frame = label_training_frame(written, annotations)
    fit_labels(frame, classifier)
    if annotations_source is not None:
        files.append(Path(annotations_source))
    if gold is not None and Path(gold).exists():
        with open(gold, encoding="utf-8") as handle:
            gold_duties = [d for line in handle if line.strip() for d in json.loads(line)["duties"]]
        predicted = classifier.predict([d["text"] for d in gold_duties])
        metrics["gold"] = {"file": Path(gold).name, **duty_scores([d["label"] for d in gold_duties], predicted)}
    card = model_card(classifier, frame, files, metrics, model_version=_model_version())
    save_model(classifier, out_dir, card)
    return read_card(out_dir)


def _version() -> str:
    from . import __version__

    return __version__


def _model_version() -> str:
    return f"duty-classifier-{_version()}"


# --- duty extraction ---------------------------------------------------------------------------------

def extraction_examples(gold: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per candidate item of each gold ad: ``ad`` (position in ``gold``), ``start``, ``end``,
    ``candidate`` (its text), the model's inputs (``features``, ``text``, ``context``) and ``label``
    (it matches one of the ad's gold duties, word-set Jaccard >= 0.5, one to one)."""
    from .clean import clean
    from .metrics import match_duties
    from .nlp import blank_nlp
    from .segment import candidate_context, candidate_features, candidate_lemmas, default_lexicon, find_candidates, \
        find_sections

    nlp, lexicon = blank_nlp(), default_lexicon()
    rows: list[dict[str, Any]] = []
    cleaned = [clean(ad["description"] or "").text for ad in gold]
    for ad_index, (ad, text, doc) in enumerate(zip(gold, cleaned, nlp.pipe(cleaned))):
        sections = find_sections(text, lexicon)
        candidates = find_candidates(text, sections, lexicon)
        features = candidate_features(text, candidates, sections, lexicon)
        lemmas = candidate_lemmas(doc, candidates)
        context = candidate_context(lemmas, candidates)
        texts = [text[c.start:c.end] for c in candidates]
        matched = {i for i, _ in match_duties(texts, [d["text"] for d in ad["duties"]])}
        rows += [{"ad": ad_index, "start": c.start, "end": c.end, "candidate": texts[i], "features": features[i],
                  "text": lemmas[i], "context": context[i], "label": i in matched}
                 for i, c in enumerate(candidates)]
    return pd.DataFrame(rows, columns=["ad", "start", "end", "candidate", "features", "text", "context", "label"])


def train_extraction(out_dir: str | Path, gold: Sequence[dict[str, Any]], source: str,
                     classifier: DutyCandidateClassifier | None = None) -> dict[str, Any]:
    """Fit the duty extraction model on the candidates of ``gold`` ads (the annotations, as
    :meth:`cmclassify.annotations.Annotation.as_gold` gives them) and save it with its card in ``out_dir``.
    ``source`` names the annotations file, whose sha256 the card records."""
    frame = extraction_examples(gold)
    classifier = fit_extraction(frame, classifier)
    return _save_annotation_model(classifier, out_dir, EXTRACTION_MODEL, source, len(gold),
                                  {"candidates": int(len(frame)), "duties": int(frame["label"].sum())})


def _save_annotation_model(model: Any, out_dir: str | Path, name: str, source: str | Path, n_ads: int,
                           counts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Save a model trained on the annotations (``source``, ``n_ads`` ads) with its card; returns the card."""
    card = {
        "model_version": f"{name.replace('_', '-')}-{_version()}", "created": date.today().isoformat(),
        "params": model.get_params(), **extra,
        "training_data": {"sha256": sha256_of([Path(source)]), "files": [Path(source).name], "ads": n_ads, **counts},
        "library_versions": library_versions(),
    }
    save_model(model, out_dir, card, name=name)
    return read_card(out_dir, name)


def fit_extraction(frame: pd.DataFrame, classifier: DutyCandidateClassifier | None = None) -> DutyCandidateClassifier:
    """The extraction model fitted on candidate rows from :func:`extraction_examples`."""
    classifier = classifier or DutyCandidateClassifier()
    return classifier.fit(frame[["features", "text", "context"]], frame["label"])


def label_training_frame(written: pd.DataFrame, annotations: Sequence[dict[str, Any]] | None) -> pd.DataFrame:
    """The label model's training rows (``text``, ``lemmas``, ``context``, ``label``): the written duties
    and, when given, the annotated real duties, all of the same weight (grouped CV chose it)."""
    from .nlp import lemma_text

    frame = written[["text", "label"]].assign(lemmas=[lemma_text(t) for t in written["text"]], context="")
    if annotations:
        annotated = label_examples(annotations)[["text", "lemmas", "context", "label"]]
        frame = pd.concat([frame, annotated], ignore_index=True)
    return frame[["text", "lemmas", "context", "label"]]


def fit_labels(frame: pd.DataFrame, classifier: DutyClassifier | None = None) -> DutyClassifier:
    """The label model fitted on rows from :func:`label_training_frame`."""
    classifier = classifier or DutyClassifier()
    return classifier.fit(frame[["text", "lemmas", "context"]], frame["label"])


# --- duty labels -------------------------------------------------------------------------------------

def label_examples(gold: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per gold duty: ``ad`` (position in ``gold``), ``text``, ``lemmas``, ``context`` (its section
    in the cleaned ad and the title, as :func:`cmclassify.classify.duty_context` gives it) and ``label``."""
    from .annotation_workflow import locate
    from .classify import duty_context
    from .clean import clean
    from .nlp import lemma_text
    from .segment import default_lexicon, find_sections

    lexicon = default_lexicon()
    rows = []
    for ad_index, ad in enumerate(gold):
        text = clean(ad["description"] or "").text
        sections = find_sections(text, lexicon)
        cursor = 0
        for duty in ad["duties"]:
            found = locate(text, duty["text"], cursor)
            section = "intro"
            if found:
                cursor = found[1]
                section = next((s.label for s in reversed(sections) if s.start <= found[0]), "intro")
            rows.append({"ad": ad_index, "text": duty["text"], "lemmas": lemma_text(duty["text"]),
                         "context": duty_context(section, ad.get("title") or ""), "label": duty["label"],
                         "stratum": ad.get("stratum", "")})
    return pd.DataFrame(rows, columns=["ad", "text", "lemmas", "context", "label", "stratum"])


# --- sentence detectors --------------------------------------------------------------------------------

def sentence_examples(gold: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per candidate item of each gold ad (every section): ``ad``, ``start``, ``end`` (in the
    cleaned text), ``text``, ``lemmas``, ``section`` and ``kinds``, the evidence kinds whose quoted
    evidence overlaps the item (an alchemist letter, ``follower_credential``, ``discrimination:<ground>``)."""
    from .annotation_workflow import locate
    from .clean import clean
    from .nlp import blank_nlp
    from .segment import candidate_lemmas, default_lexicon, find_candidates, find_sections

    nlp, lexicon = blank_nlp(), default_lexicon()
    cleaned = [clean(ad["description"] or "").text for ad in gold]
    rows: list[dict[str, Any]] = []
    for ad_index, (ad, text, doc) in enumerate(zip(gold, cleaned, nlp.pipe(cleaned))):
        candidates = find_candidates(text, find_sections(text, lexicon), lexicon)
        lemmas = candidate_lemmas(doc, candidates)
        spans = [(found, e["kind"]) for e in ad.get("evidence", []) if (found := locate(text, e["text"]))]
        for c, lemma in zip(candidates, lemmas):
            kinds = sorted({kind for (a, b), kind in spans if a < c.end and c.start < b})
            rows.append({"ad": ad_index, "start": c.start, "end": c.end, "text": text[c.start:c.end], "lemmas": lemma,
                         "section": c.section, "kinds": kinds})
    return pd.DataFrame(rows, columns=["ad", "start", "end", "text", "lemmas", "section", "kinds"])


def fit_detector(frame: pd.DataFrame, detector: SentenceDetector | None = None) -> SentenceDetector:
    """The sentence detector fitted on item rows from :func:`sentence_examples`."""
    detector = detector or SentenceDetector()
    return detector.fit(frame[["text", "lemmas"]], frame["kinds"])


def train_detector(out_dir: str | Path, gold: Sequence[dict[str, Any]], source: str,
                   detector: SentenceDetector | None = None) -> dict[str, Any]:
    """Fit the sentence detector on the items of ``gold`` ads and save it with its card in ``out_dir``."""
    frame = sentence_examples(gold)
    detector = fit_detector(frame, detector)
    return _save_annotation_model(detector, out_dir, FINDINGS_MODEL, source, len(gold),
                                  {"items": int(len(frame)), "items_per_kind": _tally(frame["kinds"])},
                                  kinds=list(detector.kinds_))


def _tally(lists: Sequence[Sequence[str]]) -> dict[str, int]:
    """How many of ``lists`` hold each value, by value."""
    counts = pd.Series([v for values in lists for v in values], dtype=object).value_counts()
    return {k: int(v) for k, v in counts.sort_index().items()}


# --- reason B's functions ------------------------------------------------------------------------------

def function_examples(gold: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per annotated duty of the ``gold`` ads found in the cleaned text: ``ad``, ``text``,
    ``lemmas`` (read as the pipeline reads a duty) and ``functions``, the codebook's functions it assigns."""
    from .clean import clean
    from .nlp import blank_nlp, lemma_text_of_span

    nlp = blank_nlp()
    cleaned = [clean(ad["description"] or "").text for ad in gold]
    rows: list[dict[str, Any]] = []
    for ad_index, (ad, text, doc) in enumerate(zip(gold, cleaned, nlp.pipe(cleaned))):
        for duty, span in zip(ad["duties"], duty_spans(doc, [d["text"] for d in ad["duties"]])):
            if span is not None:
                rows.append({"ad": ad_index, "text": text[span.start_char:span.end_char],
                             "lemmas": lemma_text_of_span(span), "functions": sorted(duty.get("functions") or [])})
    return pd.DataFrame(rows, columns=["ad", "text", "lemmas", "functions"])


def duty_spans(doc: Any, duty_texts: Sequence[str]) -> list[Any]:
    """Each quoted duty as a span of ``doc`` (the cleaned ad), found in order, or None when not found."""
    from .annotation_workflow import locate
    from .nlp import doc_text

    text, after, spans = doc_text(doc), 0, []
    for quote in duty_texts:
        found = locate(text, quote, after)
        span = doc.char_span(*found, alignment_mode="expand") if found else None
        if span is not None:
            after = found[1]
        spans.append(span)
    return spans


def fit_functions(frame: pd.DataFrame, tagger: FunctionTagger | None = None) -> FunctionTagger:
    """The function tagger fitted on duty rows from :func:`function_examples`."""
    tagger = tagger or FunctionTagger()
    return tagger.fit(frame[["text", "lemmas"]], frame["functions"])


def train_functions(out_dir: str | Path, gold: Sequence[dict[str, Any]], source: str,
                    tagger: FunctionTagger | None = None) -> dict[str, Any]:
    """Fit the function tagger on the duties of ``gold`` ads and save it with its card in ``out_dir``."""
    frame = function_examples(gold)
    tagger = fit_functions(frame, tagger)
    return _save_annotation_model(tagger, out_dir, FUNCTIONS_MODEL, source, len(gold),
                                  {"duties": int(len(frame)), "duties_per_function": _tally(frame["functions"])},
                                  functions=list(tagger.kinds_))


# --- the CM role ----------------------------------------------------------------------------------------

def cm_role_examples(gold: Sequence[dict[str, Any]], models: Models | None = None) -> tuple[pd.DataFrame, list[bool]]:
    """The CM-role model's input for ``gold`` ads, analysed with ``models`` (the shipped ones where
    None), the hand rules deciding the role and counting the functions, and the ads' annotated roles."""
    from .clean import fold_in_place
    from .flag import JUDGE, title_groups
    from .pipeline import analyse_with, load_nlp

    nlp = load_nlp(models=models)
    # The hand rules decide the role and count the functions: the model reads both (Judgement.rule_functions).
    nlp.get_pipe(JUDGE).use_cm_model = False
    nlp.get_pipe(JUDGE).use_function_model = False
    frame = pd.DataFrame({"ad_id": [str(i) for i in range(len(gold))], "title": [ad.get("title") or "" for ad in gold],
                          "description": [ad["description"] for ad in gold]})
    analysis = analyse_with(nlp, frame)
    rules = nlp.get_pipe(JUDGE).rules.compiled(nlp)
    groups = [",".join(title_groups(rules, fold_in_place(title))) for title in analysis.ads["title"].fillna("")]
    return cm_role_frame(analysis.ads, analysis.duties, groups), [bool(ad["is_cm_role"]) for ad in gold]


def fit_cm_role(frame: pd.DataFrame, labels: Sequence[bool], classifier: CmRoleClassifier | None = None) -> CmRoleClassifier:
    classifier = classifier or CmRoleClassifier()
    return classifier.fit(frame, labels)


def train_cm_role(out_dir: str | Path, gold: Sequence[dict[str, Any]], source: str, models: Models | None = None,
                  classifier: CmRoleClassifier | None = None) -> dict[str, Any]:
    """Fit the CM-role model on ``gold`` ads analysed with ``models`` and save it with its card."""
    frame, labels = cm_role_examples(gold, models)
    classifier = fit_cm_role(frame, labels, classifier)
    return _save_annotation_model(classifier, out_dir, CM_ROLE_MODEL, source, len(gold), {"cm_roles": int(sum(labels))})
