"""Label each duty ``marketing_sales``, ``communication_conversation`` or ``other`` (codebook, Unit 1).

:class:`DutyClassifier` is a scikit-learn estimator over the project's own
spaCy lemmas (word n-grams) and accent-folded character n-grams, with
probabilities calibrated by cross-validation. The shipped model lives in
``models/`` with a JSON card; :func:`load_model` verifies it before use.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted
from spacy.lang.es.stop_words import STOP_WORDS as SPANISH_STOP_WORDS

from .clean import fold
from .nlp import SimplemmaLemmatizer, shared_nlp
from .resources import data_dir, models_dir

LABELS = ("marketing_sales", "communication_conversation", "other")
PROBA_COLUMNS = tuple(f"p_{label}" for label in LABELS)
# Evidence terms starting or ending with a function word ("el venta") read badly; the content word alone says it.
_STOP_WORDS = frozenset(fold(w) for w in SPANISH_STOP_WORDS)
MODEL_FILE = "duty_classifier.joblib"
CARD_FILE = "duty_classifier.json"
FORMAT_VERSION = 1
"""Bumped when the saved object's layout changes; older files are refused with a clear message."""

class ModelError(RuntimeError):
    """The model file is missing, altered, of another format version, or not trusted."""


@lru_cache(maxsize=1)
def _lemmatizing_tokenizer():
    return shared_nlp().tokenizer, SimplemmaLemmatizer()


def lemma_text(text: str) -> str:
    """The duty as accent-folded lemmas of its words, from the project's spaCy tokenizer and lemmatiser."""
    tokenizer, lemmatizer = _lemmatizing_tokenizer()
    return " ".join(lemmatizer.lemma_and_norm(token.lower_)[1] for token in tokenizer(text) if token.is_alpha)


def lemma_text_of_span(span: Any) -> str:
    """``lemma_text`` for a span the pipeline has already lemmatised."""
    return " ".join(token.norm_ for token in span if token.is_alpha)


def _fold_all(X: Any) -> list[str]:
    return [fold(t) for t in _as_texts(X)]


def _lemmatize_all(X: Any) -> list[str]:
    """Lemma texts; a DataFrame may bring them ready in a ``lemmas`` column (as ``analyse`` does)."""
    if isinstance(X, pd.DataFrame) and "lemmas" in X.columns:
        return X["lemmas"].tolist()
    return [lemma_text(t) for t in _as_texts(X)]


def _as_texts(X: Any) -> list[str]:
    if isinstance(X, pd.DataFrame):
        X = X["text"]
    if isinstance(X, str):
        raise TypeError("expected a sequence of duty texts, got a single string")
    return ["" if t is None else str(t) for t in X]


