"""The public entry point for analysing ads: in this process, or on Dask for a Dask DataFrame."""

from __future__ import annotations

from typing import Any

from .analysis import Analysis
from .estimators import DutyClassifier, Models
from .flag import FlagRules
from .pipeline import analyse_local
from .read import AdsInput


def analyse(data: AdsInput, *, text_col: str = "description", title_col: str = "title", id_col: str = "ad_id",
            progress: bool = True, model: DutyClassifier | None = None, rules: FlagRules | None = None,
            models: Models | None = None, n_process: int = 1) -> Analysis:
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
    :meth:`cmclassify.FlagRules.load`); ``models`` any of the other learned models
    (:class:`cmclassify.Models`). For inputs larger than memory use
    :func:`cmclassify.analyse_to_files`. ``n_process`` (spaCy's name) runs that many worker
    processes (``-1``: one per core); the results are the same, in the same order, as with one.
    """
    if _is_dask_frame(data):
        from .distributed import analyse_dask

        return analyse_dask(data, text_col=text_col, title_col=title_col, id_col=id_col, model=model, rules=rules,
                            models=models)
    return analyse_local(data, text_col=text_col, title_col=title_col, id_col=id_col, progress=progress,
                         model=model, rules=rules, models=models, n_process=n_process)




def _is_dask_frame(data: Any) -> bool:
    return type(data).__module__.startswith("dask") and hasattr(data, "map_partitions")
