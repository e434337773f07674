"""The learned models' classes: public, documented and kept in this one module, since saved models
name them (a saved model holds instances of these classes, so renaming one breaks every saved file).

Every estimator follows scikit-learn's conventions (``get_params``, ``fit``,
``predict``, ``predict_proba``; parameters set in ``__init__`` only).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted
from spacy.lang.es.stop_words import STOP_WORDS as SPANISH_STOP_WORDS

from .clean import fold
from .nlp import lemma_text
from .vocabulary import LABELS

# Evidence terms starting or ending with a function word ("el venta") read badly; the content word alone says it.
_STOP_WORDS = frozenset(fold(w) for w in SPANISH_STOP_WORDS)


def duty_texts(X: Any) -> list[str]:
    """The duty texts of ``X``: a sequence of strings, or a DataFrame with a ``text`` column."""
    if isinstance(X, pd.DataFrame):
        X = X["text"]
    if isinstance(X, str):
        raise TypeError("expected a sequence of duty texts, got a single string")
    return ["" if t is None else str(t) for t in X]


def as_duty_input(X: Any) -> Any:
    """Duty texts as a list, or a DataFrame with ``text`` (and optionally ``lemmas``) kept as is."""
    return X if isinstance(X, pd.DataFrame) else duty_texts(X)


class LemmaTexts(TransformerMixin, BaseEstimator):
    """Duty texts → their accent-folded lemmas (:func:`cmclassify.nlp.lemma_text`). A DataFrame may
    bring them ready in a ``lemmas`` column, as the pipeline does."""

    def fit(self, X: Any, y: Any = None) -> "LemmaTexts":
        return self

    def transform(self, X: Any) -> list[str]:
        if isinstance(X, pd.DataFrame) and "lemmas" in X.columns:
            return X["lemmas"].tolist()
        return [lemma_text(t) for t in duty_texts(X)]


class ContextTexts(TransformerMixin, BaseEstimator):
    """The ``context`` column of the duties (tagged words of where the duty stands: its section, the
    ad's title); empty for duties given without one."""

    def fit(self, X: Any, y: Any = None) -> "ContextTexts":
        return self

    def transform(self, X: Any) -> list[str]:
        if isinstance(X, pd.DataFrame) and "context" in X.columns:
            return X["context"].fillna("").tolist()
        return ["" for _ in duty_texts(X)]


class FoldedTexts(TransformerMixin, BaseEstimator):
    """Duty texts → lower case without accents (:func:`cmclassify.clean.fold`)."""

    def fit(self, X: Any, y: Any = None) -> "FoldedTexts":
        return self

    def transform(self, X: Any) -> list[str]:
        return [fold(t) for t in duty_texts(X)]


class ReproducibleTfidf(TfidfVectorizer):
    """``TfidfVectorizer`` whose pickle is the same in every process: it leaves out the object id and
    the set that scikit-learn keeps as caches, which made saved models differ from run to run."""

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_stop_words_id", None)
        state["stop_words_"] = None
        return state


def _fit_vectorizer(vectorizer: Any, values: list[Any]) -> sparse.csr_matrix:
    """Fit and transform; with too little data for the vectorizer's ``min_df`` (nothing left), fit
    again keeping every term, so that a small training set still gives a model."""
    try:
        return vectorizer.fit_transform(values)
    except ValueError as exc:
        if "no terms remain" not in str(exc) or getattr(vectorizer, "min_df", 1) == 1:
            raise
        vectorizer.set_params(min_df=1)
        return vectorizer.fit_transform(values)


class CharNgramTfidf(TransformerMixin, BaseEstimator):
    """TF-IDF of character n-grams within words (``TfidfVectorizer(analyzer="char_wb")``), with the
    n-grams of each word looked up once and cached: transforming gives the same matrix, several
    times faster, since ads repeat their words."""

    def __init__(self, ngram_range: tuple[int, int] = (2, 5), min_df: int = 2):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self._word_cache: dict[str, np.ndarray] = {}

    def fit(self, X: Iterable[str], y: Any = None) -> "CharNgramTfidf":
        self.vectorizer_ = ReproducibleTfidf(analyzer="char_wb", ngram_range=tuple(self.ngram_range), sublinear_tf=True,
                                             min_df=self.min_df, dtype=np.float64)
        self.vectorizer_.fit(list(X))
        self._word_cache = {}
        return self

    def _word_features(self, word: str) -> np.ndarray:
        features = self._word_cache.get(word)
        if features is None:
            vocabulary = self.vectorizer_.vocabulary_
            grams = self.vectorizer_.build_analyzer()(word)
            features = np.array([vocabulary[g] for g in grams if g in vocabulary], dtype=np.int64)
            if len(self._word_cache) < 200_000:
                self._word_cache[word] = features
        return features

    def transform(self, X: Iterable[str]) -> sparse.csr_matrix:
        check_is_fitted(self, "vectorizer_")
        texts = list(X)
        shape = (len(texts), len(self.vectorizer_.vocabulary_))
        if not texts:
            return sparse.csr_matrix(shape)
        cache, columns, lengths = self._word_cache, [np.zeros(0, dtype=np.int64)], []
        for text in texts:
            length = 0
            for word in text.split():
                features = cache.get(word)
                if features is None:
                    features = self._word_features(word)
                columns.append(features)
                length += len(features)
            lengths.append(length)
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        counts = sparse.csr_matrix((np.ones(len(rows)), (rows, np.concatenate(columns))), shape=shape)
        counts.sum_duplicates()
        return self.vectorizer_._tfidf.transform(counts, copy=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_word_cache"] = {}  # a cache: not part of the model, and would make pickles differ
        return state


class DutyClassifier(ClassifierMixin, BaseEstimator):
    """Three-way duty classifier with calibrated probabilities.

    Parameters
    ----------
    model : {"logreg", "linear_svm", "complement_nb"}
        The linear model family over the features.
    C : float
        Inverse regularisation strength (``alpha = 1/C`` for complement_nb).
    char_ngrams : tuple of int
        Character n-gram range over the accent-folded text (``None`` to drop).
    word_ngrams : tuple of int
        Word n-gram range over the lemmas (``None`` to drop).
    calibration_folds : int
        Folds of ``CalibratedClassifierCV`` (sigmoid).
    context : bool
        Also read the duties' ``context`` column (section and title words; see
        :func:`cmclassify.classify.duty_context`).
    random_state : int
        Seed for every random step, so training is reproducible.
    """

    def __init__(self, model: str = "linear_svm", C: float = 10.0, char_ngrams: tuple[int, int] | None = (2, 5),
                 word_ngrams: tuple[int, int] | None = (1, 2), calibration_folds: int = 5, context: bool = False,
                 random_state: int = 0):
        self.model = model
        self.C = C
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams
        self.calibration_folds = calibration_folds
        self.context = context
        self.random_state = random_state

    def _features(self) -> FeatureUnion:
        parts = []
        if self.word_ngrams:
            parts.append(("lemmas", Pipeline([
                ("lemmatize", LemmaTexts()),
                ("tfidf", ReproducibleTfidf(ngram_range=tuple(self.word_ngrams), sublinear_tf=True, token_pattern=r"\S+")),
            ])))
        if self.char_ngrams:
            parts.append(("chars", Pipeline([
                ("fold", FoldedTexts()),
                ("tfidf", CharNgramTfidf(ngram_range=tuple(self.char_ngrams), min_df=2)),
            ])))
        if not parts:
            raise ValueError("at least one of word_ngrams and char_ngrams is needed")
        if self.context:
            parts.append(("context", Pipeline([
                ("context", ContextTexts()),
                ("tfidf", ReproducibleTfidf(sublinear_tf=True, token_pattern=r"\S+", min_df=2)),
            ])))
        return FeatureUnion(parts)

    def _base(self):
        if self.model == "logreg":
            return LogisticRegression(C=self.C, max_iter=5000, random_state=self.random_state)
        if self.model == "linear_svm":
            return LinearSVC(C=self.C / 10, random_state=self.random_state)
        if self.model == "complement_nb":
            return ComplementNB(alpha=1.0 / self.C)
        raise ValueError(f"unknown model family {self.model!r}; use logreg, linear_svm or complement_nb")

    def fit(self, X: Any, y: Sequence[str], sample_weight: Sequence[float] | None = None) -> "DutyClassifier":
        texts = as_duty_input(X)
        labels = np.asarray(list(y), dtype=object)
        unknown = set(labels) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown labels {sorted(unknown)}; the codebook's labels are {', '.join(LABELS)}")
        self.features_ = self._features()
        matrix = self.features_.fit_transform(texts)
        self.calibrated_ = CalibratedClassifierCV(self._base(), method="sigmoid", cv=self.calibration_folds)
        self.calibrated_.fit(matrix, labels, sample_weight=None if sample_weight is None else np.asarray(sample_weight))
        self.classes_ = self.calibrated_.classes_
        self.n_features_ = matrix.shape[1]
        # Per-class weights of the lemma features, averaged over the calibration folds: the evidence.
        self.evidence_weights_, self.evidence_terms_ = None, None
        if self.word_ngrams and self.model != "complement_nb":
            vectorizer = self.features_.transformer_list[0][1].named_steps["tfidf"]
            n_lemma = len(vectorizer.vocabulary_)
            coefs = [c.estimator.coef_ for c in self.calibrated_.calibrated_classifiers_]
            self.evidence_weights_ = np.mean(coefs, axis=0)[:, :n_lemma]
            self.evidence_terms_ = vectorizer.get_feature_names_out()
        return self

    def _features_of(self, X: Any) -> tuple[sparse.csr_matrix, sparse.csr_matrix | None]:
        """All features, and the lemma features alone (what evidence is read from)."""
        check_is_fitted(self, "calibrated_")
        X = as_duty_input(X)
        parts = [transformer.transform(X) for _, transformer in self.features_.transformer_list]
        return sparse.hstack(parts).tocsr(), (parts[0].tocsr() if self.word_ngrams else None)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.calibrated_.predict_proba(self._features_of(X)[0])

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def predict_proba_and_evidence(self, X: Any, top: int = 3) -> tuple[np.ndarray, list[list[str]]]:
        """Probabilities, and for each duty the lemma n-grams that pushed it most towards its predicted label."""
        features, lemmas = self._features_of(X)
        proba = self.calibrated_.predict_proba(features)
        return proba, self._evidence(lemmas, self.classes_[np.argmax(proba, axis=1)], top)

    def explain(self, X: Any, labels: Sequence[str], top: int = 3) -> list[list[str]]:
        """For each duty, the lemma n-grams that pushed it most towards ``labels[i]``."""
        return self._evidence(self._features_of(X)[1], labels, top)

    def _evidence(self, lemmas: sparse.csr_matrix | None, labels: Sequence[str], top: int) -> list[list[str]]:
        if lemmas is None or self.evidence_weights_ is None:
            return [[] for _ in labels]
        class_index = {c: i for i, c in enumerate(self.classes_)}
        out = []
        for row, label in enumerate(labels):
            start, end = lemmas.indptr[row], lemmas.indptr[row + 1]
            columns, values = lemmas.indices[start:end], lemmas.data[start:end]
            contributions = values * self.evidence_weights_[class_index[label], columns]
            terms = []
            for i in np.argsort(-contributions):
                if contributions[i] <= 0 or len(terms) == top:
                    break
                words = str(self.evidence_terms_[columns[i]]).split()
                if words[0] not in _STOP_WORDS and words[-1] not in _STOP_WORDS:
                    terms.append(" ".join(words))
            out.append(terms)
        return out


class _ThresholdedLogistic:
    """Yes/no decisions of a fitted ``model_`` over the ``_matrix`` of the inputs: a probability, and yes
    when it reaches ``threshold``."""

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "model_")
        if len(X) == 0:
            return np.zeros((0, 2))
        return self.model_.predict_proba(self._matrix(X, fit=False))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.predict_proba(X)[:, 1] >= self.threshold


class DutyCandidateClassifier(_ThresholdedLogistic, ClassifierMixin, BaseEstimator):
    """Decides which candidate items of an ad are duties (codebook, Unit 1), from what a reader weighs.

    ``X`` is a DataFrame with ``features`` (a dict per candidate: section, cut, position, opening
    word, hand-rule decisions; see :func:`cmclassify.segment.candidate_features`), ``text`` (its
    lemmas) and ``context`` (tagged words of its heading and neighbours). A logistic regression over
    the three; a candidate is a duty when its probability reaches ``threshold``. The defaults are the
    grouped cross-validation's choice (``experiments/duty_extraction.py``).
    """

    def __init__(self, C: float = 3.0, text_ngrams: tuple[int, int] = (1, 2), context: bool = True,
                 threshold: float = 0.45, class_weight: str | None = None, random_state: int = 0):
        self.C = C
        self.text_ngrams = text_ngrams
        self.context = context
        self.threshold = threshold
        self.class_weight = class_weight
        self.random_state = random_state

    def _matrix(self, X: pd.DataFrame, fit: bool) -> sparse.csr_matrix:
        parts = [("features", self.features_vectorizer_), ("text", self.text_vectorizer_)]
        if self.context:
            parts.append(("context", self.context_vectorizer_))
        blocks = []
        for column, vectorizer in parts:
            values = list(X[column])
            blocks.append(vectorizer.fit_transform(values) if fit else vectorizer.transform(values))
        return sparse.hstack(blocks).tocsr()

    def fit(self, X: pd.DataFrame, y: Sequence[bool]) -> "DutyCandidateClassifier":
        from sklearn.feature_extraction import DictVectorizer

        self.features_vectorizer_ = DictVectorizer()
        self.text_vectorizer_ = ReproducibleTfidf(ngram_range=tuple(self.text_ngrams), sublinear_tf=True,
                                                  token_pattern=r"\S+", min_df=2)
        self.context_vectorizer_ = ReproducibleTfidf(sublinear_tf=True, token_pattern=r"\S+", min_df=2)
        matrix = self._matrix(X, fit=True)
        self.model_ = LogisticRegression(C=self.C, max_iter=5000, class_weight=self.class_weight,
                                         random_state=self.random_state)
        self.model_.fit(matrix, np.asarray(list(y), dtype=bool))
        self.classes_ = self.model_.classes_
        return self



class SentenceDetector(ClassifierMixin, BaseEstimator):
    """Finds the sentences of an ad that show a finding (an alchemist reason, a follower credential, a
    discriminatory requirement on one ground), each kind with its own probability and threshold.

    ``X`` is a DataFrame with ``text`` (the candidate item: a bullet, line or sentence) and ``lemmas``;
    ``y`` a list of sets of kinds (the evidence kinds of ``cmclassify.annotations``) per item. One
    logistic regression per kind with at least ``min_positives`` items, over word n-grams of the
    lemmas and character n-grams of the folded text; a kind with fewer is never predicted. The
    pipeline takes each kind's threshold from ``data/lexicons/detectors.yaml``; ``predict`` uses
    ``threshold`` for all. The defaults are the grouped cross-validation's choice
    (``experiments/sentence_detectors.py``).
    """

    def __init__(self, C: float = 10.0, threshold: float = 0.5, min_positives: int = 5,
                 class_weight: str | None = None, char_ngrams: bool = True, random_state: int = 0):
        self.C = C
        self.threshold = threshold
        self.min_positives = min_positives
        self.class_weight = class_weight
        self.char_ngrams = char_ngrams
        self.random_state = random_state

    def _matrix(self, X: pd.DataFrame, fit: bool) -> sparse.csr_matrix:
        lemmas = list(X["lemmas"])
        blocks = [_fit_vectorizer(self.word_vectorizer_, lemmas) if fit else self.word_vectorizer_.transform(lemmas)]
        if self.char_ngrams:
            folded = [fold(t) for t in X["text"]]
            blocks.append(_fit_vectorizer(self.char_vectorizer_, folded) if fit else self.char_vectorizer_.transform(folded))
        return sparse.hstack(blocks).tocsr()

    def fit(self, X: pd.DataFrame, y: Sequence[set[str]]) -> "SentenceDetector":
        self.word_vectorizer_ = ReproducibleTfidf(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+", min_df=2)
        self.char_vectorizer_ = CharNgramTfidf(ngram_range=(3, 5), min_df=3) if self.char_ngrams else None
        matrix = self._matrix(X, fit=True)
        y = [set(kinds) for kinds in y]
        counts: dict[str, int] = {}
        for kinds in y:
            for kind in kinds:
                counts[kind] = counts.get(kind, 0) + 1
        self.kinds_ = sorted(k for k, n in counts.items() if n >= self.min_positives)
        self.models_ = {}
        for kind in self.kinds_:
            target = np.array([kind in kinds for kinds in y])
            self.models_[kind] = LogisticRegression(C=self.C, max_iter=5000, class_weight=self.class_weight,
                                                    random_state=self.random_state).fit(matrix, target)
        self.classes_ = np.array(self.kinds_)
        return self

    def predict_proba(self, X: pd.DataFrame, kinds: Sequence[str] | None = None) -> pd.DataFrame:
        """One column per kind (all, or ``kinds``): the probability that each item shows it."""
        check_is_fitted(self, "models_")
        kinds = list(self.kinds_ if kinds is None else kinds)
        if len(X) == 0 or not kinds:
            return pd.DataFrame(np.zeros((len(X), len(kinds))), columns=kinds)
        matrix = self._matrix(X, fit=False)
        return pd.DataFrame({kind: self.models_[kind].predict_proba(matrix)[:, 1] for kind in kinds}, columns=kinds)

    def predict(self, X: pd.DataFrame) -> list[set[str]]:
        proba = self.predict_proba(X)
        return [{kind for kind in self.kinds_ if row[kind] >= self.threshold} for _, row in proba.iterrows()]


class FunctionTagger(SentenceDetector):
    """Tags each duty with the codebook's functions for reason B (social media, content writing, graphic
    design… fourteen in all); a supporting duty, a requirement or a tool known carries none.

    The same model as :class:`SentenceDetector`, its items being duties and its kinds functions: one
    logistic regression per function over the duty's lemma and character n-grams. The ad's function
    count is the expected number of distinct functions, each function's highest probability over the
    duties summed (:func:`cmclassify.flag.expected_functions`). ``C`` is the grouped
    cross-validation's choice (``experiments/function_tagger.py``).
    """

    def __init__(self, C: float = 30.0, threshold: float = 0.5, min_positives: int = 5,
                 class_weight: str | None = None, char_ngrams: bool = True, random_state: int = 0):
        super().__init__(C=C, threshold=threshold, min_positives=min_positives, class_weight=class_weight,
                         char_ngrams=char_ngrams, random_state=random_state)


class CmRoleClassifier(_ThresholdedLogistic, ClassifierMixin, BaseEstimator):
    """Decides whether an ad is a community-manager / social-media role (codebook, Unit 2) from what the
    earlier stages found: the title's words, the duties' words, their label shares, the functions the
    duties assign, and the hand rule's decision.

    ``X`` is a DataFrame with ``title``, ``duties`` (the duty texts joined), ``functions`` (comma-separated),
    ``share_marketing_sales``, ``share_communication_conversation``, ``share_other``, ``n_duties``,
    ``rule_cm`` and ``title_groups`` (the title pattern groups that match, comma-separated: the
    codebook's boundary cases; see :func:`cm_role_frame`). A logistic regression; the ad is a CM role when its
    probability reaches ``threshold``. The defaults are the grouped cross-validation's choice
    (``experiments/cm_role.py``).
    """

    def __init__(self, C: float = 3.0, threshold: float = 0.4, random_state: int = 0):
        self.C = C
        self.threshold = threshold
        self.random_state = random_state

    @staticmethod
    def _facts(X: pd.DataFrame) -> list[dict[str, float]]:
        rows = []
        for r in X.itertuples(index=False):
            facts = {"rule_cm": float(bool(r.rule_cm)), "no_duties": float(r.n_duties == 0),
                     "share_marketing_sales": float(r.share_marketing_sales),
                     "share_communication_conversation": float(r.share_communication_conversation),
                     "share_other": float(r.share_other)}
            facts.update({f"function={f}": 1.0 for f in str(r.functions or "").split(",") if f})
            facts.update({f"title={g}": 1.0 for g in str(r.title_groups or "").split(",") if g})
            rows.append(facts)
        return rows

    def _matrix(self, X: pd.DataFrame, fit: bool) -> sparse.csr_matrix:
        titles = [fold(str(t or "")) for t in X["title"]]
        duties = [fold(str(d or "")) for d in X["duties"]]
        parts = [(self.title_words_, titles), (self.title_chars_, titles), (self.duty_words_, duties),
                 (self.facts_, self._facts(X))]
        return sparse.hstack([_fit_vectorizer(v, x) if fit else v.transform(x) for v, x in parts]).tocsr()

    def fit(self, X: pd.DataFrame, y: Sequence[bool]) -> "CmRoleClassifier":
        from sklearn.feature_extraction import DictVectorizer

        self.title_words_ = ReproducibleTfidf(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        self.title_chars_ = CharNgramTfidf(ngram_range=(3, 5), min_df=2)
        self.duty_words_ = ReproducibleTfidf(sublinear_tf=True, min_df=3)
        self.facts_ = DictVectorizer()
        self.model_ = LogisticRegression(C=self.C, max_iter=5000, random_state=self.random_state)
        self.model_.fit(self._matrix(X, fit=True), np.asarray(list(y), dtype=bool))
        self.classes_ = self.model_.classes_
        return self



CM_FEATURES = ("title", "duties", "functions", "share_marketing_sales", "share_communication_conversation",
               "share_other", "n_duties", "rule_cm", "title_groups")
"""The columns :class:`CmRoleClassifier` reads."""


def cm_role_frame(ads: pd.DataFrame, duties: pd.DataFrame, title_groups: Sequence[str]) -> pd.DataFrame:
    """The CM role model's input for analysed ads (``ads`` and ``duties`` tables of an analysis, the
    ads' ``is_cm_role`` being the hand rule's decision; ``title_groups`` per ad, comma-separated)."""
    joined = duties.groupby("ad_id", sort=False)["text"].agg(" . ".join) if len(duties) else pd.Series(dtype=object)
    frame = ads[["ad_id", "title", "functions", "share_marketing_sales", "share_communication_conversation",
                 "share_other", "n_duties"]].copy()
    frame["duties"] = frame["ad_id"].map(joined).fillna("")
    frame["rule_cm"] = ads["is_cm_role"].astype("boolean").fillna(False).astype(bool).to_numpy()
    for column in ("share_marketing_sales", "share_communication_conversation", "share_other", "n_duties"):
        frame[column] = frame[column].fillna(0)
    frame["functions"] = frame["functions"].fillna("")
    frame["title"] = frame["title"].fillna("")
    frame["title_groups"] = list(title_groups)
    return frame[list(CM_FEATURES)].reset_index(drop=True)


@dataclass(frozen=True)
class Models:
    """The learned models one run uses (``cmclassify.analyse(..., models=...)``); a model left as None
    is the one shipped with the package. Load saved ones with :func:`cmclassify.load_model` (``name=``
    ``duty_classifier``, ``duty_extraction``, ``finding_detector``, ``function_tagger``, ``cm_role``)."""

    duty_labels: DutyClassifier | None = None
    duty_extraction: DutyCandidateClassifier | None = None
    findings: SentenceDetector | None = None
    functions: FunctionTagger | None = None
    cm_role: CmRoleClassifier | None = None

    def check(self) -> None:
        """Refuse anything that is not the model each field names (a clear error, not a failure later)."""
        from .errors import ModelError

        expected = {"duty_labels": DutyClassifier, "duty_extraction": DutyCandidateClassifier,
                    "findings": SentenceDetector, "functions": FunctionTagger, "cm_role": CmRoleClassifier}
        for name, kind in expected.items():
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                raise ModelError(f"models.{name} must be a cmclassify {kind.__name__}, not {type(value).__name__}")
