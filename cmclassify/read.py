"""Stage 1, reading: ads from a DataFrame, a list of strings or a file into one normalised table.

Files: CSV, JSON, JSONL, Parquet, plain text (one ad per ``.txt`` file, or a
folder of them). Text files in encodings other than UTF-8 are detected.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
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


def read_file(path: str | Path) -> pd.DataFrame:
    """Read a whole file (or folder of .txt files) as it stands, columns untouched."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    fmt = file_format(path)
    try:
        if fmt == "parquet":
            return pd.read_parquet(path)
        if fmt == "txt":
            files = sorted(path.glob("*.txt")) if path.is_dir() else [path]
            return pd.DataFrame({"title": [f.stem for f in files],
                                 "description": [decode(f.read_bytes()) for f in files]})
        text = decode(path.read_bytes())
        if fmt == "csv":
            sep = "\t" if path.suffix.lower() == ".tsv" else ","
            return pd.read_csv(io.StringIO(text), sep=sep, dtype=object, keep_default_na=False, na_values=[""])
        if fmt == "jsonl":
            return pd.DataFrame([json.loads(line) for line in text.splitlines() if line.strip()])
        parsed = json.loads(text)
        return pd.DataFrame(parsed if isinstance(parsed, list) else parsed.get("ads", [parsed]))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot be read as {fmt}: {exc}") from exc


def iter_file_chunks(path: str | Path, chunk_size: int) -> Iterator[pd.DataFrame]:
    """Yield a file in chunks of ``chunk_size`` rows, so memory stays flat on large inputs."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    fmt = file_format(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_size):
            yield batch.to_pandas()
    elif fmt == "jsonl":
        rows: list[dict[str, Any]] = []
        with open(path, "rb") as handle:
            for raw_line in handle:
                line = decode(raw_line).strip()
                if line:
                    rows.append(json.loads(line))
                if len(rows) == chunk_size:
                    yield pd.DataFrame(rows)
                    rows = []
        if rows:
            yield pd.DataFrame(rows)
    elif fmt == "csv" and _is_utf8(path):
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        yield from pd.read_csv(path, sep=sep, dtype=object, keep_default_na=False, na_values=[""],
                               chunksize=chunk_size, encoding="utf-8-sig")
    else:
        frame = read_file(path)
        for start in range(0, len(frame), chunk_size):
            yield frame.iloc[start:start + chunk_size]


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
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value if isinstance(value, str) else str(value)


def normalise_frame(frame: pd.DataFrame, *, text_col: str = "description", title_col: str = "title",
                    id_col: str = "ad_id", seen_ids: dict[str, int] | None = None) -> pd.DataFrame:
    """One row per input row: the ``INPUT_COLUMNS``, then the input's other columns.

    The description keeps its original Python value (text, number, NaN…) for the
    pipeline to judge row by row. Other columns are carried through. Missing ids
    are generated from the content; repeated ids get a ``#2``, ``#3`` suffix
    (``seen_ids`` carries the counts across chunks).
    """
    n = len(frame)
    input_error = [""] * n
    if text_col in frame.columns:
        descriptions = frame[text_col].astype(object).tolist()
    else:
        descriptions = [None] * n
        message = f"no text column {text_col!r} (columns: {', '.join(map(str, frame.columns)) or 'none'})"
        input_error = [message] * n
    titles = [_as_text(t) for t in frame[title_col].tolist()] if title_col in frame.columns else [""] * n
    if id_col in frame.columns:
        ids = [_as_text(i) or stable_id(t, _as_text(d)) for i, t, d in zip(frame[id_col].tolist(), titles, descriptions)]
    else:
        ids = [stable_id(t, _as_text(d)) for t, d in zip(titles, descriptions)]
    seen = seen_ids if seen_ids is not None else {}
    warnings = [""] * n
    for i, ad_id in enumerate(ids):
        count = seen.get(ad_id, 0) + 1
        seen[ad_id] = count
        if count > 1:
            ids[i] = f"{ad_id}#{count}"
            warnings[i] = f"duplicate ad_id {ad_id!r}: renamed to {ids[i]!r}"
    extra = frame.drop(columns=[c for c in (text_col, title_col, id_col) if c in frame.columns])
    extra = extra.drop(columns=[c for c in extra.columns if c in INPUT_COLUMNS])
    out = pd.DataFrame({"ad_id": ids, "title": titles,
                        "description": pd.Series(descriptions, dtype=object),
                        "input_error": input_error, "input_warning": warnings})
    for column in extra.columns:
        out[column] = extra[column].reset_index(drop=True)
    return out
