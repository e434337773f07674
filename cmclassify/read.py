"""Stage 1, reading: ads from a DataFrame, a list of strings or a file into one normalised table.

Files: CSV, JSON, JSONL, Parquet, plain text (one ad per ``.txt`` file, or a
folder of them). Text files in encodings other than UTF-8 are detected.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Union

import pandas as pd
from charset_normalizer import from_bytes

from .errors import InputError

AdsInput = Union[pd.DataFrame, Sequence[str], str, Path]
"""What ``analyse`` accepts: a DataFrame, a list of ad texts, or a path to a file or folder."""

FORMATS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
           ".parquet": "parquet", ".pq": "parquet", ".txt": "txt"}
INPUT_COLUMNS = ("ad_id", "title", "description", "input_error", "input_warning")
"""The columns ``normalise_frame`` puts first; the input's other columns follow."""


# Encodings Spanish text is found in; detection among all of them misreads short Spanish texts.
_SPANISH_ENCODINGS = ["cp1252", "latin_1", "iso8859_15", "cp850", "mac_roman", "utf_16", "utf_16_le", "utf_16_be"]


def decode(data: bytes) -> str:
    """Decode bytes as UTF-8 (with or without BOM), else as the encoding charset-normalizer detects."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        guesses = [match.encoding for match in from_bytes(data[:200_000], cp_isolation=_SPANISH_ENCODINGS)]
        # Among plausible code pages, the one that yields the most Spanish letters reads the text right.
        encoding = max(guesses or ["cp1252"], key=lambda enc: _spanish_letters(data[:200_000].decode(enc, errors="replace")))
        return data.decode(encoding, errors="replace")


def _spanish_letters(text: str) -> int:
    return sum(text.count(ch) for ch in "áéíóúñÁÉÍÓÚÑü¿¡")


def file_format(path: Path) -> str:
    if path.is_dir():
        return "txt"
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: unknown file type {path.suffix!r}; use one of {', '.join(sorted(FORMATS))}")
    return fmt


ROW_ERROR, ROW_WARNING = "_cmclassify_error", "_cmclassify_warning"
"""Columns a reader adds to a row it could not read whole: the problem, named by file and line."""
_SURROGATES = re.compile("[\ud800-\udfff]")


def _error_row(path: Path, line: int | str, problem: str) -> dict[str, Any]:
    return {ROW_ERROR: f"{path.name}:{line}: {problem}"}


def _json_rows(path: Path, chunk_size: int) -> Iterator[list[dict[str, Any]]]:
    """Rows of a JSONL file, a chunk at a time; a line that is not a JSON object becomes an error row."""
    rows: list[dict[str, Any]] = []
    with open(path, "rb") as handle:
        for number, raw_line in enumerate(handle, 1):
            if number == 1 and raw_line.startswith(b"\xef\xbb\xbf"):
                raw_line = raw_line[3:]
            warning = ""
            try:
                line = raw_line.decode("utf-8")
            except UnicodeDecodeError:
                line = decode(raw_line)
                warning = f"{path.name}:{number}: the line is not UTF-8; its encoding was guessed"
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                rows.append(_error_row(path, number, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            else:
                if isinstance(value, dict):
                    if any(isinstance(v, str) and _SURROGATES.search(v) for v in value.values()):
                        value = {k: _clean_surrogates(v) if isinstance(v, str) else v for k, v in value.items()}
                        warning = "; ".join(filter(None, (warning, "invalid characters (lone surrogates) replaced")))
                    rows.append({**value, ROW_WARNING: warning} if warning else value)
                else:
                    rows.append(_error_row(path, number, f"a JSON {type(value).__name__}, not an object with the ad's fields"))
            if len(rows) == chunk_size:
                yield rows
                rows = []
    if rows:
        yield rows


_BAD_LINE = re.compile(r"Skipping line (\d+): (.*)")


def _csv_chunks(source: Any, path: Path, chunk_size: int, **options: Any) -> Iterator[pd.DataFrame]:
    """A CSV file in chunks; a line pandas cannot split into the header's fields becomes an error row."""
    import warnings

    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        reader = pd.read_csv(source, sep=sep, dtype=object, keep_default_na=False, na_values=[""],
                             chunksize=chunk_size, on_bad_lines="warn", **options)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty (no header, no rows)") from None
    with reader:
        while True:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", pd.errors.ParserWarning)
                try:
                    chunk = next(reader)
                except StopIteration:
                    chunk = None
            bad = [_error_row(path, m.group(1), m.group(2).strip()) for w in caught
                   for m in _BAD_LINE.finditer(str(w.message))]
            if chunk is None:
                if bad:
                    yield pd.DataFrame(bad)
                return
            yield pd.concat([chunk, pd.DataFrame(bad)], ignore_index=True) if bad else chunk


