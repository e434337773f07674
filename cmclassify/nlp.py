"""The project's spaCy pipeline: blank Spanish tokeniser, simplemma lemmas, sections, duties."""

from __future__ import annotations

from functools import lru_cache

import simplemma
import spacy
from spacy.language import Language
from spacy.tokens import Doc

from . import segment  # noqa: F401  (registers the section and duty factories)

PIPELINE = ("cmclassify_lemmatizer", "cmclassify_sections", "cmclassify_duties")


@Language.factory("cmclassify_lemmatizer")
def make_lemmatizer(nlp: Language, name: str) -> "SimplemmaLemmatizer":
    return SimplemmaLemmatizer()


class SimplemmaLemmatizer:
    """Sets ``token.lemma_`` from simplemma's Spanish dictionary (shipped in its wheel).

    Lemmas are cached per lower-cased form: job ads reuse a small vocabulary, and
    a dictionary lookup costs far more than a dict hit.
    """

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}

    def lemma(self, form: str) -> str:
        lemma = self._cache.get(form)
        if lemma is None:
            lemma = simplemma.lemmatize(form, lang="es").lower() if form.isalpha() else form
            if len(self._cache) < 500_000:
                self._cache[form] = lemma
        return lemma

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            token.lemma_ = self.lemma(token.lower_)
        return doc


@lru_cache(maxsize=1)
def _shared_pipeline() -> Language:
    return load_nlp()


def load_nlp() -> Language:
    """A fresh ``spacy.blank("es")`` pipeline with the project's components.

    >>> doc = load_nlp()("Funciones: Gestionar las redes sociales. Requisitos: experiencia.")
    >>> [span.text for span in doc.spans["duties"]]
    ['Gestionar las redes sociales']
    """
    nlp = spacy.blank("es")
    for name in PIPELINE:
        nlp.add_pipe(name)
    return nlp


def shared_nlp() -> Language:
    """One pipeline per process, reused by ``analyse`` (loading costs more than a batch)."""
    return _shared_pipeline()
