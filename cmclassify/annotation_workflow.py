"""How annotations are made: batches of ads to read, answers that quote the ad, references to keep.

An annotator reads a batch (``export_batches``) and answers one JSON object per
ad in which duties and evidence are *quoted* from the ad's description. Quotes
are corpus text, so answers stay outside the project; ``quotes_to_record`` turns
each answer into a reference record for ``data/annotations/ads.jsonl``
(offsets into the description and its sha1, no text). ``check_answers`` tells
the annotator what does not fit before that.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .annotations import (EVIDENCE_KINDS, FUNCTIONS, GROUNDS, LABELS, REASON_LETTERS, AnnotationError, parse_record,
                          text_sha1)
from .output import write_atomically

_BULLET_HEAD = re.compile(r"^(?:[\s\-–—*+•·‣⁃∙>◦▪▫■□●○◆◇✓✔✅☑➢➤►▶→⇒]|👉|🔹|🔸|📌|\d{1,2}[.)](?=\s))+")
_TRAILING = re.compile(r"[\s.;,:]+$")


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The codebook's trim: no bullet symbols or spaces in front, no spaces or final full stop behind."""
    piece = text[start:end]
    head = _BULLET_HEAD.match(piece)
    if head:
        start += head.end()
    while start < end and text[start].isspace():
        start += 1
    tail = _TRAILING.search(text, start, end)
    if tail and tail.end() == end:
        end = tail.start()
    return start, max(start, end)


def locate(text: str, quote: str, after: int = 0) -> tuple[int, int] | None:
    """Offsets of ``quote`` in ``text``: exact first (from ``after``, then anywhere), else ignoring how
    spaces were copied (glued or doubled) and letter case."""
    quote = quote.strip()
    if not quote:
        return None
    for origin in (after, 0):
        at = text.find(quote, origin)
        if at >= 0:
            return at, at + len(quote)
    chunks = [re.escape(c) for c in quote.split()]
    pattern = re.compile(r"\s*".join(chunks), re.IGNORECASE)
    for origin in (after, 0):
        match = pattern.search(text, origin)
        if match:
            return match.start(), match.end()
    return None


