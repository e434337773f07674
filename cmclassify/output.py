"""Write analyses to files: ``ads``, ``duties`` and ``findings`` tables as CSV, JSONL or Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .tables import TABLES, Tables, build_tables

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("csv", "parquet", "jsonl")


class TableWriters:
    """Appends analyses to ``ads``, ``duties`` and ``findings`` files, chunk after chunk."""

    def __init__(self, out_dir: str | Path, fmt: str):
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        self.fmt = fmt
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.paths = [out / f"{name}.{fmt}" for name in TABLES]
        self._parquet: dict[str, Any] = {}
        self._written: set[str] = set()
        self._empty: dict[str, pd.DataFrame] = {}

    def __enter__(self) -> "TableWriters":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def write(self, analysis: Tables) -> None:
        for name, path in zip(TABLES, self.paths):
            frame = getattr(analysis, name)
            if frame.empty:
                self._empty.setdefault(name, frame)
            else:
                self._append(name, path, frame)

    def _append(self, name: str, path: Path, frame: pd.DataFrame) -> None:
        first = name not in self._written
        self._written.add(name)
        if self.fmt == "csv":
            frame.to_csv(path, index=False, mode="w" if first else "a", header=first)
        elif self.fmt == "jsonl":
            lines = frame.to_json(orient="records", lines=True, force_ascii=False, date_format="iso") if len(frame) else ""
            with open(path, "w" if first else "a", encoding="utf-8") as handle:
                handle.write(lines if not lines or lines.endswith("\n") else lines + "\n")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            writer = self._parquet.get(name)
            if writer is None:
                # A column that is empty in the first chunk has no type yet: take it as text.
                schema = pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema],
                                   metadata=table.schema.metadata)
                writer = self._parquet[name] = pq.ParquetWriter(path, schema)
            writer.write_table(table.cast(writer.schema))

    def close(self) -> None:
        for name, path in zip(TABLES, self.paths):
            if name not in self._written:  # every table gets a file, with its columns, even when empty
                empty = self._empty.get(name)
                self._append(name, path, empty if empty is not None else dict(zip(TABLES, build_tables([], [], [])))[name])
        for writer in self._parquet.values():
            writer.close()
        self._parquet.clear()
