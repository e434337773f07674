"""The phrase syntax of the flag rules, compiled to spaCy matchers over accent-folded lemmas.

A rule is a phrase (``"aumentar|incrementar * venta"``: alternatives with ``|``,
``?`` for an optional word, ``*`` for a gap of up to six words without
punctuation) or a raw spaCy token pattern (a list of dicts).
"""

from __future__ import annotations

from typing import Any

import numpy
from spacy.attrs import IS_PUNCT, IS_SPACE, NORM
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from .clean import fold
from .nlp import SimplemmaLemmatizer


def _piece_variants(piece: list[str], lemmatizer: SimplemmaLemmatizer) -> list[list[str]]:
    """``["aumentar|incrementar", "?el", "venta"]`` -> every accent-folded lemma sequence it stands for."""
    variants: list[list[str]] = [[]]
    for part in piece:
        words = part.lstrip("?").split("|")
        norms = sorted({lemmatizer.lemma_and_norm(w.lower())[1] for w in words} | {fold(w) for w in words})
        options: list[list[str]] = [[n] for n in norms] + ([[]] if part.startswith("?") else [])
        variants = [v + o for v in variants for o in options]
    return [v for v in variants if v]


def _anchor_hashes(pattern: list[dict[str, Any]], vocab: Any) -> set[int] | None:
    """Hashes of the NORM values one required token of a raw pattern can take (None if no token has them)."""
    for token in pattern:
        if token.get("OP") in ("?", "*"):
            continue
        value = token.get("NORM")
        values = value.get("IN") if isinstance(value, dict) else [value] if isinstance(value, str) else None
        if values:
            return {vocab.strings.add(v) for v in values}
    return None


def running_breaks(punct_and_space: numpy.ndarray) -> numpy.ndarray:
    """Running count of punctuation and line breaks: equal counts at two tokens mean no break between."""
    return numpy.concatenate([[0], numpy.cumsum(punct_and_space.max(axis=1))])


class PatternSet:
    """Rules in the phrase syntax of ``flags.yaml``, matched over accent-folded lemmas (``token.norm_``).

    Each stretch of a phrase between ``*`` gaps becomes ``PhraseMatcher`` phrases
    (one per combination of its alternatives); the stretches are chained here,
    at most ``MAX_GAP`` words apart with no punctuation between. A hash lookup per
    token keeps this fast; ``Matcher`` patterns with alternatives and gaps cost a
    predicate check per token and pattern, a hundred times slower. Raw token
    patterns (lists of dicts) go to a ``Matcher`` as they are.
    """

    MAX_GAP = 6

    def __init__(self, vocab: Any):
        self.vocab = vocab
        self.phrases = PhraseMatcher(vocab, attr="NORM")
        self.matcher = Matcher(vocab)
        self.rules: list[tuple[str, list[str]]] = []  # (group, keys of its chained pieces)
        self._by_first_key: dict[str, list[tuple[str, list[str]]]] = {}
        self._words: dict[str, set[str] | None] = {}
        # NORM values that raw patterns need; the Matcher only runs on docs containing one
        # (None: some raw pattern needs no such value, so the Matcher always runs).
        self._raw_anchors: set[int] | None = set()

    def add(self, group: str, rule: Any, lemmatizer: SimplemmaLemmatizer) -> None:
        n = len(self.rules)
        if isinstance(rule, list):
            key = f"{group}#{n}"
            self.matcher.add(key, [rule])
            self._append(group, [key])
            self._words[group] = None  # type: ignore[assignment]  (a raw pattern: any word may match)
            anchors = _anchor_hashes(rule, self.vocab)
            self._raw_anchors = None if anchors is None or self._raw_anchors is None else self._raw_anchors | anchors
            return
        pieces: list[list[str]] = [[]]
        for part in str(rule).split():
            if part == "*":
                pieces.append([])
            else:
                pieces[-1].append(part)
        keys = []
        for i, piece in enumerate(p for p in pieces if p):
            key = f"{group}#{n}.{i}"
            variants = _piece_variants(piece, lemmatizer)
            self.phrases.add(key, [self._phrase_doc(words) for words in variants])
            if i == 0 and self._words.get(group, set()) is not None:
                self._words.setdefault(group, set()).update(words[0] for words in variants)
            keys.append(key)
        self._append(group, keys)

    def words_of(self, group: str) -> set[str] | None:
        """The words (accent-folded lemmas) a match of the group can start with; None when a raw pattern
        may start anywhere."""
        return self._words.get(group, set())

    def _append(self, group: str, keys: list[str]) -> None:
        self.rules.append((group, keys))
        self._by_first_key.setdefault(keys[0], []).append((group, keys))

    def _phrase_doc(self, norms: list[str]) -> Doc:
        doc = Doc(self.vocab, words=norms)
        for token, norm in zip(doc, norms):
            token.norm_ = norm
        return doc

    def __call__(self, doc: Doc, norms: list[int] | None = None,
                 breaks: numpy.ndarray | None = None) -> dict[str, list[tuple[int, int]]]:
        """Token spans (start, end) of every rule that matches, by group. ``norms`` (the doc's NORM
        hashes) and ``breaks`` (running count of punctuation and line breaks) are computed when not given."""
        strings = doc.vocab.strings
        found: dict[str, list[tuple[int, int]]] = {}
        matches = list(self.phrases(doc))
        if self._raw_anchors is None or (self._raw_anchors and not self._raw_anchors.isdisjoint(
                norms if norms is not None else doc.to_array(NORM).tolist())):
            matches += self.matcher(doc)
        for match_id, start, end in matches:
            found.setdefault(strings[match_id], []).append((start, end))
        result: dict[str, list[tuple[int, int]]] = {}
        candidates = [rule for key in found for rule in self._by_first_key.get(key, ())]
        for group, keys in candidates:
            if not all(key in found for key in keys):
                continue
            if len(keys) > 1 and breaks is None:
                breaks = running_breaks(doc.to_array([IS_PUNCT, IS_SPACE]))
            for start, end in found[keys[0]]:
                for key in keys[1:]:
                    following = [(s, e) for s, e in found[key]
                                 if end <= s <= end + self.MAX_GAP and breaks[s] == breaks[end]]  # type: ignore[index]
                    if not following:
                        break
                    end = min(following)[1]
                else:
                    result.setdefault(group, []).append((start, end))
        return result