def export_batches(sample: pd.DataFrame, corpus: pd.DataFrame, out_dir: str | Path, batch_size: int,
                   prefix: str = "batch") -> list[Path]:
    """Write the sampled ads, in the sample's order, as JSONL batches for annotators (corpus text:
    keep ``out_dir`` outside the project)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = sample.merge(corpus, on="ad_id", how="left", validate="one_to_one")
    paths = []
    for number, begin in enumerate(range(0, len(rows), batch_size), 1):
        path = out / f"{prefix}_{number:03d}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for row in rows.iloc[begin:begin + batch_size].itertuples(index=False):
                # No stratum: the annotator reads the ad, not how it was drawn.
                handle.write(json.dumps({"ad_id": row.ad_id, "source": row.source,
                                         "country": row.country, "title": row.title, "description": row.description},
                                        ensure_ascii=False) + "\n")
        paths.append(path)
    return paths


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    rows = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise AnnotationError(f"{path}:{number}: not valid JSON: {exc}") from None
    return rows


def _reasons(answer: dict[str, Any]) -> list[str]:
    return [r.strip() for r in str(answer.get("alchemist_reasons", "")).split(",") if r.strip()]


def _locate_evidence(quote: str, description: str, title: str) -> tuple[str, int, int] | None:
    """Where an evidence quote stands: the description first, else the title (a requirement the title states)."""
    for where, text in (("description", description), ("title", title)):
        found = locate(text, quote)
        if found:
            return (where, *trim_span(text, *found))
    return None


def _answer_problems(answer: dict[str, Any], description: str, title: str = "") -> list[str]:
    problems = []
    for key in ("is_cm_role", "alchemist", "follower_credential", "hype_title", "discriminatory_requirement"):
        if not isinstance(answer.get(key), bool):
            problems.append(f"{key} must be true or false")
    reasons = _reasons(answer)
    if any(r not in REASON_LETTERS for r in reasons):
        problems.append(f"alchemist_reasons must be letters A-E separated by commas, not {answer.get('alchemist_reasons')!r}")
    duties = answer.get("duties")
    if not isinstance(duties, list):
        return problems + ["duties must be a list"]
    functions: set[str] = set()
    cursor = 0
    for i, duty in enumerate(duties, 1):
        if not isinstance(duty, dict):
            problems.append(f"duty {i} must be an object with text, label, functions")
            continue
        if duty.get("label") not in LABELS:
            problems.append(f"duty {i}: label must be one of {', '.join(LABELS)}")
        bad = [f for f in duty.get("functions", []) if f not in FUNCTIONS]
        if bad or not isinstance(duty.get("functions", []), list):
            problems.append(f"duty {i}: unknown functions {bad}; allowed: {', '.join(FUNCTIONS)}")
        functions.update(f for f in duty.get("functions", []) if f in FUNCTIONS)
        found = locate(description, str(duty.get("text", "")), cursor)
        if found is None:
            problems.append(f"duty {i}: text not found in the description: {str(duty.get('text', ''))[:80]!r}")
        else:
            cursor = found[1]
    if ("B" in reasons) != (len(functions) >= 5):
        problems.append(f"reason B holds exactly when the duties assign 5 or more functions; they assign "
                        f"{len(functions)} ({', '.join(sorted(functions)) or 'none'}) and B is "
                        f"{'given' if 'B' in reasons else 'not given'}")
    expected = "A" in reasons or "B" in reasons or len(set(reasons)) >= 2
    if isinstance(answer.get("alchemist"), bool) and answer["alchemist"] != expected:
        problems.append(f"alchemist must be {str(expected).lower()} for reasons {','.join(reasons) or 'none'} "
                        "(A or B, or C/D/E with another letter)")
    evidence = answer.get("evidence", [])
    kinds = set()
    for i, item in enumerate(evidence if isinstance(evidence, list) else [], 1):
        if not isinstance(item, dict) or item.get("kind") not in EVIDENCE_KINDS:
            problems.append(f"evidence {i}: kind must be one of {', '.join(EVIDENCE_KINDS)}")
            continue
        kinds.add(item["kind"])
        if _locate_evidence(str(item.get("text", "")), description, title) is None:
            problems.append(f"evidence {i}: text not found in the description or the title: "
                            f"{str(item.get('text', ''))[:80]!r}")
    for letter in set(reasons) & set("ACDE"):
        if letter not in kinds:
            problems.append(f"reason {letter} needs an evidence quote of kind {letter!r}")
    if answer.get("follower_credential") is True and "follower_credential" not in kinds:
        problems.append("follower_credential needs an evidence quote of kind 'follower_credential'")
    grounds = [g.strip() for g in str(answer.get("discrimination_grounds", "")).split(",") if g.strip()]
    if any(g not in GROUNDS for g in grounds):
        problems.append(f"discrimination_grounds must come from {', '.join(GROUNDS)}")
    if bool(grounds) != (answer.get("discriminatory_requirement") is True):
        problems.append("discriminatory_requirement is true exactly when discrimination_grounds names a ground")
    for ground in grounds:
        if f"discrimination:{ground}" not in kinds:
            problems.append(f"ground {ground} needs an evidence quote of kind 'discrimination:{ground}'")
    if _copies_text(str(answer.get("notes", "")), description):
        problems.append("notes repeat the ad's words (six or more in a row): write them in your own words")
    return problems


_NOTE_WORDS = re.compile(r"\w+")


def _copies_text(notes: str, description: str, run: int = 6) -> bool:
    """Whether ``notes`` holds ``run`` consecutive words of the description (notes are published, ads are not)."""
    words = [w.lower() for w in _NOTE_WORDS.findall(notes)]
    if len(words) < run:
        return False
    ad = " " + " ".join(w.lower() for w in _NOTE_WORDS.findall(description)) + " "
    return any(f" {' '.join(words[i:i + run])} " in ad for i in range(len(words) - run + 1))


def check_answers(answers_path: str | Path, batch_path: str | Path) -> list[str]:
    """Every problem of an answers file against its batch, one line each (empty when all is well)."""
    batch = {row["ad_id"]: row for row in read_jsonl(batch_path)}
    try:
        answers = read_jsonl(answers_path)
    except AnnotationError as exc:
        return [str(exc)]
    problems = []
    seen = set()
    for answer in answers:
        ad_id = answer.get("ad_id")
        if ad_id not in batch:
            problems.append(f"{ad_id}: not an ad of this batch")
            continue
        if ad_id in seen:
            problems.append(f"{ad_id}: answered twice")
        seen.add(ad_id)
        ad = batch[ad_id]
        problems += [f"{ad_id}: {p}" for p in _answer_problems(answer, ad["description"], ad.get("title") or "")]
    problems += [f"{ad_id}: not answered yet" for ad_id in batch if ad_id not in seen]
    return problems


def quotes_to_record(answer: dict[str, Any], description: str, pass_: str, stratum: str = "",
                     title: str = "") -> dict[str, Any]:
    """The reference record of one checked answer: offsets and the description's sha1, no text."""
    problems = _answer_problems(answer, description, title)
    if problems:
        raise AnnotationError(f"{answer.get('ad_id')}: {'; '.join(problems)}")
    duties = []
    cursor = 0
    for duty in answer["duties"]:
        start, end = locate(description, duty["text"], cursor)  # type: ignore[misc]
        cursor = end
        start, end = trim_span(description, start, end)
        duties.append({"start": start, "end": end, "label": duty["label"], "functions": list(duty.get("functions", []))})
    evidence = []
    for item in answer.get("evidence", []):
        where, start, end = _locate_evidence(item["text"], description, title)  # type: ignore[misc]
        evidence.append({"start": start, "end": end, "kind": item["kind"], **({"field": where} if where == "title" else {})})
    b_functions = sorted({f for d in duties for f in d["functions"]}, key=FUNCTIONS.index)
    record = {
        "ad_id": answer["ad_id"], "text_sha1": text_sha1(description), "pass": pass_, "stratum": stratum,
        "is_cm_role": answer["is_cm_role"], "alchemist": answer["alchemist"],
        "alchemist_reasons": ",".join(sorted(set(_reasons(answer)))), "b_functions": b_functions,
        "follower_credential": answer["follower_credential"], "hype_title": answer["hype_title"],
        "discriminatory_requirement": answer["discriminatory_requirement"],
        "discrimination_grounds": ",".join(g for g in GROUNDS if g in str(answer.get("discrimination_grounds", ""))),
        "duties": duties, "evidence": evidence, "notes": str(answer.get("notes", "")),
    }
    parse_record(record)
    return record


