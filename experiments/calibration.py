"""Reliability of the duty label model's probabilities, by grouped cross-validation on the annotated
real duties (trained as shipped: the fold's annotated duties plus the written ones).

    python experiments/calibration.py [--folds 5] [--plot models/calibration.png] [--out models/calibration.json]

For each label, held-out duties are binned by their predicted probability of that label; a
well-calibrated model has, in each bin, a share of duties with that label close to the bin's mean
probability. Also reports the expected calibration error (ECE) of the top label.
"""

from __future__ import annotations

import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GroupKFold

from cmclassify.annotations import cv_groups, load_annotations
from cmclassify.classify import classify_duties
from cmclassify.train import default_training_data, fit_labels, label_examples, label_training_frame, read_labelled
from cmclassify.vocabulary import LABELS

BINS = np.linspace(0, 1, 11)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--plot")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    annotations = load_annotations()
    gold = [a.as_gold() for a in annotations]
    ad_groups = cv_groups([a.description for a in annotations])
    written = read_labelled(default_training_data()).drop_duplicates(subset=["text", "label"])
    duties = label_examples(gold)
    proba = np.zeros((len(duties), len(LABELS)))
    for train, test in GroupKFold(args.folds, shuffle=True, random_state=0).split(gold, groups=ad_groups):
        model = fit_labels(label_training_frame(written, [gold[i] for i in train]))
        rows = duties["ad"].isin(test).to_numpy()
        labelled = classify_duties(duties.loc[rows, ["text", "lemmas", "context"]], model, evidence=False)
        proba[rows] = labelled[[f"p_{label}" for label in LABELS]].to_numpy()
    truth = duties["label"].to_numpy()
    result = {"n_duties": len(duties), "folds": args.folds, "labels": {}}
    for k, label in enumerate(LABELS):
        which = np.clip(np.digitize(proba[:, k], BINS) - 1, 0, len(BINS) - 2)
        bins = []
        for b in range(len(BINS) - 1):
            members = which == b
            if members.any():
                bins.append({"low": float(BINS[b]), "high": float(BINS[b + 1]), "n": int(members.sum()),
                             "mean_probability": float(proba[members, k].mean()),
                             "share_with_label": float(np.mean(truth[members] == label))})
        result["labels"][label] = bins
    top = proba.max(1)
    correct = np.array(LABELS)[proba.argmax(1)] == truth
    which = np.clip(np.digitize(top, BINS) - 1, 0, len(BINS) - 2)
    result["ece_top_label"] = float(sum(abs(top[which == b].mean() - correct[which == b].mean()) * (which == b).mean()
                                        for b in range(len(BINS) - 1) if (which == b).any()))
    print(f"{len(duties)} held-out duties; expected calibration error of the top label {result['ece_top_label']:.3f}")
    if args.plot:
        figure, axis = plt.subplots(figsize=(5, 5))
        axis.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect calibration")
        for label, bins in result["labels"].items():
            axis.plot([b["mean_probability"] for b in bins], [b["share_with_label"] for b in bins], marker="o", label=label)
        axis.set_xlabel("predicted probability of the label")
        axis.set_ylabel("share of held-out duties with that label")
        axis.set_title("Duty label model: reliability (grouped 5-fold CV)")
        axis.legend(loc="upper left", fontsize=8)
        figure.tight_layout()
        figure.savefig(args.plot, dpi=110)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
