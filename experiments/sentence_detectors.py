"""Sentence detectors for the ad-level findings, by grouped cross-validation on the annotations.

    python experiments/sentence_detectors.py [--folds 5] [--out models/detector_experiments.json]

Every candidate item of every annotated ad is labelled with the evidence kinds its quoted evidence
overlaps; a detector trained on the other folds scores the held-out items. An ad shows a kind when
one of its items reaches the kind's threshold; scored against the ad's annotated letters, grounds
and follower flag (precision, recall, F1 with 95 % intervals resampling whole groups), for a grid
of thresholds. The chosen threshold is the one with the best F1 among those with precision >= 0.75
(an HR user must be able to trust a flag), else the best F1.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold

from cmclassify.annotations import cv_groups, load_annotations
from cmclassify.estimators import SentenceDetector
from cmclassify.metrics import decision_intervals
from cmclassify.train import sentence_examples

THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def gold_kinds(ad):
    kinds = {letter for letter in ad["alchemist_reasons"].split(",") if letter and letter != "B"}
    kinds |= {f"discrimination:{g}" for g in ad["discrimination_grounds"].split(",") if g}
    if ad["follower_credential"]:
        kinds.add("follower_credential")
    return kinds


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out")
    parser.add_argument("--class-weight", default="none", help="'balanced' or 'none'")
    parser.add_argument("--C", type=float, default=10.0)
    parser.add_argument("--no-chars", action="store_true", help="word n-grams only")
    args = parser.parse_args(argv)
    params = {"C": args.C, "class_weight": None if args.class_weight == "none" else args.class_weight,
              "char_ngrams": not args.no_chars}
    annotations = load_annotations()
    gold = [a.as_gold() for a in annotations]
    groups = cv_groups([a.description for a in annotations])
    items = sentence_examples(gold)
    truth = [gold_kinds(ad) for ad in gold]
    kinds = sorted({k for t in truth for k in t})
    proba = pd.DataFrame(0.0, index=items.index, columns=kinds)
    for train, test in GroupKFold(args.folds, shuffle=True, random_state=0).split(gold, groups=groups):
        rows = items["ad"].isin(train).to_numpy()
        model = SentenceDetector(**params).fit(items.loc[rows, ["text", "lemmas"]], items.loc[rows, "kinds"])
        held = items["ad"].isin(test).to_numpy()
        predicted = model.predict_proba(items.loc[held, ["text", "lemmas"]])
        for kind in predicted.columns:
            proba.loc[held, kind] = predicted[kind].to_numpy()
    best_by_ad = proba.groupby(items["ad"]).max().reindex(range(len(gold)), fill_value=0.0)
    results = {}
    for kind in kinds:
        is_gold = np.array([kind in t for t in truth])
        grid = {}
        for threshold in THRESHOLDS:
            found = best_by_ad[kind].to_numpy() >= threshold
            grid[str(threshold)] = decision_intervals(found, is_gold, groups)
        trusted = [t for t, s in grid.items() if (s["precision"]["value"] or 0) >= 0.75]
        pool = trusted or list(grid)
        chosen = max(pool, key=lambda t: grid[t]["f1"]["value"] or 0)
        results[kind] = {"positives": int(is_gold.sum()), "chosen_threshold": float(chosen), "by_threshold": grid}
        s = grid[chosen]
        print(f"{kind:28s} positives {is_gold.sum():4d}  threshold {chosen}  P {s['precision']['value'] or 0:.3f} "
              f"R {s['recall']['value'] or 0:.3f} F1 {s['f1']['value'] or 0:.3f} [{s['f1']['low'] or 0:.2f}, {s['f1']['high'] or 0:.2f}]")
    any_gold = np.array([any(k.startswith("discrimination:") for k in t) for t in truth])
    grounds = [k for k in kinds if k.startswith("discrimination:")]
    found_any = np.zeros(len(gold), bool)
    for kind in grounds:
        found_any |= best_by_ad[kind].to_numpy() >= results[kind]["chosen_threshold"]
    flag = decision_intervals(found_any, any_gold, groups)
    results["discriminatory_requirement"] = {"positives": int(any_gold.sum()), "at_chosen_thresholds": flag}
    print(f"discriminatory_requirement   positives {any_gold.sum():4d}  P {flag['precision']['value']:.3f} "
          f"R {flag['recall']['value']:.3f} F1 {flag['f1']['value']:.3f} [{flag['f1']['low']:.2f}, {flag['f1']['high']:.2f}]")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump({"n_ads": len(gold), "folds": args.folds, "params": params, "results": results}, handle, indent=2)


if __name__ == "__main__":
    main()
