"""Write analyses to files: ``ads``, ``duties`` and ``findings`` tables as CSV, JSONL or Parquet.

A run never leaves a folder looking complete when it is not. Tables are written
as ``<name>.<fmt>.partial`` and renamed into place only when the whole input is
done; then ``_SUCCESS.json`` names the run, the input and the row counts. An
interrupted run leaves the previous results as they were, and its own files
named ``.partial``. A lock file refuses a second run into a folder in use.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .tables import TABLES, Tables, build_tables

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("csv", "parquet", "jsonl")
MANIFEST = "_SUCCESS.json"
LOCK = ".cmclassify.lock"
PARTIAL = ".partial"


class FolderInUseError(RuntimeError):
    """Another cmclassify run is writing into the same folder."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_atomically(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a ``.partial`` file renamed into place: never half a file."""
    path = Path(path)
    temporary = path.with_name(path.name + PARTIAL)
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


class OutputFolder:
    """One run's hold on an output folder: the lock, the partial names, the final renames and the manifest."""

    def __init__(self, out_dir: str | Path, names: list[str], *, source: str = ""):
        self.folder = Path(out_dir)
        self.names = names
        self.source = source
        self.run_id = uuid.uuid4().hex
        self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._locked = False

    @property
    def final(self) -> list[Path]:
        return [self.folder / name for name in self.names]

    @property
    def partial(self) -> list[Path]:
        return [self.folder / (name + PARTIAL) for name in self.names]

    def __enter__(self) -> "OutputFolder":
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = self.folder / LOCK
        for _ in range(2):
            try:
                descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                holder = lock.read_text(encoding="utf-8").split()[:1] if lock.exists() else []
                pid = int(holder[0]) if holder and holder[0].isdigit() else None
                if pid is not None and pid != os.getpid() and _pid_alive(pid):
                    raise FolderInUseError(f"{self.folder}: another cmclassify run (process {pid}) is writing here; "
                                           "wait for it to finish or choose another output folder") from None
                lock.unlink(missing_ok=True)  # left by a run that was killed
                continue
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(f"{os.getpid()} {self.run_id} {self.started}\n")
            self._locked = True
            return self
        raise FolderInUseError(f"{self.folder}: cannot take the lock {lock}")

    def commit(self, counts: dict[str, Any]) -> None:
        """Rename the partial files into place and write the manifest (the old one goes first, so a
        folder caught between the renames has none)."""
        (self.folder / MANIFEST).unlink(missing_ok=True)
        for partial, final in zip(self.partial, self.final):
            if final.is_dir() and not final.is_symlink():
                import shutil

                shutil.rmtree(final)
            os.replace(partial, final)
        from . import __version__

        manifest = {"run": self.run_id, "started": self.started,
                    "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"), "input": self.source,
                    "files": self.names, "cmclassify": __version__, **counts}
        write_atomically(self.folder / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")

    def __exit__(self, *exc: Any) -> None:
        if self._locked:
            (self.folder / LOCK).unlink(missing_ok=True)
            self._locked = False


class TableWriters:
    """Appends analyses to ``ads``, ``duties`` and ``findings`` files, chunk after chunk, into one
    :class:`OutputFolder`; the files take their names only when the run ends without an error."""

    def __init__(self, out_dir: str | Path, fmt: str, *, source: str = ""):
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        self.fmt = fmt
        self.folder = OutputFolder(out_dir, [f"{name}.{fmt}" for name in TABLES], source=source)
        self.paths = self.folder.final
        self._parquet: dict[str, Any] = {}
        self._written: set[str] = set()
        self._empty: dict[str, pd.DataFrame] = {}
        self.rows = dict.fromkeys(TABLES, 0)
        self.statuses: dict[str, int] = {}

    def __enter__(self) -> "TableWriters":
        self.folder.__enter__()
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        try:
            self._close_files()
            if exc_type is None:
                self.folder.commit({"rows": self.rows, "statuses": self.statuses, "format": self.fmt})
        finally:
            self.folder.__exit__()

    def write(self, analysis: Tables) -> None:
        for name, path in zip(TABLES, self.folder.partial):
            frame = getattr(analysis, name)
            self.rows[name] += len(frame)
            if frame.empty:
                self._empty.setdefault(name, frame)
            else:
                self._append(name, path, frame)
        for status, n in analysis.ads["status"].value_counts().items():
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + int(n)

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

    def _close_files(self) -> None:
        """Every table gets a file, with its columns, even when empty; Parquet files get their footer."""
        for name, path in zip(TABLES, self.folder.partial):
            if name not in self._written:
                empty = self._empty.get(name)
                self._append(name, path, empty if empty is not None else dict(zip(TABLES, build_tables([], [], [])))[name])
        for writer in self._parquet.values():
            writer.close()
        self._parquet.clear()
