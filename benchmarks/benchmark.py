"""Throughput, memory and scaling of cmclassify, next to bare spaCy tokenisation.

    python benchmarks/benchmark.py [--corpus ../shared/corpus/ads.parquet] [--sizes 1000 4000 16000 0]
                                   [--engines local dask] [--out benchmarks/results.json]
    python benchmarks/benchmark.py --sizes 3000 --engines memory --out benchmarks/ratio.json

For each size (0 = the whole corpus) a seeded sample of the corpus is written to a
temporary Parquet file, and a fresh process per engine measures, on the same texts:

- ``blank``: ``spacy.blank("es")`` tokenisation (``nlp.pipe``), the yardstick;
- ``memory``: ``analyse`` on the ads held in memory (the issue's yardstick: 3,000 ads);
- ``local``: ``analyse_to_files`` streaming the file in chunks to Parquet, one core;
- ``dask``: the Dask engine on a local cluster of two single-threaded workers.

The ratio local/blank is the figure to compare across machines. Peak memory is
the child process's maximum resident set (for Dask: the client process only;
the workers are separate processes). This is a script, not a test.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _child(engine: str, source: str, out_dir: str) -> dict[str, float]:
    """Runs in a fresh process: time one engine on the file."""
    import pyarrow.parquet as pq
    import spacy

    import cmclassify
    from cmclassify.read import iter_file_chunks

    n = pq.ParquetFile(source).metadata.num_rows
    warm = pd.read_parquet(source).head(50) if n < 20_000 else next(iter_file_chunks(source, 50))
    cmclassify.analyse(warm, progress=False)  # load model, rules and pipeline before timing
    result: dict[str, float] = {"ads": n}
    if engine in ("local", "memory"):
        blank = spacy.blank("es")
        started = time.perf_counter()
        for chunk in iter_file_chunks(source, 1024):
            for _ in blank.pipe(chunk["description"].fillna("").tolist(), batch_size=256):
                pass
        result["blank_seconds"] = time.perf_counter() - started
        ads = pd.read_parquet(source) if engine == "memory" else None
        started = time.perf_counter()
        if ads is not None:
            cmclassify.analyse(ads, progress=False)
        else:
            cmclassify.analyse_to_files(source, out_dir, "parquet", progress=False)
        result["seconds"] = time.perf_counter() - started
    else:
        from cmclassify.distributed import analyse_files_dask

        started = time.perf_counter()
        analyse_files_dask(source, out_dir)
        result["seconds"] = time.perf_counter() - started
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "ads.parquet"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 16000, 0])
    parser.add_argument("--engines", nargs="+", default=["local", "dask"], choices=["memory", "local", "dask"])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results.json"))
    parser.add_argument("--child", nargs=3, metavar=("ENGINE", "SOURCE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(*args.child)))
        return
    corpus = pd.read_parquet(args.corpus, columns=["ad_id", "title", "description", "source", "country"])
    shuffled = corpus.sample(frac=1.0, random_state=0).reset_index(drop=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            n = len(shuffled) if size <= 0 else size
            source = Path(tmp) / f"ads_{n}.parquet"
            shuffled.head(n).to_parquet(source, row_group_size=2048)
            for engine in args.engines:
                out = Path(tmp) / f"out_{engine}_{n}"
                done = subprocess.run([sys.executable, __file__, "--child", engine, str(source), str(out)],
                                      capture_output=True, text=True, check=True)
                row = {"engine": engine, **json.loads(done.stdout.strip().splitlines()[-1])}
                row["ads_per_second"] = row["ads"] / row["seconds"]
                if "blank_seconds" in row:
                    row["blank_ads_per_second"] = row["ads"] / row["blank_seconds"]
                    row["ratio_to_blank"] = row["blank_seconds"] / row["seconds"]
                rows.append(row)
                print(json.dumps(row), flush=True)
    Path(args.out).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print("\n| engine | ads | seconds | ads/s | blank ads/s | ratio to blank | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['engine']} | {row['ads']:,} | {row['seconds']:.1f} | {row['ads_per_second']:.0f} | "
              f"{row.get('blank_ads_per_second', float('nan')):.0f} | {row.get('ratio_to_blank', float('nan')):.3f} | "
              f"{row['peak_rss_mb']:.0f} |")


if __name__ == "__main__":
    main()
