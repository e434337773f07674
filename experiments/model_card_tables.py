"""Rewrite the figure tables of ``models/MODEL_CARD.md`` from the stored results, so the card and
``cv_results.json`` / ``dev_results.json`` never disagree.

    python experiments/model_card_tables.py [--card models/MODEL_CARD.md]

The tables replaced: the main comparison (before / CV / dev), per stratum, per country, and the
sensitivity and specificity behind the corrected rates. The text around them is left as written.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"

MAIN_ROWS = [
    ("Duty extraction precision", "extraction.precision"), ("Duty extraction recall", "extraction.recall"),
    ("Duty extraction F1", "extraction.f1"), ("Duty labels macro-F1 (gold duty texts)", "duty_labels.macro_f1"),
    ("— F1 marketing_sales", "duty_labels.f1.marketing_sales"),
    ("— F1 communication_conversation", "duty_labels.f1.communication_conversation"),
    ("— F1 other", "duty_labels.f1.other"), ("Duty labels accuracy", "duty_labels.accuracy"),
    ("End-to-end label accuracy (matched duties)", "end_to_end.accuracy"),
    ("Orientation accuracy (gold CM ads)", "orientation.accuracy"),
    ("— the same, gold duties with predicted labels", "orientation.accuracy_gold_duties"), ("CM role precision", "is_cm_role.precision"),
    ("CM role recall", "is_cm_role.recall"), ("CM role F1", "is_cm_role.f1"), ("Alchemist F1", "alchemist.f1"),
    ("Alchemist precision", "alchemist.precision"), ("Alchemist recall", "alchemist.recall"),
    ("— reason A precision", "reason_A.precision"), ("— reason A recall", "reason_A.recall"),
    ("— reason B precision", "reason_B.precision"), ("— reason B recall", "reason_B.recall"),
    ("Discriminatory requirement precision", "discriminatory_requirement.precision"),
    ("Discriminatory requirement recall", "discriminatory_requirement.recall"),
    ("Discriminatory requirement F1", "discriminatory_requirement.f1"), ("Hype title F1", "hype_title.f1"),
]
GROUP_COLUMNS = ["extraction.f1", "duty_labels.macro_f1", "end_to_end.accuracy", "is_cm_role.f1", "orientation.accuracy"]
GROUP_HEADER = "| extraction F1 | label macro-F1 | end-to-end | CM F1 | orientation |"


def _cell(figure: dict | None, digits: int = 2) -> str:
    if not figure or figure.get("value") is None or math.isnan(figure["value"]):
        return "–"
    low, high = figure.get("low"), figure.get("high")
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return f"{figure['value']:.3f}"
    return f"{figure['value']:.3f} [{low:.{digits}f}, {high:.{digits}f}]"


def _main_table(before: dict, cv: dict, dev: dict) -> str:
    lines = ["| figure | before (rules + written duties) | now (CV) | dev (60 ads, final check) |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {_cell(before.get(key))} | {_cell(cv.get(key))} | {_cell(dev.get(key))} |"
              for name, key in MAIN_ROWS]
    return "\n".join(lines)


def _group_table(label: str, groups: dict) -> str:
    lines = [f"| {label} | ads {GROUP_HEADER}", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, group in sorted(groups.items(), key=lambda item: -item[1]["n_ads"]):
        cells = " | ".join(_cell(group["figures"].get(key)) for key in GROUP_COLUMNS)
        lines.append(f"| {name} | {group['n_ads']} | {cells} |")
    return "\n".join(lines)


def _error_table() -> str:
    from cmclassify import tool_error_rates

    every, cm = tool_error_rates(among="all"), tool_error_rates(among="cm")

    def rate(row, hits: str, total: str) -> str:
        hits, total = int(row[hits]), int(row[total])
        return f"{hits / total:.3f} ({hits}/{total})" if total else "–"

    lines = ["| flag | sensitivity, all (TP / positives) | specificity, all (TN / negatives) | sensitivity, CM ads | "
             "specificity, CM ads |", "|---|---:|---:|---:|---:|"]
    for flag in every.index:
        a, c = every.loc[flag], cm.loc[flag]
        lines.append(f"| {flag} | {rate(a, 'true_positives', 'positives')} | {rate(a, 'true_negatives', 'negatives')} | "
                     f"{rate(c, 'true_positives', 'positives')} | {rate(c, 'true_negatives', 'negatives')} |")
    return "\n".join(lines)


def _replace_table(card: str, header_start: str, table: str) -> str:
    """Replace the Markdown table whose header line starts with ``header_start``."""
    pattern = re.compile(rf"^{re.escape(header_start)}.*?(?=\n(?!\|))", re.M | re.S)
    if not pattern.search(card):
        raise SystemExit(f"no table starting {header_start!r} in the card")
    return pattern.sub(lambda _: table, card, count=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--card", default=str(MODELS / "MODEL_CARD.md"))
    args = parser.parse_args()
    cv = json.loads((MODELS / "cv_results.json").read_text(encoding="utf-8"))
    before = json.loads((MODELS / "cv_results_before_annotations.json").read_text(encoding="utf-8"))["figures"]
    dev = json.loads((MODELS / "dev_results.json").read_text(encoding="utf-8"))["figures"]
    card = Path(args.card).read_text(encoding="utf-8")
    card = _replace_table(card, "| figure | before", _main_table(before, cv["figures"], dev))
    card = _replace_table(card, "| stratum | ads", _group_table("stratum", cv["by_stratum"]))
    card = _replace_table(card, "| country | ads", _group_table("country", cv["by_country"]))
    card = _replace_table(card, "| flag | sensitivity", _error_table())
    Path(args.card).write_text(card, encoding="utf-8")


if __name__ == "__main__":
    main()
