"""The local engine: run the stages in order on batches of ads (read → clean → nlp → segment →
classify → flag), and gather the results into tables (:class:`cmclassify.Analysis`).

:func:`load_nlp` builds the spaCy pipeline; ``iter_analyse`` and
``analyse_to_files`` stream a large input chunk by chunk.
"""

from __future__ import annotations

import os
import warnings
from collections import deque
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import spacy
from spacy.language import Language
from tqdm.auto import tqdm

from .analysis import Analysis
from .errors import InputError, ModelError
from .classify import LABELLER, label_shares, orientation
from .clean import clean
from .estimators import DutyClassifier, Models
from .flag import JUDGE, FlagRules
from .nlp import LEMMATIZER, make_doc
from .output import TableWriters
from .read import (INPUT_COLUMNS, ROW_ERROR, ROW_WARNING, AdsInput, count_rows, decode, free_name, iter_file_chunks,
                   normalise_frame)
from .segment import DUTIES, SECTIONS
from .tables import AD_COLUMNS
from .vocabulary import LABELS

PIPELINE = (LEMMATIZER, SECTIONS, DUTIES, LABELLER, JUDGE)
"""The project's spaCy components, in order, after the blank Spanish tokenizer."""
BATCH_SIZE = 256


def load_nlp(model: DutyClassifier | None = None, rules: FlagRules | None = None,
             models: Models | None = None) -> Language:
    """A fresh ``spacy.blank("es")`` pipeline with the project's components (see ``PIPELINE``).

    ``model`` replaces the shipped duty classifier, ``rules`` the flag rules and ``models`` any of
    the shipped learned models (:class:`cmclassify.Models`).
    ``nlp.to_disk(path)`` saves it with its rules and model; ``spacy.load(path)``
    loads it back (the components are registered as spaCy entry points).
    Set ``doc._.ad_title`` before the judge runs for the title-based flags.

    >>> doc = load_nlp()("Funciones: Gestionar las redes sociales. Requisitos: experiencia.")
    >>> [(span.text, span.label_) for span in doc.spans["duties"]]
    [('Gestionar las redes sociales', 'communication_conversation')]
    """
    _check_overrides(model, rules, models)
    nlp = spacy.blank("es")
    for name in PIPELINE:
        nlp.add_pipe(name)
    models = models or Models()
    labels = model if model is not None else models.duty_labels
    if labels is not None:
        nlp.get_pipe(LABELLER).model = labels
    if models.duty_extraction is not None:
        nlp.get_pipe(DUTIES).model = models.duty_extraction
    if models.findings is not None:
        nlp.get_pipe(JUDGE).detector = models.findings
    if models.functions is not None:
        nlp.get_pipe(JUDGE).function_model = models.functions
    if models.cm_role is not None:
        nlp.get_pipe(JUDGE).cm_model = models.cm_role
    if rules is not None:
        nlp.get_pipe(JUDGE).rules = rules
    return nlp


def _check_overrides(model: Any, rules: Any, models: Any = None) -> None:
    if model is not None and not isinstance(model, DutyClassifier):
        raise ModelError(f"model must be a cmclassify DutyClassifier (see cmclassify.load_model), not {type(model).__name__}")
    if rules is not None and not isinstance(rules, FlagRules):
        raise TypeError(f"rules must be cmclassify.FlagRules (see FlagRules.load), not {type(rules).__name__}")
    if models is not None:
        if not isinstance(models, Models):
            raise ModelError(f"models must be cmclassify.Models, not {type(models).__name__}")
        models.check()


@lru_cache(maxsize=4)
def _cached_pipeline(model: DutyClassifier | None, rules: FlagRules | None, models: Models | None) -> Language:
    return load_nlp(model, rules, models)


