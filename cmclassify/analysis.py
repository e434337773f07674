"""The result of an analysis: the per-ad, per-duty and per-finding tables, and what can be done with them.

:class:`Analysis` is a plain holder of three DataFrames; summarising, plotting,
reporting and explaining are functions of their own modules, which its methods
call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .tables import AD_COLUMNS, DUTY_COLUMNS, FINDING_COLUMNS, TABLES, build_tables

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
        return cls(*build_tables(ads, duties, findings))

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
                     for name in TABLES))

    @classmethod
    def load(cls, folder: str | Path) -> "Analysis":
        """The analysis written into ``folder`` by ``cmclassify analyse``, :meth:`save` or :meth:`export`."""
        from .export import read_tables

        tables = read_tables(folder)
        return cls(*(tables[name] for name in TABLES))

    def summary(self, by: str | list[str] | None = None, *, min_n: int = 30, correct: bool = True,
                n_boot: int = 1000, seed: int = 0, confidence: float = 0.95) -> pd.DataFrame:
        """The corpus figures (rates of every flag and reason, orientation shares, mean duty label
        shares), overall or per group of ``by`` (column names; "month" or "year" for a date column),
        each with n and a 95 % interval (Wilson for proportions, bootstrap for means); figures over
        fewer than ``min_n`` ads are withheld as too small; with ``correct``, the proportions
        corrected for the tool's error. See :func:`cmclassify.aggregate.summarise`."""
        from .aggregate import summarise

        return summarise(self, by=by, n_boot=n_boot, seed=seed, confidence=confidence, min_n=min_n, correct=correct)

    def export(self, out_dir: str | Path, by: list[str | list[str]] | None = None, fmt: str = "parquet", *,
               min_n: int = 30, correct: bool = True) -> list[Path]:
        """Write the three tables, the summary overall and per grouping of ``by`` (e.g.
        ``["country", ["source", "year"]]``) and ``data_dictionary.csv`` into ``out_dir``;
        see :func:`cmclassify.export.export`."""
        from .export import export

        return export(self, out_dir, by or [], fmt, min_n=min_n, correct=correct)

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
        from .output import TableWriters

        with TableWriters(out_dir, fmt) as writers:
            writers.write(self)
        return writers.paths


__all__ = ["AD_COLUMNS", "DUTY_COLUMNS", "FINDING_COLUMNS", "Analysis"]
