"""Stage 5, classification: each duty labelled ``marketing_sales``, ``communication_conversation`` or
``other`` (codebook, Unit 1), and the ad's label shares and orientation (Unit 2, 60 % rule).

The spaCy component ``cmclassify_duty_labels`` gives each span of
``doc.spans["duties"]`` its label (``span.label_``) and writes the calibrated
probabilities and the evidence terms into ``span._.probabilities`` and
``span._.evidence``. The model is a :class:`cmclassify.estimators.DutyClassifier`;
the shipped one lives in ``models/``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from .estimators import DutyClassifier, as_duty_input, duty_texts
from .model_files import LABEL_MODEL, ShippedModelAttribute, library_versions, load_model, save_model, shipped_model
from .nlp import lemma_text, lemma_text_of_span
from .vocabulary import LABELS, PROBA_COLUMNS

ORIENTATION_THRESHOLD = 0.6
LABELLER = "cmclassify_duty_labels"
for _name, _default in (("probabilities", None), ("evidence", "")):
    if not Span.has_extension(_name):
        Span.set_extension(_name, default=_default)


@lru_cache(maxsize=1)
def default_model() -> DutyClassifier:
    """The duty classifier shipped with the package (loaded once per process)."""
    return shipped_model(LABEL_MODEL, DutyClassifier)


def classify_duties(texts: Sequence[str] | pd.DataFrame, model: DutyClassifier | None = None, *,
                    evidence: bool = True) -> pd.DataFrame:
    """Label duty texts: ``label``, ``p_marketing_sales``, ``p_communication_conversation``, ``p_other``
    and ``evidence`` (the lemma n-grams that pushed the duty towards its label)."""
    duties = as_duty_input(texts)
    texts = duty_texts(duties)
    classifier = model if model is not None else default_model()
    columns = ["text", "label", *PROBA_COLUMNS, "evidence"]
    if not texts:
        return pd.DataFrame(columns=columns)
    if evidence:
        proba, terms = classifier.predict_proba_and_evidence(duties)
    else:
        proba, terms = classifier.predict_proba(duties), [[] for _ in texts]
    order = [list(classifier.classes_).index(label) for label in LABELS]
    proba = proba[:, order]
    frame = pd.DataFrame(proba, columns=list(PROBA_COLUMNS))
    frame.insert(0, "label", [LABELS[i] for i in np.argmax(proba, axis=1)])
    frame.insert(0, "text", texts)
    frame["evidence"] = ["; ".join(t) for t in terms]
    return frame[columns]


def label_shares(labels: Sequence[str]) -> dict[str, float]:
    """Share of the ad's duties carrying each label (0 for an ad without duties)."""
    counts = Counter(labels)
    total = len(labels)
    return {f"share_{label}": (counts[label] / total if total else 0.0) for label in LABELS}


def orientation(labels: Sequence[str]) -> str:
    """The codebook's 60 % rule over the duties on the selling–conversation axis."""
    selling = sum(label == "marketing_sales" for label in labels)
    talking = sum(label == "communication_conversation" for label in labels)
    on_axis = selling + talking
    if not on_axis:
        return "undetermined"
    if selling / on_axis >= ORIENTATION_THRESHOLD:
        return "marketing_sales"
    if talking / on_axis >= ORIENTATION_THRESHOLD:
        return "communication_conversation"
    return "mixed"


@lru_cache(maxsize=20_000)
def _title_words(title: str) -> tuple[str, ...]:
    return tuple(lemma_text(title).split())


def duty_context(section: str, title: str) -> str:
    """Where a duty stands, as tagged words for the label model: its section (``s_``) and the words of
    the ad's title (``t_``): the codebook reads a bare "estrategia digital" by the ad around it."""
    return " ".join([f"s_{section or 'none'}", *(f"t_{w}" for w in _title_words(title or ""))])


class DutyLabeller:
    """spaCy component: labels the spans of ``doc.spans["duties"]`` with the duty classifier.

    Docs are labelled a batch at a time (one model call for all their duties).
    ``to_disk`` writes the model and its card, so the model travels with a saved
    pipeline; loading a saved pipeline loads its model, checked against the card.
    """

    model = ShippedModelAttribute(LABEL_MODEL, DutyClassifier)
    """The classifier in use: the shipped one unless another was set."""

    def __init__(self, model: DutyClassifier | None = None, *, evidence: bool = True):
        self.model = model
        self.evidence = evidence

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 256) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            yield from self._label(list(batch))

    def _label(self, docs: list[Doc]) -> list[Doc]:
        spans = [span for doc in docs for span in doc.spans.get("duties", [])]
        if spans:
            frame = pd.DataFrame({"text": [s.text for s in spans], "lemmas": [lemma_text_of_span(s) for s in spans],
                                  "context": [duty_context(s._.section, doc._.ad_title) for doc in docs
                                              for s in doc.spans.get("duties", [])]})
            labelled = classify_duties(frame, self.model, evidence=self.evidence)
            rows = iter(labelled.itertuples(index=False))
            for doc in docs:
                relabelled = []
                for span in doc.spans.get("duties", []):
                    row = next(rows)
                    new = Span(doc, span.start, span.end, label=row.label)
                    new._.probabilities = {label: float(getattr(row, f"p_{label}")) for label in LABELS}
                    new._.evidence = row.evidence
                    relabelled.append(new)
                doc.spans["duties"] = relabelled
        return docs

    def to_disk(self, path: str | Path, *, exclude: Any = ()) -> None:
        save_model(self.model, path, {"model_version": "saved with a spaCy pipeline", "params": self.model.get_params(),
                                      "library_versions": library_versions()})

    def from_disk(self, path: str | Path, *, exclude: Any = ()) -> "DutyLabeller":
        # Loading a saved pipeline is choosing to run it: its model is trusted, and checked against its card.
        self.model = load_model(path, trusted=True, expected=DutyClassifier)
        return self


@Language.factory(LABELLER, default_config={"evidence": True})
def make_duty_labeller(nlp: Language, name: str, evidence: bool) -> DutyLabeller:
    return DutyLabeller(evidence=evidence)


__all__ = ["classify_duties", "default_model", "label_shares", "orientation", "DutyLabeller", "LABELS"]
