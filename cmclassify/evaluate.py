"""Score the tool against ads labelled by the codebook, with bootstrap 95 % intervals.

Two ways in: a gold file in the format of ``shared/eval/dev.jsonl``
(:func:`evaluate_file`), and grouped cross-validation on the project's own
annotations (:func:`cross_validate`), which retrains every learned part inside
each fold and scores the out-of-fold predictions. Both report the same figures:

- duty extraction precision / recall / F1 (word-set Jaccard >= 0.5, one to one);
- duty labels on the gold duty texts: accuracy, macro-F1, F1 per label;
- labels of the duties matched end to end: accuracy;
- orientation accuracy on the gold CM ads (gold orientation by the 60 % rule), and the same rule over
  the gold duties with predicted labels (what the label errors alone cost);
- precision / recall / F1 and specificity of the CM role, each flag and each alchemist reason (with
  the confusion counts behind recall and specificity, for prevalence corrections).

Intervals come from resampling ads (whole cross-validation groups, when given)
with replacement; each figure is recomputed from the resampled counts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .analysis import Analysis
from .api import analyse
from .classify import classify_duties, orientation
from .metrics import match_duties
from .vocabulary import LABELS, REASONS

GOLD_FLAGS = ("is_cm_role", "alchemist", "follower_credential", "hype_title", "discriminatory_requirement")
REASON_LETTERS = tuple(REASONS)
_CONFUSION = [f"conf_{g}_{p}" for g in LABELS for p in LABELS]
COUNT_KEYS = (
    "ads", "ext_tp", "ext_found", "ext_gold", *_CONFUSION, "e2e_n", "e2e_correct", "orient_n", "orient_correct",
    "orient_gold_duties_correct",
    *(f"{f}_{k}" for f in (*GOLD_FLAGS, *(f"reason_{r}" for r in REASON_LETTERS)) for k in ("tp", "pred", "gold")),
)
_INDEX = {key: i for i, key in enumerate(COUNT_KEYS)}


def read_gold(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _truth(value: Any) -> bool:
    return False if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) else bool(value)


def _letters(value: Any) -> set[str]:
    return set(str(value).split(",")) - {""} if isinstance(value, str) else set()


def ad_counts(gold: dict[str, Any], found: pd.DataFrame, predicted: pd.Series,
              gold_label_predictions: Sequence[str]) -> np.ndarray:
    """The counts one ad adds to every figure (see ``COUNT_KEYS``)."""
    counts = np.zeros(len(COUNT_KEYS))

    def add(key: str, value: float = 1.0) -> None:
        counts[_INDEX[key]] += value

    add("ads")
    gold_texts = [d["text"] for d in gold["duties"]]
    found_texts = found["text"].tolist()
    matches = match_duties(found_texts, gold_texts)
    add("ext_tp", len(matches))
    add("ext_found", len(found_texts))
    add("ext_gold", len(gold_texts))
    for duty, label in zip(gold["duties"], gold_label_predictions):
        add(f"conf_{duty['label']}_{label}")
    found_labels = found["label"].tolist()
    for i, j in matches:
        add("e2e_n")
        add("e2e_correct", float(found_labels[i] == gold["duties"][j]["label"]))
    if gold["is_cm_role"]:
        add("orient_n")
        gold_orientation = orientation([d["label"] for d in gold["duties"]])
        add("orient_correct", float(gold_orientation == predicted.get("orientation")))
        # The same rule over the gold duties with predicted labels: the labels' share of the error.
        add("orient_gold_duties_correct", float(gold_orientation == orientation(list(gold_label_predictions))))
    pairs = [(f, _truth(gold.get(f)), _truth(predicted.get(f))) for f in GOLD_FLAGS]
    gold_reasons, found_reasons = _letters(gold.get("alchemist_reasons")), _letters(predicted.get("alchemist_reasons"))
    pairs += [(f"reason_{r}", r in gold_reasons, r in found_reasons) for r in REASON_LETTERS]
    for name, is_gold, is_found in pairs:
        add(f"{name}_tp", float(is_gold and is_found))
        add(f"{name}_pred", float(is_found))
        add(f"{name}_gold", float(is_gold))
    return counts


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def _prf(tp: np.ndarray, pred: np.ndarray, gold: np.ndarray) -> dict[str, np.ndarray]:
    precision, recall = _ratio(tp, pred), _ratio(tp, gold)
    with np.errstate(invalid="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    f1 = np.where(np.isnan(precision) | np.isnan(recall), np.where(gold + pred > 0, 0.0, np.nan), f1)
    return {"precision": precision, "recall": recall, "f1": f1}


def figures(totals: np.ndarray) -> dict[str, np.ndarray]:
    """Every figure from summed counts; ``totals`` is one count vector, or a matrix of them (one per
    bootstrap resample), giving arrays."""
    t = {key: totals[..., i] for key, i in _INDEX.items()}
    out: dict[str, np.ndarray] = {}
    for key, value in _prf(t["ext_tp"], t["ext_found"], t["ext_gold"]).items():
        out[f"extraction.{key}"] = value
    confusion = np.stack([np.stack([t[f"conf_{g}_{p}"] for p in LABELS], -1) for g in LABELS], -2)
    diagonal = np.einsum("...ii->...i", confusion)
    support, predicted = confusion.sum(-1), confusion.sum(-2)
    per_label = _prf(diagonal, predicted, support)["f1"]
    out["duty_labels.accuracy"] = _ratio(diagonal.sum(-1), support.sum(-1))
    out["duty_labels.macro_f1"] = per_label.mean(-1)
    for k, label in enumerate(LABELS):
        out[f"duty_labels.f1.{label}"] = per_label[..., k]
    out["end_to_end.accuracy"] = _ratio(t["e2e_correct"], t["e2e_n"])
    out["orientation.accuracy"] = _ratio(t["orient_correct"], t["orient_n"])
    out["orientation.accuracy_gold_duties"] = _ratio(t["orient_gold_duties_correct"], t["orient_n"])
    for name in (*GOLD_FLAGS, *(f"reason_{r}" for r in REASON_LETTERS)):
        for key, value in _prf(t[f"{name}_tp"], t[f"{name}_pred"], t[f"{name}_gold"]).items():
            out[f"{name}.{key}"] = value
        negatives = t["ads"] - t[f"{name}_gold"]
        out[f"{name}.specificity"] = _ratio(negatives - t[f"{name}_pred"] + t[f"{name}_tp"], negatives)
    return out


def summarise_counts(counts: np.ndarray, groups: Sequence[int] | None = None, n_boot: int = 1000,
                     seed: int = 0) -> dict[str, dict[str, float | None]]:
    """Each figure with its bootstrap 95 % interval, resampling whole groups (ads, by default)."""
    point = figures(counts.sum(0))
    groups = np.arange(len(counts)) if groups is None else np.asarray(groups)
    _, group_of = np.unique(groups, return_inverse=True)
    by_group = np.zeros((group_of.max() + 1 if len(counts) else 0, counts.shape[1]))
    np.add.at(by_group, group_of, counts)
    result: dict[str, dict[str, float | None]] = {}
    if n_boot and len(by_group):
        rng = np.random.default_rng(seed)
        weights = rng.multinomial(len(by_group), np.full(len(by_group), 1 / len(by_group)), size=n_boot)
        boot = figures(weights @ by_group)
    for name, value in point.items():
        low = high = None
        if n_boot and len(by_group):
            values = boot[name][~np.isnan(boot[name])]
            if len(values):
                low, high = (float(v) for v in np.percentile(values, [2.5, 97.5]))
        result[name] = {"value": None if np.isnan(value) else float(value), "low": low, "high": high}
    support = counts.sum(0)
    for name in (*GOLD_FLAGS, *(f"reason_{r}" for r in REASON_LETTERS)):
        tp, pred, gold = (int(support[_INDEX[f"{name}_{k}"]]) for k in ("tp", "pred", "gold"))
        negatives = int(support[_INDEX["ads"]]) - gold
        result[f"{name}.f1"]["positives"] = gold
        # The confusion counts behind sensitivity (recall) and specificity, for prevalence corrections.
        result[f"{name}.recall"].update(true_positives=tp, positives=gold)
        result[f"{name}.specificity"].update(true_negatives=negatives - pred + tp, negatives=negatives)
    result["extraction.f1"]["gold"] = int(support[_INDEX["ext_gold"]])
    result["duty_labels.macro_f1"]["n"] = int(support[[_INDEX[c] for c in _CONFUSION]].sum())
    result["orientation.accuracy"]["n"] = int(support[_INDEX["orient_n"]])
    result["orientation.accuracy_gold_duties"]["n"] = int(support[_INDEX["orient_n"]])
    result["end_to_end.accuracy"]["n"] = int(support[_INDEX["e2e_n"]])
    return result


def score(gold: list[dict[str, Any]], analysis: Analysis, gold_label_predictions: list[list[str]]) -> np.ndarray:
    """The count matrix (one row per gold ad) of an analysis of the gold ads."""
    ads = analysis.ads.drop_duplicates("ad_id").set_index("ad_id")
    duties = {ad_id: group for ad_id, group in analysis.duties.groupby("ad_id", sort=False)}
    empty = analysis.duties.iloc[:0]
    return np.array([ad_counts(ad, duties.get(ad["ad_id"], empty), ads.loc[ad["ad_id"]], labels)
                     for ad, labels in zip(gold, gold_label_predictions)]).reshape(len(gold), len(COUNT_KEYS))


def _frame(gold: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame([{k: ad.get(k) for k in ("ad_id", "title", "description")} for ad in gold])


def _label_predictions(gold: list[dict[str, Any]], model: Any) -> list[list[str]]:
    texts = [d["text"] for ad in gold for d in ad["duties"]]
    labels = iter(classify_duties(texts, model, evidence=False)["label"].tolist()) if texts else iter([])
    return [[next(labels) for _ in ad["duties"]] for ad in gold]


def evaluate_gold(gold: list[dict[str, Any]], model: Any = None, rules: Any = None, n_boot: int = 1000,
                  seed: int = 0, models: Any = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Counts and figures of the tool (the shipped models unless given) on gold ads."""
    result = analyse(_frame(gold), progress=False, model=model, rules=rules, models=models)
    counts = score(gold, result, _label_predictions(gold, model or getattr(models, "duty_labels", None)))
    return counts, summarise_counts(counts, n_boot=n_boot, seed=seed)


