"""Export for statisticians: the per-ad tables and their summaries as Parquet or CSV, with a data
dictionary (table, column, type, meaning) built from the column descriptions in the code, so that
the dictionary cannot fall behind the outputs; ``data/DATA_DICTIONARY.md`` is its rendering."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .aggregate import COUNT_METRICS, MEAN_METRICS, METRICS, POPULATIONS, SUMMARY_COLUMNS, summarise
from .output import FORMATS, PARTIAL, TableWriters
from .prevalence import CORRECTED_BY
from .tables import TABLE_COLUMNS, TABLE_DTYPES, TABLES

if TYPE_CHECKING:
    from .tables import Tables

DICTIONARY_COLUMNS = ("table", "column", "type", "meaning")
DICTIONARY_FILE = "data_dictionary.csv"
_TYPES = {"str": "string", "object": "string", "string": "string", "int64": "integer", "Int64": "integer (may be empty)",
          "float64": "float", "boolean": "boolean (may be empty)", "bool": "boolean"}
_SUMMARY_TYPES = {"metric": "string", "value": "float", "ci_low": "float", "ci_high": "float", "n": "integer",
                  "population": "string", "interval": "string", "too_small": "boolean", "corrected": "float",
                  "corrected_low": "float", "corrected_high": "float"}
GROUP_COLUMN = "(group columns)"


def _type_name(dtype: object) -> str:
    return _TYPES.get(str(dtype), str(dtype))


def metric_meaning(metric: str) -> str:
    """A metric's meaning with its population and how its interval (and correction) is computed."""
    population, text = METRICS[metric]
    if metric in COUNT_METRICS:
        return text
    method = "bootstrap interval" if metric in MEAN_METRICS else "Wilson interval"
    among = " among the annotated CM ads" if population == "cm" else ""
    corrected = f"; corrected with the CV sensitivity/specificity of {CORRECTED_BY[metric]}{among}" \
        if metric in CORRECTED_BY else ""
    return f"{text} (over: {POPULATIONS[population]}; {method}{corrected})"


def data_dictionary(analysis: Tables | None = None, by: Sequence[str] = ()) -> pd.DataFrame:
    """Every column of the exported tables (``ads``, ``duties``, ``findings``, ``summary``) with its
    type and meaning, and every value of the summary's ``metric`` column (table ``metric``).

    Given an ``analysis``, the columns it carries over from the input are listed too, and ``by``
    names the group columns of its summaries."""
    rows = []
    for table in TABLES:
        for column, meaning in TABLE_COLUMNS[table].items():
            rows.append((table, column, _type_name(TABLE_DTYPES[table][column]), meaning))
        if analysis is not None:
            frame = getattr(analysis, table)
            rows += [(table, str(c), _type_name(frame[c].dtype), "carried over from the input unchanged")
                     for c in frame.columns if c not in TABLE_COLUMNS[table]]
    groups = list(by) if analysis is not None else [GROUP_COLUMN]
    rows += [("summary", g, "string", "the group (a value of the ads' column of that name; month and year from "
                                      "the date column); (missing) when empty") for g in groups]
    rows += [("summary", c, _SUMMARY_TYPES[c], meaning) for c, meaning in SUMMARY_COLUMNS.items()]
    rows += [("metric", m, "count" if m in COUNT_METRICS else "mean" if m in MEAN_METRICS else "proportion",
              metric_meaning(m)) for m in METRICS]
    return pd.DataFrame(rows, columns=list(DICTIONARY_COLUMNS))


def dictionary_markdown() -> str:
    """The data dictionary as Markdown (the text of ``data/DATA_DICTIONARY.md``)."""
    lines = ["# Data dictionary", "",
             "The columns of the files `cmclassify analyse` and `cmclassify summary` write (and of",
             "`Analysis.ads`, `.duties`, `.findings` and `Analysis.summary()`), and the metrics of a summary.",
             "Generated from the code by `cmclassify summary --dictionary`; a test keeps it in step.", ""]
    headings = {"ads": "ads: one row per ad", "duties": "duties: one row per duty found",
                "findings": "findings: one row per piece of evidence behind a flag",
                "summary": "summary: one row per (group and) metric", "metric": "metric: the values of summary.metric"}
    for table, rows in data_dictionary().groupby("table", sort=False):
        lines += [f"## {headings[table]}", "", "| column | type | meaning |", "|---|---|---|"]
        lines += [f"| `{r.column}` | {r.type} | {r.meaning.replace('|', '/')} |" for r in rows.itertuples()]
        lines.append("")
    return "\n".join(lines)


def _summary_name(by: str | Sequence[str] | None) -> str:
    if by is None:
        return "summary"
    return "summary_by_" + "_".join([by] if isinstance(by, str) else by)


def _write_frame(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    temporary = path.with_name(path.name + PARTIAL)
    if fmt == "csv":
        frame.to_csv(temporary, index=False)
    elif fmt == "parquet":
        frame.to_parquet(temporary, index=False)
    else:
        frame.to_json(temporary, orient="records", lines=True, force_ascii=False)
    os.replace(temporary, path)


def export_summaries(analysis: Tables, out_dir: str | Path, by: Sequence[str | Sequence[str]] = (),
                     fmt: str = "parquet", **options: object) -> list[Path]:
    """Write the overall summary and one per grouping of ``by`` (``summary.<fmt>``,
    ``summary_by_country.<fmt>``…) and ``data_dictionary.csv`` into ``out_dir``; ``options`` go to
    :func:`cmclassify.aggregate.summarise` (``min_n``, ``n_boot``, ``seed``…). Returns the paths."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    group_columns: list[str] = []
    for grouping in (None, *by):
        table = summarise(analysis, by=grouping, **options)  # type: ignore[arg-type]
        group_columns += [c for c in table.columns if c not in SUMMARY_COLUMNS and c not in group_columns]
        paths.append(folder / f"{_summary_name(grouping)}.{fmt}")
        _write_frame(table, paths[-1], fmt)
    paths.append(folder / DICTIONARY_FILE)
    _write_frame(data_dictionary(analysis, group_columns), paths[-1], "csv")
    return paths


def export(analysis: Tables, out_dir: str | Path, by: Sequence[str | Sequence[str]] = (), fmt: str = "parquet",
           **options: object) -> list[Path]:
    """Write the per-ad tables (``ads``, ``duties``, ``findings``), their summaries and the data
    dictionary into ``out_dir`` (see :func:`export_summaries`); returns the paths."""
    with TableWriters(out_dir, fmt) as writers:
        writers.write(analysis)
    return [*writers.paths, *export_summaries(analysis, out_dir, by, fmt, **options)]


def read_tables(folder: str | Path) -> dict[str, pd.DataFrame]:
    """The ``ads``, ``duties`` and ``findings`` tables written by ``cmclassify analyse`` (or
    :func:`export`) into ``folder``, in whichever format, with the tool's dtypes (from CSV, empty
    text comes back missing)."""
    folder = Path(folder)
    tables = {}
    for name in TABLES:
        found = [folder / f"{name}.{fmt}" for fmt in FORMATS if (folder / f"{name}.{fmt}").exists()]
        if not found:
            raise FileNotFoundError(f"{folder}: no {name}.csv, {name}.parquet or {name}.jsonl (run cmclassify analyse)")
        path = found[0]
        frame = (pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path) if path.suffix == ".parquet"
                 else pd.read_json(path, lines=True, dtype=False))
        tables[name] = frame.astype({c: t for c, t in TABLE_DTYPES[name].items() if c in frame.columns})
    return tables