def import_answers(pairs: Iterable[tuple[Path, Path]], pass_: str, strata: dict[str, str]) -> list[dict[str, Any]]:
    """Reference records from (answers file, batch file) pairs, each with its ad's stratum from
    ``strata``; any problem stops with its ad id."""
    records = []
    for answers_path, batch_path in pairs:
        batch = {row["ad_id"]: row for row in read_jsonl(batch_path)}
        for answer in read_jsonl(answers_path):
            row = batch[answer["ad_id"]]
            records.append(quotes_to_record(answer, row["description"], pass_, strata.get(answer["ad_id"], ""),
                                            row.get("title") or ""))
    return records


def merge_records(existing: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``existing`` with ``new`` added; a new record replaces the one of the same ad and pass."""
    merged = {(r["pass"], r["ad_id"]): r for r in existing}
    merged.update({(r["pass"], r["ad_id"]): r for r in new})
    return list(merged.values())


def write_records(records: list[dict[str, Any]], path: str | Path) -> None:
    """Write reference records sorted by (pass, ad id), atomically."""
    ordered = sorted(records, key=lambda r: (r["pass"], r["ad_id"]))
    write_atomically(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ordered))


def _kappa(first: list[Any], second: list[Any]) -> float | None:
    from sklearn.metrics import cohen_kappa_score

    if not first or len(set(first) | set(second)) < 2:
        return None
    return float(cohen_kappa_score(first, second))


def _binary(first: list[bool], second: list[bool]) -> dict[str, Any]:
    return {"n": len(first), "positives_pass1": int(sum(first)), "positives_pass2": int(sum(second)),
            "agreement": float(np.mean([a == b for a, b in zip(first, second)])) if first else None,
            "kappa": _kappa(first, second)}


def agreement(pass1: list[Any], pass2: list[Any]) -> dict[str, Any]:
    """How far two independent readings of the same ads agree, field by field (annotations resolved
    against the corpus; only ads read twice count)."""
    from .metrics import match_duties, prf

    second = {a.ad_id: a for a in pass2}
    pairs = [(a, second[a.ad_id]) for a in pass1 if a.ad_id in second]
    tp = n1 = n2 = 0
    labels1: list[str] = []
    labels2: list[str] = []
    functions_same = functions_n = 0
    for first, other in pairs:
        matches = match_duties(other.duty_texts, first.duty_texts)
        tp, n1, n2 = tp + len(matches), n1 + len(first.duties), n2 + len(other.duties)
        for i, j in matches:
            labels1.append(first.duties[j].label)
            labels2.append(other.duties[i].label)
            functions_n += 1
            functions_same += set(first.duties[j].functions) == set(other.duties[i].functions)
    extraction = prf(tp, n2, n1)
    result: dict[str, Any] = {
        "n_ads": len(pairs),
        "duty_extraction": {"pass1_duties": n1, "pass2_duties": n2, "matched": tp, "f1": extraction["f1"],
                            "note": "pass 2 scored against pass 1, word-set Jaccard >= 0.5, one to one"},
        "duty_label": {"n": len(labels1), "agreement": float(np.mean([a == b for a, b in zip(labels1, labels2)]))
                       if labels1 else None, "kappa": _kappa(labels1, labels2)},
        "duty_functions": {"n": functions_n, "same_set": functions_same / functions_n if functions_n else None},
    }
    for field_name in ("is_cm_role", "alchemist", "follower_credential", "hype_title", "discriminatory_requirement"):
        result[field_name] = _binary([getattr(a, field_name) for a, _ in pairs], [getattr(b, field_name) for _, b in pairs])
    result["alchemist_reasons"] = {
        letter: _binary([letter in a.alchemist_reasons.split(",") for a, _ in pairs],
                        [letter in b.alchemist_reasons.split(",") for _, b in pairs]) for letter in REASON_LETTERS}
    cm_pairs = [(a, b) for a, b in pairs if a.is_cm_role and b.is_cm_role]
    if cm_pairs:
        from .classify import orientation

        same = [orientation(a.duty_labels) == orientation(b.duty_labels) for a, b in cm_pairs]
        result["orientation_on_cm_ads"] = {"n": len(same), "agreement": float(np.mean(same))}
    return result


def disagreements(pass1: list[Any], pass2: list[Any]) -> list[dict[str, Any]]:
    """The ads whose two readings differ on an ad-level field, a duty count or a matched duty's label:
    the ones to adjudicate."""
    from .metrics import match_duties

    second = {a.ad_id: a for a in pass2}
    found = []
    for first in pass1:
        other = second.get(first.ad_id)
        if other is None:
            continue
        fields = [f for f in ("is_cm_role", "alchemist", "alchemist_reasons", "follower_credential", "hype_title",
                              "discriminatory_requirement", "discrimination_grounds")
                  if getattr(first, f) != getattr(other, f)]
        matches = match_duties(other.duty_texts, first.duty_texts)
        if len(matches) != len(first.duties) or len(matches) != len(other.duties):
            fields.append("duty cuts")
        if any(first.duties[j].label != other.duties[i].label for i, j in matches):
            fields.append("duty labels")
        if fields:
            found.append({"ad_id": first.ad_id, "fields": fields})
    return found


def summary_tables(annotations: list[Any]) -> str:
    """The data card's counts as Markdown: ads and duties per stratum, source and country, the labels,
    and each ad-level field's positives (pass 1, annotations resolved against the corpus)."""
    from .classify import orientation

    frame = pd.DataFrame([{"stratum": a.stratum or "(none)", "source": a.source, "country": a.country,
                           "duties": len(a.duties), "cm": a.is_cm_role, "alchemist": a.alchemist,
                           "orientation": orientation(a.duty_labels) if a.is_cm_role else ""} for a in annotations])
    labels = pd.Series([d.label for a in annotations for d in a.duties], dtype=object)

    def table(by: str) -> str:
        grouped = frame.groupby(by).agg(ads=("duties", "size"), duties=("duties", "sum"), cm_roles=("cm", "sum"),
                                        alchemist=("alchemist", "sum")).sort_values("ads", ascending=False)
        rows = [f"| {by} | ads | duties | CM roles | alchemist |", "|---|---:|---:|---:|---:|"]
        rows += [f"| {k} | {r.ads:,} | {r.duties:,} | {r.cm_roles:,} | {r.alchemist:,} |" for k, r in grouped.iterrows()]
        rows.append(f"| **all** | **{len(frame):,}** | **{int(frame['duties'].sum()):,}** | **{int(frame['cm'].sum()):,}** | "
                    f"**{int(frame['alchemist'].sum()):,}** |")
        return "\n".join(rows)

    fields = ["is_cm_role", "alchemist", "follower_credential", "hype_title", "discriminatory_requirement"]
    flag_rows = ["| field | positives | share |", "|---|---:|---:|"]
    for name in fields:
        positives = sum(bool(getattr(a, name)) for a in annotations)
        flag_rows.append(f"| {name} | {positives:,} | {positives / max(len(annotations), 1):.1%} |")
    for letter in REASON_LETTERS:
        positives = sum(letter in a.alchemist_reasons.split(",") for a in annotations)
        flag_rows.append(f"| reason {letter} | {positives:,} | {positives / max(len(annotations), 1):.1%} |")
    grounds = pd.Series([g for a in annotations for g in a.discrimination_grounds.split(",") if g], dtype=object)
    label_rows = ["| duty label | duties | share |", "|---|---:|---:|"]
    label_rows += [f"| {k} | {v:,} | {v / max(len(labels), 1):.1%} |" for k, v in labels.value_counts().items()]
    orient = frame.loc[frame["cm"], "orientation"].value_counts()
    orient_rows = ["| orientation of CM ads | ads |", "|---|---:|"] + [f"| {k} | {v:,} |" for k, v in orient.items()]
    ground_rows = ["| discrimination ground | ads |", "|---|---:|"] + [f"| {k} | {v:,} |" for k, v in grounds.value_counts().items()]
    return "\n\n".join([table("stratum"), table("source"), table("country"), "\n".join(label_rows),
                         "\n".join(orient_rows), "\n".join(flag_rows), "\n".join(ground_rows)]) + "\n"
