"""The result of an analysis: the per-ad and per-duty tables, and ways to save and read them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

AD_COLUMNS = {
    "ad_id": "the ad's id (from the input, or generated from its content; repeats get '#2', '#3')",
    "title": "the ad's title as given",
    "status": "ok, empty, not_spanish, garbled or error",
    "error": "why the ad was not analysed (empty when status is ok)",
    "warning": "something worth knowing about an analysed ad (text cut, id renamed)",
    "n_duties": "number of duties found",
    "clean_text": "the cleaned text that duty offsets refer to",
    "share_marketing_sales": "share of the ad's duties labelled marketing_sales",
    "share_communication_conversation": "share of the ad's duties labelled communication_conversation",
    "share_other": "share of the ad's duties labelled other",
    "orientation": "marketing_sales / communication_conversation when >= 60 % of the duties on that axis are; "
                   "mixed otherwise; undetermined without such duties",
    "is_cm_role": "the post is a community-manager / social-media role (codebook, Unit 2)",
    "alchemist": "the ad expects one hire to fix what is a problem of the whole organisation",
    "alchemist_score": "0-1, for ranking ads by how strongly they ask for an alchemist",
    "alchemist_reasons": "letters that hold, e.g. 'A,B' (A outcome over-reach, B scope overload, "
                         "C sole ownership, D facade, E mismatch); recorded also when the flag stays false",
    "n_functions": "distinct functions the duties assign to the hire (scope overload at 5 or more)",
    "functions": "those functions, comma-separated",
    "follower_credential": "the candidate's own audience is treated as a qualification",
    "hype_title": "the title inflates the role (experto, gurú, ninja, rockstar…)",
}
FINDING_COLUMNS = {
    "ad_id": "the ad",
    "flag": "alchemist, follower_credential or hype_title",
    "reason": "A-E for alchemist findings, empty otherwise",
    "reason_name": "outcome_overreach, scope_overload, sole_ownership, facade, mismatch, or the flag",
    "evidence": "the quoted sentence, duty or title that triggered the finding",
    "field": "where the offsets point: 'text' (the ad's clean_text) or 'title'",
    "start": "start offset of the evidence",
    "end": "end offset (exclusive)",
    "detail": "extra detail (for scope overload: the functions counted)",
    "explanation_es": "what the finding means, in Spanish",
    "explanation_en": "what the finding means, in English",
    "suggestion_es": "what the ad's author could change, in Spanish",
    "suggestion_en": "what the ad's author could change, in English",
}
_AD_DTYPES = {**{c: "str" for c in AD_COLUMNS}, "n_duties": "int64", "n_functions": "Int64", "alchemist_score": "float64",
              **{c: "float64" for c in AD_COLUMNS if c.startswith("share_")},
              **{c: "boolean" for c in ("is_cm_role", "alchemist", "follower_credential", "hype_title")}}
DUTY_COLUMNS = {
    "ad_id": "the ad the duty belongs to",
    "duty_index": "position of the duty in the ad, from 0",
    "text": "the duty as written in the cleaned text (bullets and final full stop trimmed)",
    "start": "character offset of the duty in the ad's clean_text",
    "end": "end offset (exclusive) in clean_text",
    "section": "the section the duty was found in: duties, intro, summary…",
    "label": "marketing_sales, communication_conversation or other",
    "p_marketing_sales": "calibrated probability of marketing_sales",
    "p_communication_conversation": "calibrated probability of communication_conversation",
    "p_other": "calibrated probability of other",
    "evidence": "the words (lemmas) that pushed the duty most towards its label",
}
# Fixed dtypes, so that empty tables, chunks and Dask partitions agree.
_DUTY_DTYPES = {**{c: "str" for c in DUTY_COLUMNS}, "duty_index": "int64", "start": "int64", "end": "int64",
                "p_marketing_sales": "float64", "p_communication_conversation": "float64", "p_other": "float64"}
_FINDING_DTYPES = {**{c: "str" for c in FINDING_COLUMNS}, "start": "int64", "end": "int64"}
FORMATS = ("csv", "parquet", "jsonl")


@dataclass
class Analysis:
    """Tables produced by :func:`cmclassify.analyse`.

    ``ads``: one row per input row, in input order (columns in ``AD_COLUMNS``,
    then any extra input columns). ``duties``: one row per duty found
    (``DUTY_COLUMNS``). ``findings``: one row per piece of evidence behind a
    flag (``FINDING_COLUMNS``). Columns are described in those dicts.
    """

    ads: pd.DataFrame
    duties: pd.DataFrame
    findings: pd.DataFrame

    @classmethod
    def from_records(cls, ads: list[dict[str, Any]], duties: list[dict[str, Any]],
                     findings: list[dict[str, Any]]) -> "Analysis":
        ad_frame = pd.DataFrame(ads)
        for column in AD_COLUMNS:
            if column not in ad_frame.columns:
                ad_frame[column] = pd.Series([None] * len(ad_frame), dtype=object)
        ad_frame = ad_frame.astype(_AD_DTYPES)
        ad_frame = ad_frame[list(AD_COLUMNS) + [c for c in ad_frame.columns if c not in AD_COLUMNS]]
        duty_frame = pd.DataFrame(duties, columns=list(DUTY_COLUMNS)).astype(_DUTY_DTYPES)
        finding_frame = pd.DataFrame(findings, columns=list(FINDING_COLUMNS)).astype(_FINDING_DTYPES)
        return cls(ad_frame.reset_index(drop=True), duty_frame, finding_frame)

    def __len__(self) -> int:
        return len(self.ads)

    def __repr__(self) -> str:
        counts = self.ads["status"].value_counts().to_dict() if len(self.ads) else {}
        return f"<Analysis: {len(self.ads)} ads {counts}, {len(self.duties)} duties, {len(self.findings)} findings>"

    def duties_of(self, ad_id: str) -> pd.DataFrame:
        return self.duties[self.duties["ad_id"] == ad_id].reset_index(drop=True)

    def findings_of(self, ad_id: str) -> pd.DataFrame:
        return self.findings[self.findings["ad_id"] == ad_id].reset_index(drop=True)

    def explain(self, ad_id: str | None = None, lang: str = "en") -> str:
        """A plain-language account of one ad (the first, if no id is given): role, orientation,
        duties with their labels and evidence, flags with the sentences that triggered them and suggestions."""
        from .explain import explain_ad

        if ad_id is None:
            if self.ads.empty:
                raise ValueError("the analysis holds no ads")
            ad_id = str(self.ads["ad_id"].iloc[0])
        rows = self.ads[self.ads["ad_id"] == ad_id]
        if rows.empty:
            raise KeyError(f"no ad with id {ad_id!r}")
        return explain_ad(rows.iloc[0], self.duties_of(ad_id), self.findings_of(ad_id), lang)

    @classmethod
    def concat(cls, parts: list["Analysis"]) -> "Analysis":
        """One analysis from several (e.g. the chunks of :func:`cmclassify.iter_analyse`)."""
        return cls(*(pd.concat([getattr(p, name) for p in parts], ignore_index=True)
                     for name in ("ads", "duties", "findings")))

    def summary(self, by: str | list[str] | None = None, n_boot: int = 1000, seed: int = 0,
                confidence: float = 0.95) -> pd.DataFrame:
        """The corpus figures (rates, shares, orientation) with bootstrap confidence intervals,
        overall or per group of ``by`` (column names, or "month" for a date column);
        see :func:`cmclassify.aggregate.summarise`."""
        from .aggregate import summarise

        return summarise(self, by=by, n_boot=n_boot, seed=seed, confidence=confidence)

    def plot(self, kind: str = "orientation", **kwargs: Any) -> Any:
        """A matplotlib figure: ``"orientation"``, ``"alchemist"``, ``"flags"``, ``"top_duties"`` or
        ``"by"`` (needs ``by=``); see :func:`cmclassify.report.plot`."""
        from .report import plot

        return plot(self, kind, **kwargs)

    def to_html(self, path: str | Path | None = None, **kwargs: Any) -> str:
        """A self-contained HTML report (dashboard, table of ads, one card per ad); written to ``path``
        when given. Options as :func:`cmclassify.report.render_html`."""
        from .report import render_html

        return render_html(self, path, **kwargs)

    def save(self, out_dir: str | Path, fmt: str = "csv") -> list[Path]:
        """Write ``ads.<fmt>``, ``duties.<fmt>`` and ``findings.<fmt>`` into ``out_dir``; returns the paths."""
        with TableWriters(out_dir, fmt) as writers:
            writers.write(self)
        return writers.paths


TABLES = ("ads", "duties", "findings")


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

    def write(self, analysis: Analysis) -> None:
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
                self._append(name, path, self._empty.get(name, pd.DataFrame()))
        for writer in self._parquet.values():
            writer.close()
        self._parquet.clear()
