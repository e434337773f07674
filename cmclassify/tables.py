"""The three result tables (one row per ad, per duty, per finding): their columns, meanings and dtypes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd

AD_COLUMNS = {
    "ad_id": "the ad's id (from the input, or generated from its content; repeats get '#2', '#3')",
    "title": "the ad's title as given",
    "status": "ok, empty, not_spanish (a language the tool does not read), garbled or error",
    "language": "the ad's language (ISO 639-1: es, en, ca, pt…); empty when the text could not be read",
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
    "n_functions": "distinct functions the duties assign to the hire, as the function tagger expects them (scope overload at 5 or more)",
    "functions": "those functions, comma-separated",
    "follower_credential": "the candidate's own audience is treated as a qualification",
    "hype_title": "the title inflates the role (experto, gurú, ninja, rockstar…)",
    "discriminatory_requirement": "the ad screens candidates by a personal trait unrelated to the job (codebook)",
    "discrimination_grounds": "the grounds that hold, comma-separated: sex, age, appearance, civil_status, origin, "
                              "religion, health, other",
}
FINDING_COLUMNS = {
    "ad_id": "the ad the finding belongs to",
    "flag": "alchemist, follower_credential, hype_title or discriminatory_requirement",
    "reason": "A-E for alchemist findings, the ground for a discriminatory requirement, empty otherwise",
    "reason_name": "outcome_overreach, scope_overload, sole_ownership, facade, mismatch, the ground, or the flag",
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
              **{c: "boolean" for c in ("is_cm_role", "alchemist", "follower_credential", "hype_title",
                                          "discriminatory_requirement")}}
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


TABLES = ("ads", "duties", "findings")
#: Each table's columns with their meanings, and their pandas dtypes.
TABLE_COLUMNS = {"ads": AD_COLUMNS, "duties": DUTY_COLUMNS, "findings": FINDING_COLUMNS}
TABLE_DTYPES = {"ads": _AD_DTYPES, "duties": _DUTY_DTYPES, "findings": _FINDING_DTYPES}


class Tables(Protocol):
    """Anything holding the three tables, as :class:`cmclassify.Analysis` does."""

    ads: pd.DataFrame
    duties: pd.DataFrame
    findings: pd.DataFrame


def build_tables(ads: list[dict[str, Any]], duties: list[dict[str, Any]],
                 findings: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three tables from records, with every column in place and fixed dtypes (so empty tables,
    chunks and Dask partitions agree); extra ad columns follow the tool's own."""
    import pandas as pd

    ad_frame = pd.DataFrame(ads)
    for column in AD_COLUMNS:
        if column not in ad_frame.columns:
            ad_frame[column] = pd.Series([None] * len(ad_frame), dtype=object)
    ad_frame = ad_frame.astype(_AD_DTYPES)
    ad_frame = ad_frame[list(AD_COLUMNS) + [c for c in ad_frame.columns if c not in AD_COLUMNS]]
    duty_frame = pd.DataFrame(duties, columns=list(DUTY_COLUMNS)).astype(_DUTY_DTYPES)
    finding_frame = pd.DataFrame(findings, columns=list(FINDING_COLUMNS)).astype(_FINDING_DTYPES)
    return ad_frame.reset_index(drop=True), duty_frame, finding_frame