class ReproducibleTfidf(TfidfVectorizer):
    """``TfidfVectorizer`` whose pickle is the same in every process: it leaves out the object id and
    the set that scikit-learn keeps as caches, which made saved models differ from run to run."""

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_stop_words_id", None)
        state["stop_words_"] = None
        return state


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
        rows, columns = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for row, text in enumerate(texts):
            for word in text.split():
                features = self._word_features(word)
                columns.append(features)
                rows.append(np.full(len(features), row, dtype=np.int64))
        columns_all = np.concatenate(columns)
        counts = sparse.csr_matrix((np.ones(len(columns_all)), (np.concatenate(rows), columns_all)), shape=shape)
        counts.sum_duplicates()
        return self.vectorizer_._tfidf.transform(counts, copy=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_word_cache"] = {}  # a cache: not part of the model, and would make pickles differ
        return state


def _as_input(X: Any) -> Any:
    """Duty texts as a list, or a DataFrame with ``text`` (and optionally ``lemmas``) kept as is."""
    return X if isinstance(X, pd.DataFrame) else _as_texts(X)


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
    random_state : int
        Seed for every random step, so training is reproducible.
    """

    def __init__(self, model: str = "linear_svm", C: float = 10.0, char_ngrams: tuple[int, int] | None = (2, 5),
                 word_ngrams: tuple[int, int] | None = (1, 2), calibration_folds: int = 5, random_state: int = 0):
        self.model = model
        self.C = C
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def _features(self) -> FeatureUnion:
        parts = []
        if self.word_ngrams:
            parts.append(("lemmas", Pipeline([
                ("lemmatize", FunctionTransformer(_lemmatize_all)),
                ("tfidf", ReproducibleTfidf(ngram_range=tuple(self.word_ngrams), sublinear_tf=True, token_pattern=r"\S+")),
            ])))
        if self.char_ngrams:
            parts.append(("chars", Pipeline([
                ("fold", FunctionTransformer(_fold_all)),
                ("tfidf", CharNgramTfidf(ngram_range=tuple(self.char_ngrams), min_df=2)),
            ])))
        if not parts:
            raise ValueError("at least one of word_ngrams and char_ngrams is needed")
        return FeatureUnion(parts)

    def _base(self):
        if self.model == "logreg":
            return LogisticRegression(C=self.C, max_iter=5000, random_state=self.random_state)
        if self.model == "linear_svm":
            return LinearSVC(C=self.C / 10, random_state=self.random_state)
        if self.model == "complement_nb":
            return ComplementNB(alpha=1.0 / self.C)
        raise ValueError(f"unknown model family {self.model!r}; use logreg, linear_svm or complement_nb")

    def fit(self, X: Any, y: Sequence[str]) -> "DutyClassifier":
        texts = _as_input(X)
        labels = np.asarray(list(y), dtype=object)
        unknown = set(labels) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown labels {sorted(unknown)}; the codebook's labels are {', '.join(LABELS)}")
        self.features_ = self._features()
        matrix = self.features_.fit_transform(texts)
        self.calibrated_ = CalibratedClassifierCV(self._base(), method="sigmoid", cv=self.calibration_folds)
        self.calibrated_.fit(matrix, labels)
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
        X = _as_input(X)
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


# --- training data -----------------------------------------------------------------

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


def sha256_of(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def training_files(path: str | Path) -> list[Path]:
    path = Path(path)
    return sorted(p for p in path.iterdir() if p.suffix in (".jsonl", ".csv")) if path.is_dir() else [path]


# --- persistence ------------------------------------------------------------------

def save_model(classifier: DutyClassifier, out_dir: str | Path, card: dict[str, Any]) -> Path:
    """Write the model and its JSON card (which records the model file's sha256)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / MODEL_FILE
    joblib.dump({"format_version": FORMAT_VERSION, "classifier": classifier}, model_path, compress=3)
    card = {**card, "format_version": FORMAT_VERSION, "labels": list(LABELS),
            "model_sha256": hashlib.sha256(model_path.read_bytes()).hexdigest()}
    (out / CARD_FILE).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return model_path


def read_card(model_dir: str | Path | None = None) -> dict[str, Any]:
    card_path = Path(model_dir or models_dir()) / CARD_FILE
    if not card_path.exists():
        raise ModelError(f"no model card at {card_path}; train a model with `cmclassify train -o {card_path.parent}`")
    return json.loads(card_path.read_text(encoding="utf-8"))


def load_model(model_dir: str | Path | None = None, *, trusted: bool = False) -> DutyClassifier:
    """Load and verify a saved model.

    Without ``model_dir`` the model shipped with the package is loaded. A model
    from any other folder needs ``trusted=True``: joblib files are pickles and
    can run code when loaded, so only load files you made or trust. Either way
    the file must match the sha256 and format version in its card.
    """
    if model_dir is not None and not trusted:
        raise ModelError(f"refusing to load {model_dir}: model files can run code when loaded; "
                         "pass trusted=True if you made it or trust its source")
    folder = Path(model_dir or models_dir())
    card = read_card(folder)
    model_path = folder / MODEL_FILE
    if not model_path.exists():
        raise ModelError(f"model file missing: {model_path}")
    if card.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{model_path} has format version {card.get('format_version')}, this cmclassify reads "
                         f"version {FORMAT_VERSION}; retrain with `cmclassify train -o {folder}`")
    actual = hashlib.sha256(model_path.read_bytes()).hexdigest()
    if actual != card.get("model_sha256"):
        raise ModelError(f"{model_path} does not match the sha256 in its card (file altered or replaced); refusing to load")
    payload = joblib.load(model_path)
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{model_path} is not a cmclassify format-{FORMAT_VERSION} model")
    return payload["classifier"]


@lru_cache(maxsize=1)
def default_model() -> DutyClassifier:
    return load_model()


def classify_duties(texts: Sequence[str] | pd.DataFrame, model: DutyClassifier | None = None, *,
                    evidence: bool = True) -> pd.DataFrame:
    """Label duty texts: ``label``, ``p_marketing_sales``, ``p_communication_conversation``, ``p_other``
    and ``evidence`` (the lemma n-grams that pushed the duty towards its label)."""
    duties = _as_input(texts)
    texts = _as_texts(duties)
    classifier = model or default_model()
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


def library_versions() -> dict[str, str]:
    import sklearn
    import spacy
    import simplemma

    from . import __version__

    return {"cmclassify": __version__, "scikit-learn": sklearn.__version__, "spacy": spacy.__version__,
            "simplemma": getattr(simplemma, "__version__", "unknown"), "numpy": np.__version__,
            "pandas": pd.__version__, "joblib": joblib.__version__}


def model_card(classifier: DutyClassifier, data: pd.DataFrame, files: list[Path], metrics: dict[str, Any],
               model_version: str) -> dict[str, Any]:
    return {
        "model_version": model_version,
        "created": date.today().isoformat(),
        "params": classifier.get_params(),
        "training_data": {"sha256": sha256_of(files), "rows": int(len(data)), "files": [p.name for p in files],
                          "label_counts": {k: int(v) for k, v in data["label"].value_counts().sort_index().items()}},
        "library_versions": library_versions(),
        "metrics": metrics,
    }


def duty_scores(gold_labels: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-label F1 and the confusion matrix (rows gold, columns predicted)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    per_label = f1_score(gold_labels, predicted, labels=list(LABELS), average=None, zero_division=0)
    return {
        "n": len(gold_labels),
        "accuracy": float(accuracy_score(gold_labels, predicted)) if len(gold_labels) else 0.0,
        "macro_f1": float(f1_score(gold_labels, predicted, labels=list(LABELS), average="macro", zero_division=0)),
        "f1": {label: float(f) for label, f in zip(LABELS, per_label)},
        "confusion": {"labels": list(LABELS),
                      "matrix": confusion_matrix(gold_labels, predicted, labels=list(LABELS)).tolist()},
    }


def train_model(out_dir: str | Path, data: str | Path | None = None, extra: Sequence[str | Path] = (),
                gold: str | Path | None = None, classifier: DutyClassifier | None = None,
                cv_folds: int = 5) -> dict[str, Any]:
    """Fit the duty classifier on ``data`` (default: the project's ``data/duties``) plus ``extra`` files,
    measure it, and save model and card in ``out_dir``. Returns the card.

    With fixed seeds and the same library versions, the saved model is identical byte for byte.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from .evaluate import read_gold

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
        gold_duties = [d for ad in read_gold(gold) for d in ad["duties"]]
        predicted = classifier.predict([d["text"] for d in gold_duties])
        metrics["gold"] = {"file": Path(gold).name, **duty_scores([d["label"] for d in gold_duties], predicted)}
    card = model_card(classifier, frame, files, metrics, model_version=_model_version())
    save_model(classifier, out_dir, card)
    return read_card(out_dir)


def _model_version() -> str:
    from . import __version__

    return f"duty-classifier-{__version__}"
