"""Run the stages in order on a batch of ads: read → clean → nlp → segment → tables.

``analyse`` is the entry point for DataFrames, lists and files; ``analyse_text``
for one ad.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd
from spacy.language import Language
from tqdm.auto import tqdm

from .aggregate import label_shares, orientation
from .analysis import AD_COLUMNS, DUTY_COLUMNS, Analysis
from .classify import PROBA_COLUMNS, DutyClassifier, classify_duties, default_model, lemma_text_of_span
from .clean import clean
from .flag import FlagRules, default_rules, finding_records, judge
from .nlp import shared_nlp
from .read import AdsInput, decode, normalise_frame

BATCH_SIZE = 256


def _raw_text(value: Any) -> tuple[str | None, str]:
    """The ad text, or None and the reason it cannot be analysed."""
    if value is None or (isinstance(value, float) and value != value):
        return "", ""
    if isinstance(value, str):
        return value, ""
    if isinstance(value, bytes):
        return decode(value), ""
    return None, f"the text is a {type(value).__name__} ({str(value)[:40]!r}), not a string"


def _analyse_frame(frame: pd.DataFrame, nlp: Language, model: DutyClassifier,
                   rules: FlagRules) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    ads: list[dict[str, Any]] = []
    ready: list[tuple[int, str]] = []
    extra_columns = [c for c in frame.columns if c not in ("ad_id", "title", "description", "input_error", "input_warning")]
    for position, row in enumerate(frame.itertuples(index=False)):
        record: dict[str, Any] = {"ad_id": row.ad_id, "title": row.title, "status": "ok", "error": "",
                                  "warning": row.input_warning, "n_duties": 0, "clean_text": ""}
        ads.append(record)
        if row.input_error:
            record.update(status="error", error=row.input_error)
            continue
        try:
            text, problem = _raw_text(row.description)
            if text is None:
                record.update(status="error", error=problem)
                continue
            cleaned = clean(text)
        except Exception as exc:  # one bad row must not fail the batch
            record.update(status="error", error=f"cleaning failed: {type(exc).__name__}: {exc}")
            continue
        record["clean_text"] = cleaned.text
        if cleaned.status != "ok":
            record.update(status=cleaned.status, error=cleaned.message)
        else:
            if cleaned.message:
                record["warning"] = "; ".join(filter(None, (record["warning"], cleaned.message)))
            ready.append((position, cleaned.text))
    for column in extra_columns:
        for record, value in zip(ads, frame[column].tolist()):
            record[column] = value

    duties: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    lemmas: list[str] = []
    duty_positions: list[int] = []
    lemmatizer = nlp.get_pipe("cmclassify_lemmatizer")
    for position, doc in _pipe_safely(nlp, ready, ads):
        record = ads[position]
        spans = doc.spans["duties"]
        record["n_duties"] = len(spans)
        try:
            judgement = judge(doc, record["title"], rules, lemmatizer(nlp.make_doc(record["title"])))
        except Exception as exc:  # one bad row must not fail the batch
            record.update(status="error", error=f"flagging failed: {type(exc).__name__}: {exc}")
            continue
        record.update(is_cm_role=judgement.is_cm_role, alchemist=judgement.alchemist,
                      alchemist_score=judgement.alchemist_score, alchemist_reasons=judgement.alchemist_reasons,
                      n_functions=judgement.n_functions, functions=",".join(judgement.functions),
                      follower_credential=judgement.follower_credential, hype_title=judgement.hype_title)
        findings.extend(finding_records(record["ad_id"], judgement.findings))
        for index, span in enumerate(spans):
            duties.append({"ad_id": record["ad_id"], "duty_index": index, "text": span.text,
                           "start": span.start_char, "end": span.end_char, "section": span.label_})
            lemmas.append(lemma_text_of_span(span))
            duty_positions.append(position)
    _label_duties(duties, lemmas, model)
    labels_by_ad: dict[int, list[str]] = {}
    for position, duty in zip(duty_positions, duties):
        labels_by_ad.setdefault(position, []).append(duty["label"])
    for position, record in enumerate(ads):
        labels = labels_by_ad.get(position, [])
        record.update(label_shares(labels))
        record["orientation"] = orientation(labels)
    return ads, duties, findings


def _label_duties(duties: list[dict[str, Any]], lemmas: list[str], model: DutyClassifier) -> None:
    """Classify every duty of the batch in one call and write the labels into the duty records."""
    if not duties:
        return
    labelled = classify_duties(pd.DataFrame({"text": [d["text"] for d in duties], "lemmas": lemmas}), model)
    for duty, row in zip(duties, labelled.itertuples(index=False)):
        duty["label"] = row.label
        for column in PROBA_COLUMNS:
            duty[column] = getattr(row, column)
        duty["evidence"] = row.evidence


def _pipe_safely(nlp: Language, ready: list[tuple[int, str]], ads: list[dict[str, Any]]) -> Iterator[tuple[int, Any]]:
    """``nlp.pipe`` over the batch; if it fails, redo the batch one ad at a time to isolate the bad row."""
    try:
        docs = list(nlp.pipe((text for _, text in ready), batch_size=BATCH_SIZE))
    except Exception:
        docs = None
    if docs is not None:
        yield from zip((position for position, _ in ready), docs)
        return
    for position, text in ready:
        try:
            yield position, nlp(text)
        except Exception as exc:
            ads[position].update(status="error", error=f"language processing failed: {type(exc).__name__}: {exc}")


def _chunks(frame: pd.DataFrame, size: int) -> Iterable[pd.DataFrame]:
    for start in range(0, len(frame), size):
        yield frame.iloc[start:start + size]


def analyse(data: AdsInput, *, text_col: str = "description", title_col: str = "title", id_col: str = "ad_id",
            progress: bool = True, model: DutyClassifier | None = None, rules: FlagRules | None = None) -> Analysis:
    """Analyse job ads and return one row per ad (``.ads``) and one per duty (``.duties``).

    ``data`` is a DataFrame (columns ``description``, ``title``, ``ad_id`` by
    default; other columns are carried into ``.ads``), a list of ad texts, or a
    path to a CSV, JSON, JSONL, Parquet or text file. Every input row comes back
    in input order with a ``status``: ``ok``, ``empty``, ``not_spanish``,
    ``garbled`` or ``error`` (the ``error`` column says why). A progress bar
    appears when the run lasts more than two seconds, unless ``progress=False``.
    ``model`` replaces the shipped duty classifier (see :func:`cmclassify.load_model`);
    ``rules`` the flag patterns (see :meth:`cmclassify.FlagRules.load`).
    """
    frame = normalise_frame(data, text_col=text_col, title_col=title_col, id_col=id_col)
    nlp = shared_nlp()
    model = model or default_model()
    rules = rules or default_rules()
    ads: list[dict[str, Any]] = []
    duties: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    with tqdm(total=len(frame), unit="ad", disable=not progress, delay=2) as bar:
        for chunk in _chunks(frame, BATCH_SIZE * 4):
            chunk_ads, chunk_duties, chunk_findings = _analyse_frame(chunk, nlp, model, rules)
            ads.extend(chunk_ads)
            duties.extend(chunk_duties)
            findings.extend(chunk_findings)
            bar.update(len(chunk))
    return Analysis.from_records(ads, duties, findings)


def analyse_text(text: str, title: str | None = None) -> Analysis:
    """Analyse one ad; ``.explain()`` on the result describes it in plain words."""
    return analyse(pd.DataFrame({"title": [title or ""], "description": [text]}), progress=False)


__all__ = ["analyse", "analyse_text", "AD_COLUMNS", "DUTY_COLUMNS"]
