"""Duty label models compared by grouped cross-validation on the annotated real duties.

    python experiments/duty_labels.py [--folds 5] [--out models/label_experiments.json]

Each system is trained inside each fold on the other folds' annotated duties (plus, where named,
the written duties of data/duties) and scored on the held-out duties: accuracy, macro-F1 and F1 per
label, with 95 % intervals from resampling whole groups of ads.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold

from cmclassify.annotations import cv_groups, load_annotations
from cmclassify.estimators import DutyClassifier
from cmclassify.train import default_training_data, label_examples, read_labelled
from cmclassify.vocabulary import LABELS


def interval(gold, predicted, ad_groups, n_boot=1000, seed=0):
    gold, predicted = np.asarray(gold), np.asarray(predicted)
    _, group_of = np.unique(ad_groups, return_inverse=True)
    members = [np.flatnonzero(group_of == g) for g in range(group_of.max() + 1)]
    rng = np.random.default_rng(seed)
    macro, accuracy = [], []
    for _ in range(n_boot):
        rows = np.concatenate([members[g] for g in rng.integers(0, len(members), len(members))])
        macro.append(f1_score(gold[rows], predicted[rows], labels=list(LABELS), average="macro", zero_division=0))
        accuracy.append(np.mean(gold[rows] == predicted[rows]))
    per_label = f1_score(gold, predicted, labels=list(LABELS), average=None, zero_division=0)
    return {"macro_f1": {"value": float(f1_score(gold, predicted, labels=list(LABELS), average="macro")),
                         "low": float(np.percentile(macro, 2.5)), "high": float(np.percentile(macro, 97.5))},
            "accuracy": {"value": float(np.mean(gold == predicted)), "low": float(np.percentile(accuracy, 2.5)),
                         "high": float(np.percentile(accuracy, 97.5))},
            "f1": {label: float(f) for label, f in zip(LABELS, per_label)}}


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    annotations = load_annotations()
    gold = [a.as_gold() for a in annotations]
    ad_groups = cv_groups([a.description for a in annotations])
    duties = label_examples(gold)
    groups = ad_groups[duties["ad"].to_numpy()]
    written = read_labelled(default_training_data())
    written = written.assign(lemmas=None, context="")
    print(f"{len(duties)} annotated duties in {len(gold)} ads; {len(written)} written duties")
    systems = {
        "linear SVM C=10, written duties only (the model before the annotations)": "written",
        "linear SVM C=10, annotated": dict(model="linear_svm", C=10.0),
        "linear SVM C=3, annotated": dict(model="linear_svm", C=3.0),
        "logreg C=10, annotated": dict(model="logreg", C=10.0),
        "linear SVM C=10, annotated + context": dict(model="linear_svm", C=10.0, context=True),
        "linear SVM C=10, annotated + written (weight 0.3)": dict(model="linear_svm", C=10.0, written=0.3),
        "linear SVM C=10, annotated + written (weight 1)": dict(model="linear_svm", C=10.0, written=1.0),
        "linear SVM C=10, annotated + context + written (0.3)": dict(model="linear_svm", C=10.0, context=True,
                                                                     written=0.3),
    }
    results = {}
    for name, params in systems.items():
        started = time.time()
        predicted = np.empty(len(duties), dtype=object)
        if params == "written":
            predicted[:] = DutyClassifier().fit(written["text"].tolist(), written["label"].tolist()).predict(
                duties[["text", "lemmas"]])
        else:
            params = dict(params)
            weight = params.pop("written", None)
            for train, test in GroupKFold(args.folds, shuffle=True, random_state=0).split(duties, groups=groups):
                frame = duties.iloc[train][["text", "lemmas", "context", "label"]]
                sample_weight = np.ones(len(frame))
                if weight:
                    extra = written[["text", "lemmas", "context", "label"]].copy()
                    extra["lemmas"] = extra["lemmas"].astype(object)
                    frame = pd.concat([frame, extra], ignore_index=True)
                    sample_weight = np.concatenate([sample_weight, np.full(len(extra), weight)])
                frame = frame.reset_index(drop=True)
                if frame["lemmas"].isna().any():
                    from cmclassify.nlp import lemma_text

                    frame.loc[frame["lemmas"].isna(), "lemmas"] = frame.loc[frame["lemmas"].isna(), "text"].map(lemma_text)
                model = DutyClassifier(**params).fit(frame[["text", "lemmas", "context"]], frame["label"],
                                                     sample_weight=sample_weight)
                predicted[test] = model.predict(duties.iloc[test][["text", "lemmas", "context"]])
        scores = interval(duties["label"], predicted, groups)
        by_stratum = {s: float(f1_score(duties["label"][m], predicted[m.to_numpy()], labels=list(LABELS),
                                        average="macro", zero_division=0))
                      for s, m in ((s, duties["stratum"] == s) for s in sorted(duties["stratum"].unique()))}
        results[name] = {**scores, "macro_f1_by_stratum": by_stratum, "seconds": round(time.time() - started, 1)}
        print(f"{name:60s} macro-F1 {scores['macro_f1']['value']:.3f} [{scores['macro_f1']['low']:.3f}, "
              f"{scores['macro_f1']['high']:.3f}]  acc {scores['accuracy']['value']:.3f}  "
              + " ".join(f"{k[:4]} {v:.3f}" for k, v in scores["f1"].items()))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump({"n_duties": len(duties), "folds": args.folds, "results": results}, handle, indent=2)


if __name__ == "__main__":
    main()