def evaluate_file(path: str | Path, model: Any = None, n_boot: int = 1000, models: Any = None) -> dict[str, Any]:
    """Run the tool on the gold ads of ``path`` and score every stage it has gold labels for."""
    gold = read_gold(path)
    _, scores = evaluate_gold(gold, model, n_boot=n_boot, models=models)
    return {"gold_file": str(path), "n_ads": len(gold), "figures": scores}


Trainer = Callable[[list[dict[str, Any]]], dict[str, Any]]
"""Fits the learned parts on training gold ads; returns keyword arguments for :func:`cmclassify.analyse`
(``model``, ``rules``, ``models``)."""


def annotation_models(train: list[dict[str, Any]]) -> dict[str, Any]:
    """The models the shipped tool learns from the annotations, fitted on ``train`` only: the duty
    extraction model, the duty label model (on ``train``'s duties and the written duties of
    ``data/duties``), the sentence detector of findings, the function tagger, and the CM-role model
    (on ``train`` analysed with the other four)."""
    from dataclasses import replace

    from .estimators import Models
    from .train import (cm_role_examples, default_training_data, extraction_examples, fit_cm_role, fit_detector,
                        fit_extraction, fit_functions, fit_labels, function_examples, label_training_frame,
                        read_labelled, sentence_examples)

    written = read_labelled(default_training_data()).drop_duplicates(subset=["text", "label"])
    models = Models(duty_labels=fit_labels(label_training_frame(written, train)),
                    duty_extraction=fit_extraction(extraction_examples(train)),
                    findings=fit_detector(sentence_examples(train)),
                    functions=fit_functions(function_examples(train)))
    return {"models": replace(models, cm_role=fit_cm_role(*cm_role_examples(train, models)))}