def pipeline_for(model: DutyClassifier | None = None, rules: FlagRules | None = None,
                 models: Models | None = None) -> Language:
    """One pipeline per process and per set of models and rules, reused across calls: loading costs more
    than a batch."""
    _check_overrides(model, rules, models)
    return _cached_pipeline(model, rules, models)


def _raw_text(value: Any) -> tuple[str | None, str]:
    """The ad text, or None and the reason it cannot be analysed."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return "", ""
    if isinstance(value, str):
        return value, ""
    if isinstance(value, bytes):
        return decode(value), ""
    return None, f"the text is a {type(value).__name__} ({str(value)[:40]!r}), not a string"


def _analyse_frame(frame: pd.DataFrame, nlp: Language) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                             list[dict[str, Any]]]:
    ads: list[dict[str, Any]] = []
    ready: list[tuple[int, str, str]] = []
    for position, row in enumerate(frame.itertuples(index=False)):
        record: dict[str, Any] = {"ad_id": row.ad_id, "title": row.title, "status": "ok", "error": "",
                                  "warning": row.input_warning, "n_duties": 0, "clean_text": "",
                                  **label_shares([]), "orientation": orientation([])}
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
        record["language"] = cleaned.language
        if cleaned.status != "ok":
            record.update(status=cleaned.status, error=cleaned.message)
        else:
            if cleaned.message:
                record["warning"] = "; ".join(filter(None, (record["warning"], cleaned.message)))
            ready.append((position, cleaned.text, record["title"]))

    duties: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    for position, doc in _pipe_safely(nlp, ready, ads):
        record = ads[position]
        spans = doc.spans["duties"]
        functions = doc._.functions or []
        record.update(n_duties=len(spans), is_cm_role=doc._.is_cm_role, alchemist=doc._.alchemist,
                      alchemist_score=doc._.alchemist_score, alchemist_reasons=doc._.alchemist_reasons,
                      n_functions=len(functions), functions=",".join(functions),
                      follower_credential=doc._.follower_credential, hype_title=doc._.hype_title,
                      discriminatory_requirement=doc._.discriminatory_requirement,
                      discrimination_grounds=doc._.discrimination_grounds,
                      orientation=doc._.orientation, **doc._.label_shares)
        findings.extend({**finding, "ad_id": record["ad_id"]} for finding in doc._.findings)
        for index, span in enumerate(spans):
            probabilities = span._.probabilities or {}
            duties.append({"ad_id": record["ad_id"], "duty_index": index, "text": span.text,
                           "start": span.start_char, "end": span.end_char, "section": span._.section,
                           "label": span.label_, **{f"p_{label}": probabilities.get(label) for label in LABELS},
                           "evidence": span._.evidence})
    return ads, duties, findings


def _docs(nlp: Language, ready: list[tuple[int, str, str]]) -> Iterator[Any]:
    for _, text, title in ready:
        doc = make_doc(nlp, text)
        doc._.ad_title = title
        yield doc


def _pipe_safely(nlp: Language, ready: list[tuple[int, str, str]],
                 ads: list[dict[str, Any]]) -> Iterator[tuple[int, Any]]:
    """``nlp.pipe`` over the batch; if it fails, redo the batch one ad at a time to isolate the bad row."""
    try:
        docs = list(nlp.pipe(_docs(nlp, ready), batch_size=BATCH_SIZE))
    except Exception:
        docs = None
    if docs is not None:
        yield from zip((position for position, _, _ in ready), docs)
        return
    for item in ready:
        try:
            yield item[0], next(nlp.pipe(_docs(nlp, [item])))
        except Exception as exc:
            ads[item[0]].update(status="error", error=f"language processing failed: {type(exc).__name__}: {exc}")


CHUNK_SIZE = BATCH_SIZE * 4


def _raw_chunks(data: AdsInput, text_col: str, chunk_size: int) -> tuple[Iterator[Any], int | None]:
    """The input in chunks of rows, not yet normalised, and the number of rows when known up front."""
    if isinstance(data, (str, Path)):
        return iter_file_chunks(data, chunk_size), count_rows(data)
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame({text_col: pd.Series(list(data), dtype=object)})
    # An empty frame still yields one (empty) chunk, so its columns reach the result.
    return (frame.iloc[start:start + chunk_size] for start in range(0, max(len(frame), 1), chunk_size)), len(frame)


Records = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]


def _analyse_chunk(frame: pd.DataFrame, model: DutyClassifier | None, rules: FlagRules | None,
                   models: Models | None) -> Records:
    """One chunk's records, in this process or a worker (whose pipeline is loaded once and reused;
    ``iter_analyse`` has checked the overrides)."""
    return _analyse_frame(frame, _cached_pipeline(model, rules, models))


def _worker_count(n_process: int) -> int:
    if isinstance(n_process, bool) or not isinstance(n_process, int) or n_process == 0 or n_process < -1:
        raise ValueError(f"n_process must be a positive number of processes or -1 for every core, not {n_process!r}")
    return (os.cpu_count() or 1) if n_process == -1 else n_process


def _records_in_order(frames: Iterator[pd.DataFrame], n_process: int, model: DutyClassifier | None,
                      rules: FlagRules | None, models: Models | None) -> Iterator[tuple[pd.DataFrame, Records]]:
    """Each normalised chunk with its records, in input order; over ``n_process`` worker processes
    (joblib's loky: a worker loads the pipeline once, a few chunks are in flight at a time, and an
    interrupted run stops the workers)."""
    if n_process == 1:
        for frame in frames:
            yield frame, _analyse_chunk(frame, model, rules, models)
        return
    from joblib import Parallel, delayed

    sent: deque[pd.DataFrame] = deque()

    def tasks() -> Iterator[Any]:
        for frame in frames:
            sent.append(frame)
            yield delayed(_analyse_chunk)(frame, model, rules, models)

    with Parallel(n_jobs=n_process, backend="loky", return_as="generator", pre_dispatch="2*n_jobs") as parallel:
        for records in parallel(tasks()):
            yield sent.popleft(), records


def iter_analyse(data: AdsInput, *, text_col: str = "description", title_col: str = "title", id_col: str = "ad_id",
                 chunk_size: int = CHUNK_SIZE, progress: bool = True, model: DutyClassifier | None = None,
                 rules: FlagRules | None = None, models: Models | None = None,
                 n_process: int = 1) -> Iterator[Analysis]:
    """Analyse chunk by chunk, yielding one :class:`Analysis` per chunk of ``chunk_size`` ads.

    A file is read a chunk at a time, so memory stays flat whatever its size.
    Arguments as for :func:`cmclassify.analyse`; repeated ids are renamed across chunks too.
    """
    workers = _worker_count(n_process)
    _check_overrides(model, rules, models)
    chunks, total = _raw_chunks(data, text_col, chunk_size)
    if total is not None and total <= chunk_size:
        workers = 1  # one chunk: workers would only add their start-up
    seen_ids: set[str] = set()
    renamed: dict[str, str] = {}

    def frames() -> Iterator[pd.DataFrame]:
        for number, raw in enumerate(chunks):
            if number == 0:
                _require_text_column(raw, text_col, data)
            yield normalise_frame(raw, text_col=text_col, title_col=title_col, id_col=id_col, seen_ids=seen_ids)

    with tqdm(total=total, unit="ad", disable=not progress, delay=2) as bar:
        for frame, records in _records_in_order(frames(), workers, model, rules, models):
            part = Analysis.from_records(*records)
            extra = list(frame.columns[len(INPUT_COLUMNS):])  # the input's own columns, with their dtypes
            _name_input_columns(extra, renamed)
            for column in extra:
                part.ads[renamed[column]] = frame[column].reset_index(drop=True)
            yield part
            bar.update(len(frame))


def _name_input_columns(columns: list[str], renamed: dict[str, str]) -> None:
    """Give each new input column its output name: its own, unless cmclassify has a column of that name;
    then ``input_<name>`` (prefixed again while that is taken too), with a warning."""
    new = [c for c in columns if c not in renamed]
    taken = set(AD_COLUMNS) | set(renamed.values()) | {c for c in new if c not in AD_COLUMNS}
    for column in new:
        if column in AD_COLUMNS:
            renamed[column] = free_name(column, taken)
            taken.add(renamed[column])
            warnings.warn(f"the input's column {column!r} is kept as {renamed[column]!r}: {column!r} is one of "
                          "cmclassify's own columns", stacklevel=3)
        else:
            renamed[column] = column


def _require_text_column(raw: pd.DataFrame, text_col: str, data: AdsInput) -> None:
    readable = raw[raw[ROW_ERROR].isna()] if ROW_ERROR in raw.columns else raw
    if text_col not in raw.columns and (len(readable) or not len(raw)) and len(raw.columns):
        source = f"{data}: " if isinstance(data, (str, Path)) else ""
        columns = ", ".join(str(c) for c in raw.columns if c not in (ROW_ERROR, ROW_WARNING))
        raise InputError(f"{source}no text column {text_col!r} (the columns are: {columns or 'none'}); "
                         "name the text column with text_col= (--text-col)")


def analyse_local(data: AdsInput, *, text_col: str = "description", title_col: str = "title", id_col: str = "ad_id",
                  progress: bool = True, model: DutyClassifier | None = None,
                  rules: FlagRules | None = None, models: Models | None = None, n_process: int = 1) -> Analysis:
    """:func:`cmclassify.analyse` on this machine, for anything but a Dask DataFrame."""
    parts = list(iter_analyse(data, text_col=text_col, title_col=title_col, id_col=id_col, progress=progress,
                              model=model, rules=rules, models=models, n_process=n_process))
    return Analysis.concat(parts) if parts else Analysis.from_records([], [], [])


def analyse_to_files(data: AdsInput, out_dir: str | Path, fmt: str = "parquet", *, text_col: str = "description",
                     title_col: str = "title", id_col: str = "ad_id", chunk_size: int = CHUNK_SIZE,
                     progress: bool = True, model: DutyClassifier | None = None,
                     rules: FlagRules | None = None, models: Models | None = None,
                     n_process: int = 1) -> dict[str, Any]:
    """Analyse ``data`` chunk by chunk, appending to ``ads``, ``duties`` and ``findings`` files in ``out_dir``.

    Memory stays flat whatever the input size. The files take their names, and
    ``_SUCCESS.json`` is written, only when the whole input is done: an
    interrupted run leaves the folder's previous results as they were. Returns
    the paths written and the count of ads per status.
    """
    with TableWriters(out_dir, fmt, source=str(data) if isinstance(data, (str, Path)) else type(data).__name__) as writers:
        for part in iter_analyse(data, text_col=text_col, title_col=title_col, id_col=id_col, chunk_size=chunk_size,
                                 progress=progress, model=model, rules=rules, models=models,
                                 n_process=n_process):
            writers.write(part)
    return {"paths": writers.paths, "statuses": writers.statuses, "n_ads": writers.rows["ads"],
            "n_duties": writers.rows["duties"]}


def analyse_with(nlp: Language, data: pd.DataFrame) -> Analysis:
    """Analyse a DataFrame of ads (columns as for :func:`cmclassify.analyse`) with a pipeline built and
    adjusted by the caller (from :func:`load_nlp`), in one batch."""
    return Analysis.from_records(*_analyse_frame(normalise_frame(data), nlp))


def analyse_text(text: str, title: str | None = None) -> Analysis:
    """Analyse one ad; ``.explain()`` on the result describes it in plain words."""
    return analyse_local(pd.DataFrame({"title": [title or ""], "description": [text]}), progress=False)


