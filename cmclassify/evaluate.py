"""Score the tool against gold ads labelled by the codebook (the format of ``shared/eval/dev.jsonl``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable

_WORD = re.compile(r"\w+")


def word_set(text: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(text))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def match_duties(found: list[str], gold: list[str], threshold: float = 0.5) -> list[tuple[int, int]]:
    """One-to-one matches (found index, gold index) with word-set Jaccard >= threshold, best pairs first."""
    found_sets = [word_set(t) for t in found]
    gold_sets = [word_set(t) for t in gold]
    pairs = sorted(((jaccard(f, g), i, j) for i, f in enumerate(found_sets) for j, g in enumerate(gold_sets)),
                   reverse=True)
    used_found: set[int] = set()
    used_gold: set[int] = set()
    matches = []
    for score, i, j in pairs:
        if score < threshold:
            break
        if i not in used_found and j not in used_gold:
            used_found.add(i)
            used_gold.add(j)
            matches.append((i, j))
    return matches


def prf(true_positives: int, n_found: int, n_gold: int) -> dict[str, float]:
    precision = true_positives / n_found if n_found else 0.0
    recall = true_positives / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


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


def evaluate_file(path: str | Path) -> dict[str, Any]:
    """Run the tool on the gold ads of ``path`` and score it."""
    import pandas as pd

    from .pipeline import analyse

    gold = read_gold(path)
    frame = pd.DataFrame([{k: ad.get(k) for k in ("ad_id", "title", "description")} for ad in gold])
    result = analyse(frame, progress=False)
    found = [result.duties_of(ad["ad_id"])["text"].tolist() for ad in gold]
    return {"gold_file": str(path), "n_ads": len(gold),
            "duty_extraction": duty_extraction_scores(found, [[d["text"] for d in ad["duties"]] for ad in gold])}


def format_report(scores: dict[str, Any]) -> str:
    lines = [f"Gold: {scores['gold_file']} ({scores['n_ads']} ads)", ""]
    extraction = scores["duty_extraction"]
    lines += ["Duty extraction (word-set Jaccard >= 0.5, one to one)",
              f"  precision {extraction['precision']:.3f}   recall {extraction['recall']:.3f}   F1 {extraction['f1']:.3f}"
              f"   ({extraction['matched']} matched, {extraction['found']} found, {extraction['gold']} gold)"]
    return "\n".join(lines)
