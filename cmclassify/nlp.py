"""Stage 3, language processing: spaCy's blank Spanish tokeniser and the project's lemmatiser.

``SimplemmaLemmatizer`` (registered as the spaCy factory ``cmclassify_lemmatizer``)
sets ``token.lemma_`` from simplemma's Spanish dictionary, shipped in its wheel,
and ``token.norm_`` to the accent-folded lemma, which the rules match on. The
full pipeline with the later stages' components is :func:`cmclassify.load_nlp`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy
import simplemma
import spacy
from spacy.attrs import IDX, IS_ALPHA, LEMMA, LOWER, NORM
from spacy.language import Language
from spacy.tokens import Doc

from .clean import fold

LEMMATIZER = "cmclassify_lemmatizer"
if not Doc.has_extension("ad_title"):
    # The ad's title travels with its text: set ``doc._.ad_title`` before the pipeline's later stages run.
    Doc.set_extension("ad_title", default="")


@Language.factory(LEMMATIZER)
def make_lemmatizer(nlp: Language, name: str) -> "SimplemmaLemmatizer":
    return SimplemmaLemmatizer()


class SimplemmaLemmatizer:
    """Lemmas and accent-folded norms from simplemma (so "facturacion" and "facturación" match alike).

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

    # Stateless: nothing to save, but spaCy's serialisation expects the methods.
    def to_disk(self, path: str | Path, *, exclude: Any = ()) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)

    def from_disk(self, path: str | Path, *, exclude: Any = ()) -> "SimplemmaLemmatizer":
        return self


_TEXT = "cmclassify_text"


def doc_text(doc: Doc) -> str:
    """``doc.text``, kept on the doc: spaCy rebuilds it from the tokens at every access."""
    text = doc.user_data.get(_TEXT)
    if text is None:
        text = doc.user_data[_TEXT] = doc.text
    return text


def make_doc(nlp: Language, text: str) -> Doc:
    """``nlp.make_doc(text)`` with ``text`` kept for :func:`doc_text` (the tokenizer loses no character)."""
    doc = nlp.make_doc(text)
    doc.user_data[_TEXT] = text
    return doc


def blank_nlp() -> Language:
    """``spacy.blank("es")`` with the lemmatiser: tokens, lemmas and norms, no later stage."""
    nlp = spacy.blank("es")
    nlp.add_pipe(LEMMATIZER)
    return nlp


@lru_cache(maxsize=1)
def _lemma_tools() -> tuple[Any, SimplemmaLemmatizer]:
    return spacy.blank("es").tokenizer, SimplemmaLemmatizer()


def lemma_text(text: str) -> str:
    """A text as the accent-folded lemmas of its words (what the duty models read)."""
    tokenizer, lemmatizer = _lemma_tools()
    return " ".join(lemmatizer.lemma_and_norm(token.lower_)[1] for token in tokenizer(text) if token.is_alpha)


def lemma_text_of_span(span: Any) -> str:
    """``lemma_text`` for a span the pipeline has already lemmatised."""
    return " ".join(token.norm_ for token in span if token.is_alpha)


def lemma_texts_of_ranges(doc: Doc, ranges: list[tuple[int, int]]) -> list[str]:
    """``lemma_text`` of each character range of a lemmatised doc (one pass over the doc's arrays,
    much faster than building the tokens of each range)."""
    if not ranges:
        return []
    rows = doc.to_array([IDX, NORM, IS_ALPHA])
    strings = doc.vocab.strings
    norms = [strings[h] if alpha else "" for h, alpha in zip(rows[:, 1].tolist(), rows[:, 2].tolist())]
    bounds = numpy.searchsorted(rows[:, 0], numpy.asarray(ranges, dtype=numpy.int64).ravel(), side="left").reshape(-1, 2)
    return [" ".join(n for n in norms[first:last] if n) for first, last in bounds.tolist()]
