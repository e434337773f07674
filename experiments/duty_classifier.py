"""Compare model families for the duty classifier (issue 3); reproducible with fixed seeds.

    python experiments/duty_classifier.py [--gold ../shared/eval/dev.jsonl] [--out models/experiments.json]

For each candidate: 5-fold stratified cross-validated macro-F1 on the project's
training data (data/duties), macro-F1 on the gold duty texts of the dev ads
(when the file is there), and the time to fit on all the training data.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from cmclassify.estimators import DutyClassifier
from cmclassify.train import default_training_data, read_labelled
from cmclassify.evaluate import read_gold

CANDIDATES = {
    "logreg: lemmas 1-2 + chars 2-5": DutyClassifier(model="logreg", C=10.0),
    "linear_svm: lemmas 1-2 + chars 2-5": DutyClassifier(model="linear_svm", C=10.0),
    "complement_nb: lemmas 1-2 + chars 2-5": DutyClassifier(model="complement_nb", C=10.0),
    "logreg: lemmas 1-2 only": DutyClassifier(model="logreg", C=10.0, char_ngrams=None),
    "logreg: chars 2-5 only": DutyClassifier(model="logreg", C=10.0, word_ngrams=None),
    "logreg C=3: lemmas 1-3 + chars 2-5": DutyClassifier(model="logreg", C=3.0, word_ngrams=(1, 3)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", default="../shared/eval/dev.jsonl")
    parser.add_argument("--out", default="models/experiments.json")
    args = parser.parse_args()
    data = read_labelled(default_training_data())
    gold_path = Path(args.gold)
    gold = [d for ad in read_gold(gold_path) for d in ad["duties"]] if gold_path.exists() else []
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    rows = []
    for name, classifier in CANDIDATES.items():
        cv_pred = cross_val_predict(classifier, data["text"].tolist(), data["label"].tolist(), cv=folds)
        started = time.perf_counter()
        classifier.fit(data["text"].tolist(), data["label"].tolist())
        fit_seconds = time.perf_counter() - started
        row = {"candidate": name, "cv_macro_f1": f1_score(data["label"], cv_pred, average="macro"),
               "fit_seconds": fit_seconds}
        if gold:
            predicted = classifier.predict([d["text"] for d in gold])
            row["dev_macro_f1"] = f1_score([d["label"] for d in gold], predicted, average="macro")
        rows.append(row)
        print(f"{name:42s} CV {row['cv_macro_f1']:.3f}  dev {row.get('dev_macro_f1', float('nan')):.3f}  fit {fit_seconds:.1f}s",
              flush=True)
    Path(args.out).write_text(json.dumps({"training_rows": len(data), "gold_duties": len(gold), "results": rows},
                                         indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
