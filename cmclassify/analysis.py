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
}
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
FORMATS = ("csv", "parquet", "jsonl")


@dataclass
class Analysis:
    """Tables produced by :func:`cmclassify.analyse`.

    ``ads``: one row per input row, in input order (columns in ``AD_COLUMNS``,
    then any extra input columns). ``duties``: one row per duty found
    (``DUTY_COLUMNS``).
    """

    ads: pd.DataFrame
    duties: pd.DataFrame

    @classmethod
    def from_records(cls, ads: list[dict[str, Any]], duties: list[dict[str, Any]]) -> "Analysis":
        ad_frame = pd.DataFrame(ads)
        if ad_frame.empty:
            ad_frame = pd.DataFrame(columns=list(AD_COLUMNS))
        ad_frame["n_duties"] = ad_frame["n_duties"].astype("int64")
        ordered = [c for c in AD_COLUMNS if c in ad_frame.columns]
        ad_frame = ad_frame[ordered + [c for c in ad_frame.columns if c not in AD_COLUMNS]]
        duty_frame = pd.DataFrame(duties, columns=list(DUTY_COLUMNS))
        for column in ("duty_index", "start", "end"):
            duty_frame[column] = duty_frame[column].astype("int64")
        return cls(ad_frame.reset_index(drop=True), duty_frame)

    def __len__(self) -> int:
        return len(self.ads)

    def __repr__(self) -> str:
        counts = self.ads["status"].value_counts().to_dict() if len(self.ads) else {}
        return f"<Analysis: {len(self.ads)} ads {counts}, {len(self.duties)} duties>"

    def duties_of(self, ad_id: str) -> pd.DataFrame:
        return self.duties[self.duties["ad_id"] == ad_id].reset_index(drop=True)

    def save(self, out_dir: str | Path, fmt: str = "csv") -> list[Path]:
        """Write ``ads.<fmt>`` and ``duties.<fmt>`` into ``out_dir``; returns the paths."""
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, frame in (("ads", self.ads), ("duties", self.duties)):
            path = out / f"{name}.{fmt}"
            write_table(frame, path, fmt)
            paths.append(path)
        return paths


def write_table(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
