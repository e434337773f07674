"""The project's spaCy pipeline: blank Spanish tokeniser, simplemma lemmas, sections, duties."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import simplemma
import spacy
from spacy.language import Language
from spacy.tokens import Doc

from . import segment  # noqa: F401  (registers the section and duty factories)

PIPELINE = ("cmclassify_lemmatizer", "cmclassify_sections", "cmclassify_duties")

_LEADING_SYMBOLS = re.compile(r"^[^\w¿¡(]+")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, accents removed, leading bullets and emoji dropped: "✅ GESTIÓN" -> "gestion"."""
    text = _LEADING_SYMBOLS.sub("", text.lower())
    decomposed = unicodedata.normalize("NFKD", text)
    return _SPACES.sub(" ", "".join(ch for ch in decomposed if not unicodedata.combining(ch))).strip()


def fold_in_place(text: str) -> str:
    """Lower-case without accents, one character for one, so offsets found in the result point into ``text``."""
    folded = "".join(unicodedata.normalize("NFKD", ch)[0] for ch in text.lower())
    return folded if len(folded) == len(text) else text.lower()


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

    def lemma_and_norm(self, form: str) -> tuple[str, str]:
        cached = self._cache.get(form)
        if cached is None:
            lemma = simplemma.lemmatize(form, lang="es").lower() if form.isalpha() else form
            cached = (lemma, fold(lemma) or lemma)
            if len(self._cache) < 500_000:
                self._cache[form] = cached
        return cached

    def lemma(self, form: str) -> str:
        return self.lemma_and_norm(form)[0]

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            token.lemma_, token.norm_ = self.lemma_and_norm(token.lower_)
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