def cross_validate(gold: list[dict[str, Any]], groups: Sequence[int], folds: int = 5, trainer: Trainer = annotation_models,
                   n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Grouped K-fold cross-validation: ``trainer`` fits on the other folds, the tool analyses the
    held-out fold; figures (with intervals resampling whole groups) over all held-out predictions,
    overall, per stratum, per country and among gold CM / non-CM ads."""
    from sklearn.model_selection import GroupKFold

    groups = np.asarray(groups)
    counts = np.zeros((len(gold), len(COUNT_KEYS)))
    splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_index, test_index in splitter.split(np.zeros(len(gold)), groups=groups):
        fitted = trainer([gold[i] for i in train_index])
        held_out = [gold[i] for i in test_index]
        result = analyse(_frame(held_out), progress=False, **fitted)
        labels = fitted.get("model") or getattr(fitted.get("models"), "duty_labels", None)
        counts[test_index] = score(held_out, result, _label_predictions(held_out, labels))
    report: dict[str, Any] = {"folds": folds, "n_ads": len(gold), "n_groups": int(len(set(groups.tolist()))),
                              "figures": summarise_counts(counts, groups, n_boot, seed)}
    # by_cm_role: figures among the ads whose gold says CM role / not, for rates taken over CM ads only.
    for field, key in (("stratum", "by_stratum"), ("country", "by_country"), ("is_cm_role", "by_cm_role")):
        values = np.array([("cm" if ad.get(field) else "not_cm") if field == "is_cm_role" else str(ad.get(field) or "")
                           for ad in gold])
        report[key] = {value: {"n_ads": int(mask.sum()), "figures": summarise_counts(counts[mask], groups[mask], n_boot, seed)}
                       for value, mask in ((v, values == v) for v in sorted(set(values.tolist()) - {""}))}
    return report


_ROWS = [
    ("Duty extraction", ["extraction.precision", "extraction.recall", "extraction.f1"]),
    ("Duty labels (gold duty texts)", ["duty_labels.accuracy", "duty_labels.macro_f1",
                                       *(f"duty_labels.f1.{label}" for label in LABELS)]),
    ("End to end", ["end_to_end.accuracy", "orientation.accuracy"]),
    ("Ad-level flags", [f"{f}.{k}" for f in GOLD_FLAGS for k in ("precision", "recall", "f1", "specificity")]),
    ("Alchemist reasons", [f"reason_{r}.{k}" for r in REASON_LETTERS
                           for k in ("precision", "recall", "f1", "specificity")]),
]


def _cell(figure: dict[str, Any]) -> str:
    if figure["value"] is None:
        return "   –"
    interval = f" [{figure['low']:.2f}, {figure['high']:.2f}]" if figure.get("low") is not None else ""
    return f"{figure['value']:.3f}{interval}"


def format_report(scores: dict[str, Any]) -> str:
    figures_ = scores["figures"]
    title = scores.get("gold_file") or f"{scores['folds']}-fold grouped cross-validation"
    lines = [f"{title}: {scores['n_ads']} ads" + (f", {scores['n_groups']} groups" if "n_groups" in scores else ""),
             "figure: value [95 % interval]", ""]
    for heading, names in _ROWS:
        lines.append(heading)
        for name in names:
            extra = figures_[name]
            note = "".join(f"  ({k} {extra[k]})" for k in ("positives", "gold", "n") if k in extra)
            lines.append(f"  {name:44s} {_cell(extra)}{note}")
        lines.append("")
    keys = ("extraction.f1", "duty_labels.macro_f1", "end_to_end.accuracy", "is_cm_role.f1", "orientation.accuracy",
            "alchemist.f1")
    for group in ("by_stratum", "by_country"):
        for name, part in scores.get(group, {}).items():
            lines.append(f"{name} ({part['n_ads']} ads): " + "; ".join(f"{k} {_cell(part['figures'][k])}" for k in keys))
    return "\n".join(lines).rstrip() + "\n"
