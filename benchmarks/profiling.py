"""Where the time of a full analysis goes: cProfile of ``analyse`` on a seeded sample of corpus ads.

    python benchmarks/profiling.py [--corpus ../shared/corpus/ads.parquet] [--ads 1500] [--out benchmarks/profile.txt]

The pipeline and models are loaded (and warmed on 50 other ads) before profiling, so the
figures are the per-ad cost. The summary gives each stage's CPU time, measured stage by stage
without the profiler (spaCy's components run as chained generators, so a profiler's cumulative
times nest), then the functions with the largest own and cumulative time. This is a script, not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _stage_seconds(ads: pd.DataFrame) -> dict[str, float]:
    """CPU time of cleaning, tokenising and each component over the same ads."""
    from cmclassify.clean import clean
    from cmclassify.nlp import make_doc
    from cmclassify.pipeline import pipeline_for

    nlp = pipeline_for()
    seconds: dict[str, float] = {}
    started = time.process_time()
    cleaned = [clean(text) for text in ads["description"].fillna("")]
    seconds["clean (HTML, language)"] = time.process_time() - started
    started = time.process_time()
    ready = [(c, title) for c, title in zip(cleaned, ads["title"].fillna("")) if c.status == "ok"]
    docs = [make_doc(nlp, c.text) for c, _ in ready]
    seconds["tokenizer"] = time.process_time() - started
    for doc, (_, title) in zip(docs, ready):
        doc._.ad_title = title
    for name, component in nlp.pipeline:
        started = time.process_time()
        docs = list(component.pipe(docs)) if hasattr(component, "pipe") else [component(doc) for doc in docs]
        seconds[name] = time.process_time() - started
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "ads.parquet"))
    parser.add_argument("--ads", type=int, default=1500)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "profile.txt"))
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()

    import cmclassify

    corpus = pd.read_parquet(args.corpus, columns=["ad_id", "title", "description"])
    sample = corpus.sample(n=args.ads + 50, random_state=1).reset_index(drop=True)
    cmclassify.analyse(sample.tail(50), progress=False)
    profiler = cProfile.Profile()
    profiler.enable()
    cmclassify.analyse(sample.head(args.ads), progress=False)
    profiler.disable()

    stats = pstats.Stats(profiler)
    total = stats.total_tt
    stages = _stage_seconds(sample.head(args.ads))
    lines = [f"# cProfile of analyse() on {args.ads:,} corpus ads (seed 1): {total:.1f} s in all, "
             f"{args.ads / total:.0f} ads/s under the profiler", "",
             f"## CPU seconds per stage, without the profiler ({sum(stages.values()):.1f} s in all)", ""]
    lines += [f"{seconds:8.2f} s  {seconds / sum(stages.values()):6.1%}  {name}" for name, seconds in stages.items()]
    for order, title in (("tottime", "own time"), ("cumulative", "cumulative time")):
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).strip_dirs().sort_stats(order).print_stats(args.top)
        body = buffer.getvalue()
        lines += ["", f"## Top {args.top} functions by {title}", "", body[body.index("ncalls"):].rstrip()]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[:20]))


if __name__ == "__main__":
    main()
