"""The project's spaCy pipeline: blank Spanish tokeniser, simplemma lemmas, sections, duties."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy
import simplemma
import spacy
from spacy.attrs import LEMMA, LOWER, NORM
from spacy.language import Language
from spacy.tokens import Doc

from .clean import fold

PIPELINE = ("cmclassify_lemmatizer", "cmclassify_sections", "cmclassify_duties")

@Language.factory("cmclassify_lemmatizer")
def make_lemmatizer(nlp: Language, name: str) -> "SimplemmaLemmatizer":
    return SimplemmaLemmatizer()


class SimplemmaLemmatizer:
    """Sets ``token.lemma_`` from simplemma's Spanish dictionary (shipped in its wheel), and
    ``token.norm_`` to the accent-folded lemma, which the flag patterns match on
    (so "facturacion" and "facturación" match alike).

    Lemmas are cached per lower-cased form: job ads reuse a small vocabulary, and
    a dictionary lookup costs far more than a dict hit.
    """

    def __init__(self) -> None:
        self._cache: dict[str, tuple[str, str]] = {}
        self._hash_cache: dict[int, tuple[int, int]] = {}

    def lemma_and_norm(self, form: str) -> tuple[str, str]:
        cached = self._cache.get(form)
        if cached is None:
            lemma = simplemma.lemmatize(form, lang="es").lower() if form.isalpha() else form
            cached = (lemma, fold(lemma) or lemma)
            if len(self._cache) < 500_000:
                self._cache[form] = cached
        return cached

    def __call__(self, doc: Doc) -> Doc:
        # Whole-array assignment: setting lemma_ token by token costs more than the lookups.
        strings = doc.vocab.strings
        cache = self._hash_cache
        rows = []
        for lower in doc.to_array(LOWER).tolist():
            pair = cache.get(lower)
            if pair is None:
                lemma, norm = self.lemma_and_norm(strings[lower])
                pair = cache[lower] = (strings.add(lemma), strings.add(norm))
            rows.append(pair)
        if rows:
            doc.from_array([LEMMA, NORM], numpy.array(rows, dtype="uint64"))
        return doc


@lru_cache(maxsize=1)
def _shared_pipeline() -> Language:
    return load_nlp()


def doc_text(doc: Doc) -> str:
    """``doc.text``, kept on the doc: spaCy rebuilds it from the tokens at every access."""
    text = doc.user_data.get("cmclassify_text")
    if text is None:
        text = doc.user_data["cmclassify_text"] = doc.text
    return text


class TextKeepingTokenizer:
    """The blank Spanish tokenizer, also keeping the input text on the doc for the components."""

    def __init__(self, tokenizer: Any):
        self.tokenizer = tokenizer

    def __call__(self, text: str) -> Doc:
        doc = self.tokenizer(text)
        doc.user_data["cmclassify_text"] = text
        return doc

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tokenizer, name)


def load_nlp() -> Language:
    """A fresh ``spacy.blank("es")`` pipeline with the project's components.

    >>> doc = load_nlp()("Funciones: Gestionar las redes sociales. Requisitos: experiencia.")
    >>> [span.text for span in doc.spans["duties"]]
    ['Gestionar las redes sociales']
    """
    from . import segment  # noqa: F401  (registers the section and duty components)

    nlp = spacy.blank("es")
    nlp.tokenizer = TextKeepingTokenizer(nlp.tokenizer)
    for name in PIPELINE:
        nlp.add_pipe(name)
    return nlp


def shared_nlp() -> Language:
    """One pipeline per process, reused by ``analyse`` (loading costs more than a batch)."""
    return _shared_pipeline()
