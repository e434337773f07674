"""Which hand-rule groups of flags.yaml earn their place, measured on the annotated real ads.

    python experiments/rule_ablation.py [--out models/rule_ablation.json]

The rules are not trained, so every annotated ad is a held-out ad for them. Each rule group in turn
is emptied (its patterns removed) and the annotated ads analysed again; the table gives the
alchemist flag and each reason's precision / recall / F1 with 95 % intervals (whole groups of
near-duplicate ads resampled), next to the full rule set. A group whose removal does not lower
the figures it serves is a candidate to drop.
"""

from __future__ import annotations

import argparse
import json

import pandas as pd

from cmclassify import FlagRules, analyse
from cmclassify.annotations import cv_groups, load_annotations
from cmclassify.evaluate import score, summarise_counts

GROUPS = ("outcome_overreach", "sole_ownership", "support_named", "facade", "escalation", "junior_post",
          "strategy_ownership", "strategy_not_owned", "follower_credential", "follower_not_own")
KEYS = ("alchemist", "reason_A", "reason_C", "reason_D", "reason_E", "follower_credential")


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    annotations = load_annotations()
    gold = [a.as_gold() for a in annotations]
    groups = cv_groups([a.description for a in annotations])
    frame = pd.DataFrame({"ad_id": [g["ad_id"] for g in gold], "title": [g["title"] for g in gold],
                          "description": [g["description"] for g in gold]})
    base = FlagRules.default()
    results = {}
    for removed in (None, *GROUPS):
        patterns = base.patterns if removed is None else base.patterns.model_copy(update={removed: []})
        rules = FlagRules(patterns, base.titles, base.messages, base.detectors)
        result = analyse(frame, progress=False, rules=rules)
        counts = score(gold, result, [[d["label"] for d in g["duties"]] for g in gold])
        figures = summarise_counts(counts, groups, n_boot=500)
        name = "all rules" if removed is None else f"without {removed}"
        results[name] = {key: {part: figures[f"{key}.{part}"] for part in ("precision", "recall", "f1")} for key in KEYS}
        print(f"{name:32s} " + "  ".join(
            f"{key} P {results[name][key]['precision']['value'] or 0:.2f} R {results[name][key]['recall']['value'] or 0:.2f}"
            for key in KEYS), flush=True)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
