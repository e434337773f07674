"""Duty extraction candidates compared by grouped cross-validation on the annotations.

    python experiments/duty_extraction.py [--folds 5] [--out models/extraction_experiments.json]

Every candidate system sees the same folds (grouped: near-duplicates and one employer's ads stay
on one side). Scored as the project scores extraction: found duties against gold duties, word-set
Jaccard >= 0.5, one to one; 95 % intervals from resampling whole groups.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.model_selection import GroupKFold

from cmclassify.annotations import cv_groups, load_annotations
from cmclassify.estimators import DutyCandidateClassifier
from cmclassify.metrics import match_duties, prf_intervals
from cmclassify.train import extraction_examples


def extraction_counts(gold_texts, found_texts):
    return np.array([[len(match_duties(f, g)), len(f), len(g)] for f, g in zip(found_texts, gold_texts)], float)


def select(frame, proba, threshold):
    """Duties of each ad: candidates at or above the threshold, a repeated text once."""
    found = {}
    for (ad, candidate), p in zip(frame[["ad", "candidate"]].itertuples(index=False), proba):
        if p >= threshold:
            seen = found.setdefault(ad, {})
            seen.setdefault(" ".join(candidate.lower().split()), candidate)
    return found


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    annotations = load_annotations()
    gold = [a.as_gold() for a in annotations]
    groups = cv_groups([a.description for a in annotations])
    frame = extraction_examples(gold)
    gold_texts = [[d["text"] for d in ad["duties"]] for ad in gold]
    print(f"{len(gold)} ads, {len(frame)} candidates, {int(frame['label'].sum())} matching gold duties "
          f"of {sum(map(len, gold_texts))} (oracle recall {frame['label'].sum() / sum(map(len, gold_texts)):.3f})")
    results = {}
    rule = frame["features"].map(lambda f: f.get("rule_duty", 0)).to_numpy(float)
    systems = {"rules (candidates the hand rules take)": None}
    for C in (0.3, 1.0, 3.0):
        systems[f"logreg C={C}, features + text + context"] = dict(C=C)
    systems["logreg C=1, features + text (no context)"] = dict(C=1.0, context=False)
    for name, params in systems.items():
        started = time.time()
        proba = np.zeros(len(frame))
        if params is None:
            proba = rule
        else:
            for train, test in GroupKFold(args.folds, shuffle=True, random_state=0).split(gold, groups=groups):
                train_rows = frame["ad"].isin(train).to_numpy()
                model = DutyCandidateClassifier(**params).fit(frame[train_rows], frame.loc[train_rows, "label"])
                proba[~train_rows & frame["ad"].isin(test).to_numpy()] = model.predict_proba(frame[frame["ad"].isin(test)])[:, 1]
        for threshold in ((0.5,) if params is None else (0.3, 0.4, 0.45, 0.5, 0.6)):
            found = select(frame, proba, threshold)
            counts = extraction_counts(gold_texts, [list(found.get(i, {}).values()) for i in range(len(gold))])
            scores = prf_intervals(counts, groups)
            key = f"{name}, threshold {threshold}"
            results[key] = {**scores, "seconds": round(time.time() - started, 1)}
            print(f"{key:70s} P {scores['precision']['value']:.3f} R {scores['recall']['value']:.3f} "
                  f"F1 {scores['f1']['value']:.3f} [{scores['f1']['low']:.3f}, {scores['f1']['high']:.3f}]")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump({"n_ads": len(gold), "folds": args.folds, "results": results}, handle, indent=2)


if __name__ == "__main__":
    main()
