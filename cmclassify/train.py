"""Training the learned models (``cmclassify train``): the duty classifier from labelled duties.

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

from .estimators import DutyClassifier
from .metrics import duty_scores
from .model_files import library_versions, read_card, save_model, sha256_of
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
                          "label_counts": {k: int(v) for k, v in data["label"].value_counts().sort_index().items()}},
        "library_versions": library_versions(), "labels": list(LABELS),
        "metrics": metrics,
    }


def train_model(out_dir: str | Path, data: str | Path | None = None, extra: Sequence[str | Path] = (),
                gold: str | Path | None = None, classifier: DutyClassifier | None = None,
                cv_folds: int = 5) -> dict[str, Any]:
    """Fit the duty classifier on ``data`` (default: the project's ``data/duties``) plus ``extra`` files,
    measure it, and save model and card in ``out_dir``. Returns the card.

    With fixed seeds and the same library versions, the saved model is identical byte for byte.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    files = training_files(data or default_training_data()) + [Path(p) for p in extra]
    frame = pd.concat([read_labelled(f) for f in files], ignore_index=True)
    frame = frame.drop_duplicates(subset=["text", "label"]).reset_index(drop=True)
    classifier = classifier or DutyClassifier()
    texts, labels = frame["text"].tolist(), frame["label"].tolist()
    metrics: dict[str, Any] = {}
    if cv_folds > 1:
        folds = StratifiedKFold(n_splits=cv_folds, shuffle=True, random_state=classifier.random_state)
        cv_predicted = cross_val_predict(classifier, texts, labels, cv=folds)
        metrics["cross_validation"] = {"folds": cv_folds, **duty_scores(labels, cv_predicted)}
    classifier.fit(texts, labels)
    if gold is not None and Path(gold).exists():
        with open(gold, encoding="utf-8") as handle:
            gold_duties = [d for line in handle if line.strip() for d in json.loads(line)["duties"]]
        predicted = classifier.predict([d["text"] for d in gold_duties])
        metrics["gold"] = {"file": Path(gold).name, **duty_scores([d["label"] for d in gold_duties], predicted)}
    card = model_card(classifier, frame, files, metrics, model_version=_model_version())
    save_model(classifier, out_dir, card)
    return read_card(out_dir)


def _model_version() -> str:
    from . import __version__

    return f"duty-classifier-{__version__}"


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
