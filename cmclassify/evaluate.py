"""Score the tool against gold ads labelled by the codebook (the format of ``shared/eval/dev.jsonl``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from .api import analyse
from .classify import classify_duties, orientation
from .metrics import duty_scores, match_duties, prf

def read_gold(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def duty_extraction_scores(found_by_ad: Iterable[list[str]], gold_by_ad: Iterable[list[str]]) -> dict[str, float]:
    tp = n_found = n_gold = 0
    for found, gold in zip(found_by_ad, gold_by_ad):
        tp += len(match_duties(found, gold))
        n_found += len(found)
        n_gold += len(gold)
    return {**prf(tp, n_found, n_gold), "found": n_found, "gold": n_gold, "matched": tp}


def evaluate_file(path: str | Path, model: Any = None) -> dict[str, Any]:
    """Run the tool on the gold ads of ``path`` and score every stage it has gold labels for."""
    gold = read_gold(path)
    frame = pd.DataFrame([{k: ad.get(k) for k in ("ad_id", "title", "description")} for ad in gold])
    result = analyse(frame, progress=False, model=model)
    found_by_ad = [result.duties_of(ad["ad_id"]) for ad in gold]
    gold_texts = [[d["text"] for d in ad["duties"]] for ad in gold]
    scores: dict[str, Any] = {"gold_file": str(path), "n_ads": len(gold),
                              "duty_extraction": duty_extraction_scores([f["text"].tolist() for f in found_by_ad], gold_texts)}

    gold_duties = [d for ad in gold for d in ad["duties"]]
    predicted = classify_duties([d["text"] for d in gold_duties], model, evidence=False)["label"].tolist()
    scores["duty_classification"] = duty_scores([d["label"] for d in gold_duties], predicted)

    matched_gold, matched_found = [], []
    for found, ad, texts in zip(found_by_ad, gold, gold_texts):
        for i, j in match_duties(found["text"].tolist(), texts):
            matched_gold.append(ad["duties"][j]["label"])
            matched_found.append(found["label"].iloc[i])
    scores["end_to_end_labels"] = {"n": len(matched_gold),
                                   "accuracy": sum(a == b for a, b in zip(matched_gold, matched_found)) / len(matched_gold)
                                   if matched_gold else 0.0}
    scores.update(flag_scores(gold, result.ads.set_index("ad_id")))
    return scores


FLAGS = ("is_cm_role", "alchemist", "follower_credential", "hype_title")


def flag_scores(gold: list[dict[str, Any]], predicted: Any) -> dict[str, Any]:
    """Precision, recall and F1 of each ad-level flag and of each alchemist reason letter, and
    orientation accuracy on the gold CM ads (gold orientation from the gold duty labels, 60 % rule)."""
    flags: dict[str, Any] = {}
    for name in FLAGS:
        pairs = [(bool(ad[name]), bool(predicted.loc[ad["ad_id"], name])) for ad in gold]
        tp = sum(g and p for g, p in pairs)
        flags[name] = {**prf(tp, sum(p for _, p in pairs), sum(g for g, _ in pairs)), "positives": sum(g for g, _ in pairs)}
    reasons: dict[str, Any] = {}
    for letter in "ABCDE":
        pairs = [(letter in (ad.get("alchemist_reasons") or ""), letter in str(predicted.loc[ad["ad_id"], "alchemist_reasons"] or ""))
                 for ad in gold]
        tp = sum(g and p for g, p in pairs)
        reasons[letter] = {**prf(tp, sum(p for _, p in pairs), sum(g for g, _ in pairs)), "positives": sum(g for g, _ in pairs)}
    cm_ads = [ad for ad in gold if ad["is_cm_role"]]
    correct = sum(orientation([d["label"] for d in ad["duties"]]) == predicted.loc[ad["ad_id"], "orientation"] for ad in cm_ads)
    return {"flags": flags, "alchemist_reasons": reasons,
            "orientation": {"n_cm_ads": len(cm_ads), "accuracy": correct / len(cm_ads) if cm_ads else 0.0}}


def format_report(scores: dict[str, Any]) -> str:
    lines = [f"Gold: {scores['gold_file']} ({scores['n_ads']} ads)", ""]
    extraction = scores["duty_extraction"]
    lines += ["Duty extraction (word-set Jaccard >= 0.5, one to one)",
              f"  precision {extraction['precision']:.3f}   recall {extraction['recall']:.3f}   F1 {extraction['f1']:.3f}"
              f"   ({extraction['matched']} matched, {extraction['found']} found, {extraction['gold']} gold)", ""]
    classification = scores["duty_classification"]
    lines += [f"Duty classification on the {classification['n']} gold duty texts",
              f"  accuracy {classification['accuracy']:.3f}   macro-F1 {classification['macro_f1']:.3f}"]
    lines += [f"  F1 {label:28s} {f1:.3f}" for label, f1 in classification["f1"].items()]
    labels = classification["confusion"]["labels"]
    short = {"marketing_sales": "mkt_sales", "communication_conversation": "comm_conv", "other": "other"}
    lines += ["  confusion (rows gold, columns predicted):", "  " + " " * 12 + "".join(f"{short[l]:>11s}" for l in labels)]
    for label, row in zip(labels, classification["confusion"]["matrix"]):
        lines.append(f"  {short[label]:>12s}" + "".join(f"{n:>11d}" for n in row))
    end_to_end = scores["end_to_end_labels"]
    lines += ["", f"Labels of duties matched end to end: accuracy {end_to_end['accuracy']:.3f} ({end_to_end['n']} duties)"]
    lines += ["", f"Orientation on gold CM ads: accuracy {scores['orientation']['accuracy']:.3f} ({scores['orientation']['n_cm_ads']} ads)",
              "", "Ad-level flags" + " " * 18 + "precision  recall     F1  (gold positives)"]
    for name, flag in [*scores["flags"].items(), *((f"alchemist reason {k}", v) for k, v in scores["alchemist_reasons"].items())]:
        lines.append(f"  {name:30s} {flag['precision']:9.3f} {flag['recall']:7.3f} {flag['f1']:6.3f}  ({flag['positives']})")
    return "\n".join(lines)