def _json_array(path: Path) -> pd.DataFrame:
    parsed = json.loads(decode(path.read_bytes()))
    items = parsed if isinstance(parsed, list) else parsed.get("ads", [parsed]) if isinstance(parsed, dict) else [parsed]
    return pd.DataFrame([item if isinstance(item, dict) else
                         _error_row(path, f"item {i + 1}", f"a JSON {type(item).__name__}, not an object")
                         for i, item in enumerate(items)])


def read_file(path: str | Path) -> pd.DataFrame:
    """Read a whole file (or folder of .txt files); rows it could not read carry their problem."""
    chunks = list(iter_file_chunks(path, 100_000))
    return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()


def iter_file_chunks(path: str | Path, chunk_size: int) -> Iterator[pd.DataFrame]:
    """Yield a file in chunks of ``chunk_size`` rows, so memory stays flat on large inputs.

    A line that cannot be read (malformed JSON, a CSV line with too many fields) becomes a row
    whose problem names the file and line; the rest of the file is read. A file that cannot be
    read at all is an :class:`InputError` naming it.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    fmt = file_format(path)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_size):
                yield batch.to_pandas()
        elif fmt == "jsonl":
            for rows in _json_rows(path, chunk_size):
                yield pd.DataFrame(rows)
        elif fmt == "csv":
            if _is_utf8(path):
                # Bytes that are not UTF-8 further on are replaced (the row's text shows \ufffd).
                yield from _csv_chunks(path, path, chunk_size, encoding="utf-8-sig", encoding_errors="replace")
            else:
                yield from _csv_chunks(io.StringIO(decode(path.read_bytes())), path, chunk_size)
        elif fmt == "txt":
            files = sorted(path.glob("*.txt")) if path.is_dir() else [path]
            for start in range(0, len(files), chunk_size):
                part = files[start:start + chunk_size]
                titled = [split_title(decode(f.read_bytes())) for f in part]
                yield pd.DataFrame({"title": [t for t, _ in titled], "description": [d for _, d in titled],
                                    "file": [f.name for f in part]})
        else:
            frame = _json_array(path)
            for start in range(0, max(len(frame), 1), chunk_size):
                yield frame.iloc[start:start + chunk_size]
    except InputError:
        raise
    except (OSError, ValueError, UnicodeError) as exc:
        raise InputError(f"{path}: cannot be read as {fmt}: {exc}") from None


MAX_TITLE = 300
_LIST_MARKERS = ("-", "•", "*", "·", "–")


def split_title(text: str) -> tuple[str, str]:
    """``(title, rest)`` of a plain-text ad whose first line is its title, else ``("", text)``.

    The first line is a title when it is short, is not a list item and more text follows it.
    """
    first, _, rest = text.lstrip().partition("\n")
    first = first.strip()
    if rest.strip() and first and len(first) <= MAX_TITLE and not first.startswith(_LIST_MARKERS):
        return first, rest
    return "", text


def count_rows(path: str | Path) -> int | None:
    """Rows in a file when that is cheap to know (Parquet metadata), else None."""
    path = Path(path)
    if path.is_file() and file_format(path) == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return None


def _is_utf8(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(1 << 20)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a character cut at the end of the sample
    return True


def stable_id(title: str, text: str) -> str:
    digest = hashlib.sha1(f"{title}\x1f{text}".encode("utf-8", errors="replace")).hexdigest()
    return f"ad-{digest[:10]}"


def _as_text(value: Any) -> str:
    if _is_missing(value):
        return ""
    return _clean_surrogates(value if isinstance(value, str) else str(value))


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _clean_surrogates(text: str) -> str:
    """Lone surrogates (text cut in the middle of an emoji, "\\ud83d" in JSON) cannot be written as
    UTF-8: replace them with U+FFFD."""
    return _SURROGATES.sub("\ufffd", text) if _SURROGATES.search(text) else text


def free_name(name: str, taken: set[str], prefix: str = "input_") -> str:
    """``name``, or ``input_name`` (``input_input_name`` …) when it is taken."""
    while name in taken:
        name = prefix + name
    return name


def unique_id(ad_id: str, seen: set[str]) -> str:
    """``ad_id``, or the first of ``ad_id#2``, ``ad_id#3`` … that no earlier row has."""
    if ad_id not in seen:
        return ad_id
    n = 2
    while f"{ad_id}#{n}" in seen:
        n += 1
    return f"{ad_id}#{n}"


