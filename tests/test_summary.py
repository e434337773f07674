"""Issue 16: intervals, the minimum n, rates corrected for the tool's error, the export and its data dictionary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cmclassify
from cmclassify.aggregate import METRICS, SUMMARY_COLUMNS, summarise
from cmclassify.analysis import Analysis
from cmclassify.export import DICTIONARY_FILE, data_dictionary, dictionary_markdown, read_tables
from cmclassify.metrics import wilson_interval
from cmclassify.prevalence import CORRECTED_BY, corrected_rate, rogan_gladen, tool_error_rates
from tests.test_report import SAMPLE, _ad

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample() -> Analysis:
    return cmclassify.analyse(SAMPLE, progress=False)


@pytest.fixture(scope="module")
def twelve() -> Analysis:
    """Twelve CM ads, three flagged alchemist, dated over two years."""
    ads = [_ad(f"a{i}", alchemist=i < 3, reasons="A" if i < 3 else "") for i in range(12)]
    for i, ad in enumerate(ads):
        ad["date"] = "2024-05-01" if i < 4 else "2025-07-09"
    return Analysis.from_records(ads, [], [])


def _perfect_tool(path: Path) -> Path:
    """A CV report in which every flag is always right, on a huge validation set."""
    big = 10**12
    figure = {"recall": {"value": 1.0, "true_positives": big, "positives": big},
              "specificity": {"value": 1.0, "true_negatives": big, "negatives": big}}
    figures = {f"{flag}.{key}": value for flag in set(CORRECTED_BY.values()) for key, value in figure.items()}
    path.write_text(json.dumps({"figures": figures, "by_cm_role": {"cm": {"figures": figures}}}), encoding="utf-8")
    return path


# --- Wilson and Rogan–Gladen ------------------------------------------------------------------------

def test_wilson_interval_known_values():
    low, high = wilson_interval(0, 10)
    assert low == 0 and high == pytest.approx(0.2775, abs=1e-4)  # not 0-0, as a Wald interval would be
    low, high = wilson_interval(10, 10)
    assert low == pytest.approx(0.7225, abs=1e-4) and high == 1
    low, high = wilson_interval(5, 10)
    assert (low, high) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    assert np.isnan(wilson_interval(0, 0)).all()


def test_rogan_gladen_identity_known_value_and_clipping():
    assert rogan_gladen(0.3, 1.0, 1.0) == pytest.approx(0.3)
    assert rogan_gladen(0.3, 0.8, 0.9) == pytest.approx(0.2 / 0.7)
    assert rogan_gladen(0.05, 0.8, 0.9) == 0  # below the false-positive rate
    assert rogan_gladen(0.99, 0.8, 0.99) == 1
    assert np.isnan(rogan_gladen(0.3, 0.5, 0.5))  # the flag is a coin toss: no correction exists


def test_corrected_interval_is_the_wilson_interval_for_a_perfect_tool_and_wider_otherwise():
    big = 10**12
    value, low, high = corrected_rate(30, 100, big, big, big, big)
    assert value == pytest.approx(0.3)
    assert (low, high) == (pytest.approx(float(wilson_interval(30, 100)[0])),
                           pytest.approx(float(wilson_interval(30, 100)[1])))
    value, low, high = corrected_rate(30, 100, 80, 100, 900, 1000)
    raw_low, raw_high = wilson_interval(30, 100)
    assert value == pytest.approx(0.2 / 0.7)
    assert 0 <= low < value < high <= 1
    assert high - low > (raw_high - raw_low) / 0.7  # widened beyond the rescaled raw interval
    assert np.isnan(corrected_rate(3, 0, 80, 100, 900, 1000)).all()


def test_shipped_error_rates_come_from_the_cross_validation_counts():
    rates = tool_error_rates()
    report = json.loads((ROOT / "models" / "cv_results.json").read_text(encoding="utf-8"))
    assert set(rates.index) == set(CORRECTED_BY.values())
    assert (rates["positives"] + rates["negatives"] == report["n_ads"]).all()
    assert np.allclose(rates["sensitivity"], rates["true_positives"] / rates["positives"])
    assert np.allclose(rates["specificity"], rates["true_negatives"] / rates["negatives"])
    cm = tool_error_rates(among="cm")
    assert (cm["positives"] + cm["negatives"] == report["by_cm_role"]["cm"]["n_ads"]).all()
    with pytest.raises(ValueError):
        tool_error_rates(among="everyone")


def test_an_old_cv_report_is_refused_with_a_reason(tmp_path: Path):
    old = tmp_path / "cv.json"
    old.write_text(json.dumps({"figures": {"is_cm_role.recall": {"value": 0.9}}}), encoding="utf-8")
    with pytest.raises(ValueError, match="evaluate --cv"):
        tool_error_rates(old)


# --- summarise: Wilson, bootstrap, minimum n, correction ----------------------------------------------

def test_summary_intervals_by_kind(twelve: Analysis):
    table = summarise(twelve, n_boot=200).set_index("metric")
    row = table.loc["alchemist_rate_cm"]
    assert (row["value"], row["n"], row["interval"]) == (0.25, 12, "wilson")
    assert (row["ci_low"], row["ci_high"]) == tuple(pytest.approx(float(x)) for x in wilson_interval(3, 12))
    assert table.loc["alchemist_reason_C", "ci_high"] > 0  # 0 of 12: an interval, not 0-0
    assert table.loc["duty_share_communication_conversation", "interval"] == "bootstrap"
    assert table.loc["n_ads", "interval"] == "" and np.isnan(table.loc["n_ads", "ci_low"])


def test_summary_withholds_small_cells(twelve: Analysis):
    table = summarise(twelve, by="year", n_boot=0, min_n=5)
    assert sorted(table["year"].unique()) == ["2024", "2025"]
    small = table[(table["year"] == "2024") & (table["metric"] == "alchemist_rate_cm")].iloc[0]
    assert small["too_small"] and small["n"] == 4 and np.isnan(small["value"]) and np.isnan(small["corrected"])
    large = table[(table["year"] == "2025") & (table["metric"] == "alchemist_rate_cm")].iloc[0]
    assert not large["too_small"] and large["value"] == 0
    counts = table[table["metric"] == "n_ads"]
    assert not counts["too_small"].any() and counts["value"].tolist() == [4, 8]
    with pytest.raises(ValueError):
        summarise(twelve, min_n=-1)


def test_summary_correction(twelve: Analysis, tmp_path: Path):
    perfect = summarise(twelve, n_boot=0, error_rates=_perfect_tool(tmp_path / "cv.json")).set_index("metric")
    rows = perfect.loc[list(CORRECTED_BY)]
    assert np.allclose(rows["corrected"], rows["value"])  # a tool without error needs no correction
    assert np.allclose(rows["corrected_low"], rows["ci_low"]) and np.allclose(rows["corrected_high"], rows["ci_high"])
    assert perfect.loc[["orientation_mixed", "duty_share_other", "n_ads"], "corrected"].isna().all()
    shipped = summarise(twelve, n_boot=0).set_index("metric")
    rates = tool_error_rates(among="cm").loc["alchemist"]
    expected = corrected_rate(3, 12, *rates[["true_positives", "positives", "true_negatives", "negatives"]])
    assert shipped.loc["alchemist_rate_cm", ["corrected", "corrected_low", "corrected_high"]].tolist() == \
        pytest.approx([float(x) for x in expected], nan_ok=True)
    assert summarise(twelve, n_boot=0, correct=False)["corrected"].isna().all()


def test_analysis_summary_defaults_to_a_minimum_n(sample: Analysis):
    table = sample.summary(by="country", n_boot=0)
    figures = table[~table["metric"].str.startswith("n_")]
    assert figures.loc[figures["n"] < 30, "too_small"].all() and not figures.loc[figures["n"] >= 30, "too_small"].any()
    assert table.loc[table["too_small"], "value"].isna().all() and table["too_small"].any()
    assert not table.loc[table["metric"] == "n_ads", "too_small"].any()  # counts are never withheld


# --- data dictionary and export ---------------------------------------------------------------------

def test_every_output_column_is_in_the_data_dictionary(sample: Analysis):
    dictionary = data_dictionary(sample, by=["country"])
    described = set(zip(dictionary["table"], dictionary["column"]))
    for table in ("ads", "duties", "findings"):
        assert {(table, c) for c in getattr(sample, table).columns} <= described, table
    summary = summarise(sample, by="country", n_boot=0)
    assert {("summary", c) for c in summary.columns} <= described
    assert {("metric", m) for m in summary["metric"].unique()} <= described
    assert dictionary["meaning"].str.len().gt(10).all() and dictionary["type"].ne("").all()
    assert set(SUMMARY_COLUMNS) <= set(summary.columns) and set(METRICS) == set(summary["metric"])


def test_data_dictionary_file_is_in_step_with_the_code():
    assert (ROOT / "data" / "DATA_DICTIONARY.md").read_text(encoding="utf-8") == dictionary_markdown(), \
        "regenerate with: cmclassify summary --dictionary > data/DATA_DICTIONARY.md"


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_writes_tables_summaries_and_dictionary_that_read_back(sample: Analysis, tmp_path: Path, fmt: str):
    paths = sample.export(tmp_path, by=["country", ["country", "year"]], fmt=fmt)
    assert {p.name for p in paths} == {f"{t}.{fmt}" for t in ("ads", "duties", "findings", "summary",
                                                              "summary_by_country", "summary_by_country_year")} \
        | {DICTIONARY_FILE}
    back = Analysis.load(tmp_path)
    columns = ["ad_id", "status", "n_duties", "is_cm_role", "alchemist", "alchemist_reasons", "share_other"]
    text = ["ad_id", "status", "alchemist_reasons"]  # CSV has no empty text apart from missing text
    pd.testing.assert_frame_equal(back.ads[columns].fillna({c: "" for c in text}),
                                  sample.ads[columns].fillna({c: "" for c in text}))
    assert len(back.duties) == len(sample.duties) and len(back.findings) == len(sample.findings)
    read = pd.read_parquet if fmt == "parquet" else pd.read_csv
    by_country = read(tmp_path / f"summary_by_country.{fmt}")
    expected = sample.summary(by="country")
    assert np.allclose(by_country["value"], expected["value"], equal_nan=True)
    dictionary = pd.read_csv(tmp_path / DICTIONARY_FILE)
    assert {"country", "year"} <= set(dictionary.loc[dictionary["table"] == "summary", "column"])
    assert pd.testing.assert_frame_equal(summarise(back, n_boot=0), summarise(sample, n_boot=0)) is None


def test_read_tables_says_what_is_missing(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="ads.csv"):
        read_tables(tmp_path)


def test_cli_summary(sample: Analysis, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from cmclassify.cli import main

    sample.save(tmp_path / "results", fmt="csv")
    assert main(["summary", str(tmp_path / "results"), "--by", "country", "--by", "country,year", "--min-n", "5",
                 "-o", str(tmp_path / "out"), "--format", "parquet"]) == 0
    assert "alchemist_rate_cm" in capsys.readouterr().out
    table = pd.read_parquet(tmp_path / "out" / "summary_by_country_year.parquet")
    assert {"country", "year", "too_small", "corrected"} <= set(table.columns)
    assert table.loc[table["n"] < 5, "too_small"].all()
    assert (tmp_path / "out" / DICTIONARY_FILE).exists()
    assert main(["summary", "--dictionary"]) == 0
    assert capsys.readouterr().out == dictionary_markdown()
    assert main(["summary"]) == 1


def test_decision_intervals_count_yes_no_decisions():
    from cmclassify.metrics import decision_intervals

    gold = [True, True, False, False]
    perfect = decision_intervals(gold, gold, groups=[0, 1, 2, 3])
    assert perfect["precision"]["value"] == perfect["recall"]["value"] == perfect["f1"]["value"] == 1.0
    half = decision_intervals([True, False, True, False], gold, groups=[0, 1, 2, 3])
    assert half["precision"]["value"] == 0.5 and half["recall"]["value"] == 0.5
    assert decision_intervals([False] * 4, gold, groups=[0, 1, 2, 3])["precision"]["value"] is None
