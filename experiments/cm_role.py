"""The CM-role decision compared by grouped cross-validation on the annotations: the hand rule, and a
logistic regression over the title, the duties, their labels and functions and the rule's decision.

    python experiments/cm_role.py [--folds 5] [--out models/cm_role_experiments.json]

The ads are analysed once with the shipped duty models and the hand rule deciding the role (what the
CM model reads at run time); the CM model is trained and scored inside grouped folds. `cmclassify evaluate --cv`
repeats the measure with every model retrained in each fold.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from sklearn.model_selection import GroupKFold

from cmclassify.annotations import cv_groups, load_annotations
from cmclassify.estimators import CmRoleClassifier
from cmclassify.metrics import decision_intervals
from cmclassify.train import cm_role_examples

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    annotations = load_annotations()
    groups = cv_groups([a.description for a in annotations])
    gold = np.array([a.is_cm_role for a in annotations])
    frame, _ = cm_role_examples([a.as_gold() for a in annotations])
    results = {"hand rule": decision_intervals(frame["rule_cm"].to_numpy(), gold, groups)}
    print(f"{'hand rule':40s} P {results['hand rule']['precision']['value']:.3f} R {results['hand rule']['recall']['value']:.3f} "
          f"F1 {results['hand rule']['f1']['value']:.3f}")
    for C in (0.3, 1.0, 3.0, 10.0):
        proba = np.zeros(len(frame))
        for train, test in GroupKFold(args.folds, shuffle=True, random_state=0).split(frame, groups=groups):
            model = CmRoleClassifier(C=C).fit(frame.iloc[train], gold[train])
            proba[test] = model.predict_proba(frame.iloc[test])[:, 1]
        for threshold in THRESHOLDS:
            name = f"logistic regression C={C}, threshold {threshold}"
            results[name] = decision_intervals(proba >= threshold, gold, groups)
            s = results[name]
            print(f"{name:40s} P {s['precision']['value']:.3f} R {s['recall']['value']:.3f} F1 {s['f1']['value']:.3f} "
                  f"[{s['f1']['low']:.3f}, {s['f1']['high']:.3f}]")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump({"n_ads": len(frame), "positives": int(gold.sum()), "folds": args.folds, "results": results}, handle,
                      indent=2)


if __name__ == "__main__":
    main()