def normalise_frame(frame: pd.DataFrame, *, text_col: str = "description", title_col: str = "title",
                    id_col: str = "ad_id", seen_ids: set[str] | None = None) -> pd.DataFrame:
    """One row per input row: the ``INPUT_COLUMNS``, then the input's other columns.

    The description keeps its original Python value (text, number, NaN…) for the
    pipeline to judge row by row. Other columns are carried through. Missing ids
    are generated from the content; a repeated id is renamed to the first free
    ``id#2``, ``id#3`` … (``seen_ids`` carries the ids across chunks), so no two
    rows share an id.
    """
    n = len(frame)
    row_errors = [("" if _is_missing(e) else str(e)) for e in frame[ROW_ERROR]] if ROW_ERROR in frame.columns else [""] * n
    row_warnings = [("" if _is_missing(w) else str(w)) for w in frame[ROW_WARNING]] if ROW_WARNING in frame.columns \
        else [""] * n
    descriptions = frame[text_col].astype(object).tolist() if text_col in frame.columns else [None] * n
    for i, value in enumerate(descriptions):
        if isinstance(value, str) and _SURROGATES.search(value):
            descriptions[i] = _clean_surrogates(value)
            row_warnings[i] = "; ".join(filter(None, (row_warnings[i], "invalid characters (lone surrogates) replaced")))
        elif isinstance(value, str) and "\ufffd" in value:
            row_warnings[i] = "; ".join(filter(None, (row_warnings[i], "the text held bytes that could not be "
                                                                       "decoded (replaced by \ufffd)")))
    titles = [_as_text(t) for t in frame[title_col].tolist()] if title_col in frame.columns else [""] * n
    if id_col in frame.columns:
        ids = [_as_text(i) or stable_id(t, _as_text(d)) for i, t, d in zip(frame[id_col].tolist(), titles, descriptions)]
    else:
        ids = [stable_id(t, _as_text(d)) for t, d in zip(titles, descriptions)]
    seen = seen_ids if seen_ids is not None else set()
    for i, ad_id in enumerate(ids):
        renamed = unique_id(ad_id, seen)
        seen.add(renamed)
        if renamed != ad_id:
            ids[i] = renamed
            row_warnings[i] = "; ".join(filter(None, (row_warnings[i], f"duplicate ad_id {ad_id!r}: renamed to {renamed!r}")))
    extra = frame.drop(columns=[c for c in (text_col, title_col, id_col, ROW_ERROR, ROW_WARNING) if c in frame.columns])
    out = pd.DataFrame({"ad_id": ids, "title": titles,
                        "description": pd.Series(descriptions, dtype=object),
                        "input_error": row_errors, "input_warning": row_warnings})
    taken = set(INPUT_COLUMNS)
    for column in extra.columns:
        values = extra[column].reset_index(drop=True)
        if values.dtype == object:
            values = values.map(lambda v: _clean_surrogates(v) if isinstance(v, str) else v)
        name = free_name(str(column), taken)
        taken.add(name)
        out[name] = values
    return out
