"""Where the time of a full analysis goes: cProfile of ``analyse`` on a seeded sample of corpus ads.

    python benchmarks/profiling.py [--corpus ../shared/corpus/ads.parquet] [--ads 1500] [--out benchmarks/profile.txt]

The pipeline and models are loaded (and warmed on 50 other ads) before profiling, so the
figures are the per-ad cost. The summary lists each spaCy component's share and the functions
with the largest own time. This is a script, not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


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
    components = {}
    for (filename, _, name), (_, _, _, cumulative, _) in stats.stats.items():
        if name == "__call__" or name == "pipe":
            if "cmclassify" in filename:
                components[f"{Path(filename).stem}.{name}"] = components.get(f"{Path(filename).stem}.{name}", 0) + cumulative
    lines = [f"# cProfile of analyse() on {args.ads:,} corpus ads (seed 1): {total:.1f} s in all, "
             f"{args.ads / total:.0f} ads/s under the profiler", "",
             "## Components (cumulative seconds of their pipe/__call__)", ""]
    lines += [f"{seconds:8.2f} s  {seconds / total:6.1%}  {name}" for name, seconds in
              sorted(components.items(), key=lambda item: -item[1])]
    for order, title in (("tottime", "own time"), ("cumulative", "cumulative time")):
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).strip_dirs().sort_stats(order).print_stats(args.top)
        body = buffer.getvalue()
        lines += ["", f"## Top {args.top} functions by {title}", "", body[body.index("ncalls"):].rstrip()]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[:20]))


if __name__ == "__main__":
    main()
