"""Run the stages in order on a batch of ads: read → clean → nlp → segment → tables.

``analyse`` is the entry point for DataFrames, lists and files; ``analyse_text``
for one ad.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from spacy.language import Language
from tqdm.auto import tqdm

from .aggregate import label_shares, orientation
from .analysis import Analysis, TableWriters
from .classify import PROBA_COLUMNS, DutyClassifier, classify_duties, default_model, lemma_text_of_span
from .clean import clean
from .flag import FlagRules, default_rules, finding_records, judge
from .nlp import shared_nlp
from .read import INPUT_COLUMNS, AdsInput, count_rows, decode, iter_file_chunks, normalise_frame

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

    duties: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    lemmas: list[str] = []
    duty_positions: list[int] = []
    for position, doc in _pipe_safely(nlp, ready, ads):
        record = ads[position]
        spans = doc.spans["duties"]
        record["n_duties"] = len(spans)
        try:
            judgement = judge(doc, record["title"], rules)
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


CHUNK_SIZE = BATCH_SIZE * 4


def _raw_chunks(data: AdsInput, text_col: str, chunk_size: int) -> tuple[Iterator[Any], int | None]:
    """The input in chunks of rows, not yet normalised, and the number of rows when known up front."""
    if isinstance(data, (str, Path)):
        return iter_file_chunks(data, chunk_size), count_rows(data)
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame({text_col: pd.Series(list(data), dtype=object)})
    # An empty frame still yields one (empty) chunk, so its columns reach the result.
    return (frame.iloc[start:start + chunk_size] for start in range(0, max(len(frame), 1), chunk_size)), len(frame)


def iter_analyse(data: AdsInput, *, text_col: str = "description", title_col: str = "title", id_col: str = "ad_id",
                 chunk_size: int = CHUNK_SIZE, progress: bool = True, model: DutyClassifier | None = None,
                 rules: FlagRules | None = None) -> Iterator[Analysis]:
    """Analyse chunk by chunk, yielding one :class:`Analysis` per chunk of ``chunk_size`` ads.

    A file is read a chunk at a time, so memory stays flat whatever its size.
    Arguments as for :func:`analyse`; repeated ids are renamed across chunks too.
    """
    nlp = shared_nlp()
    model = model or default_model()
    rules = rules or default_rules()
    chunks, total = _raw_chunks(data, text_col, chunk_size)
    seen_ids: dict[str, int] = {}
    with tqdm(total=total, unit="ad", disable=not progress, delay=2) as bar:
        for raw in chunks:
            frame = normalise_frame(raw, text_col=text_col, title_col=title_col, id_col=id_col, seen_ids=seen_ids)
            part = Analysis.from_records(*_analyse_frame(frame, nlp, model, rules))
            for column in frame.columns[len(INPUT_COLUMNS):]:  # the input's own columns, with their dtypes
                part.ads[column] = frame[column].reset_index(drop=True)
            yield part
            bar.update(len(frame))


def analyse(data: AdsInput, *, text_col: str = "description", title_col: str = "title", id_col: str = "ad_id",
            progress: bool = True, model: DutyClassifier | None = None, rules: FlagRules | None = None) -> Analysis:
    """Analyse job ads: one row per ad (``.ads``), per duty (``.duties``) and per flag evidence (``.findings``).

    ``data`` is a DataFrame (columns ``description``, ``title``, ``ad_id`` by
    default; other columns are carried into ``.ads``), a list of ad texts, a
    path to a CSV, JSON, JSONL, Parquet or text file, or a Dask DataFrame (the
    result then holds Dask DataFrames; see :mod:`cmclassify.distributed`).
    Every input row comes back in input order with a ``status``: ``ok``,
    ``empty``, ``not_spanish``, ``garbled`` or ``error`` (the ``error`` column
    says why). A progress bar appears when the run lasts more than two seconds,
    unless ``progress=False``. ``model`` replaces the shipped duty classifier
    (see :func:`cmclassify.load_model`); ``rules`` the flag patterns (see
    :meth:`cmclassify.FlagRules.load`). For inputs larger than memory use
    :func:`analyse_to_files`.
    """
    if _is_dask_frame(data):
        from .distributed import analyse_dask

        return analyse_dask(data, text_col=text_col, title_col=title_col, id_col=id_col, model=model, rules=rules)
    parts = list(iter_analyse(data, text_col=text_col, title_col=title_col, id_col=id_col, progress=progress,
                              model=model, rules=rules))
    return Analysis.concat(parts) if parts else Analysis.from_records([], [], [])


def analyse_to_files(data: AdsInput, out_dir: str | Path, fmt: str = "parquet", *, text_col: str = "description",
                     title_col: str = "title", id_col: str = "ad_id", chunk_size: int = CHUNK_SIZE,
                     progress: bool = True, model: DutyClassifier | None = None,
                     rules: FlagRules | None = None) -> dict[str, Any]:
    """Analyse ``data`` chunk by chunk, appending to ``ads``, ``duties`` and ``findings`` files in ``out_dir``.

    Memory stays flat whatever the input size. Returns the paths written and
    the count of ads per status.
    """
    statuses: dict[str, int] = {}
    n_duties = 0
    with TableWriters(out_dir, fmt) as writers:
        for part in iter_analyse(data, text_col=text_col, title_col=title_col, id_col=id_col, chunk_size=chunk_size,
                                 progress=progress, model=model, rules=rules):
            writers.write(part)
            n_duties += len(part.duties)
            for status, n in part.ads["status"].value_counts().items():
                statuses[status] = statuses.get(status, 0) + int(n)
    return {"paths": writers.paths, "statuses": statuses, "n_ads": sum(statuses.values()), "n_duties": n_duties}


def _is_dask_frame(data: Any) -> bool:
    return type(data).__module__.startswith("dask") and hasattr(data, "map_partitions")


def analyse_text(text: str, title: str | None = None) -> Analysis:
    """Analyse one ad; ``.explain()`` on the result describes it in plain words."""
    return analyse(pd.DataFrame({"title": [title or ""], "description": [text]}), progress=False)


__all__ = ["analyse", "analyse_text", "analyse_to_files", "iter_analyse"]
