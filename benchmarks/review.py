"""How fast one ad is reviewed, as a person feels it.

    python benchmarks/review.py [--runs 5] [--rescores 30] [--out benchmarks/review_results.json]

- ``cold``: ``cmclassify review AD.txt`` in a fresh process (imports, model loading, analysis,
  the text printed), wall-clock seconds, each run a new process;
- ``cold_phases``: in one fresh process, the seconds spent importing, loading the models on the
  first ad, and reviewing it;
- ``rescore``: on a warm server (the review page's application, models loaded), the latency of
  posting an edited ad and getting the re-scored page back, each post with a different edit.

The ad is one written for the project's tests (``tests/test_review.py``). This is a script, not a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PHASES = """
import time
t0 = time.perf_counter()
from cmclassify.review import review_ad
t1 = time.perf_counter()
review_ad("Funciones:\\n- Responder mensajes", "Community Manager")
t2 = time.perf_counter()
review_ad(AD, TITLE).to_text()
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rescores", type=int, default=30)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "review_results.json"))
    args = parser.parse_args()
    from tests.test_review import AD, TITLE

    command = [str(Path(sys.executable).with_name("cmclassify")), "review"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ad.txt"
        path.write_text(f"{TITLE}\n{AD}", encoding="utf-8")
        cold = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([*command, str(path)], check=True, capture_output=True)
            cold.append(time.perf_counter() - start)
    phases = subprocess.run([sys.executable, "-c", f"AD = {AD!r}\nTITLE = {TITLE!r}\n{PHASES}"], check=True,
                            capture_output=True, text=True, cwd=ROOT).stdout.split()

    from starlette.testclient import TestClient

    from cmclassify.serve import create_app

    client = TestClient(create_app())
    client.post("/review", data={"title": TITLE, "text": AD})  # warm: models loaded
    latencies = []
    for number in range(args.rescores):
        edited = AD.replace("Sueldo", f"Sueldo ({number} edición)")
        start = time.perf_counter()
        answer = client.post("/review", data={"title": TITLE, "text": edited, "base_title": TITLE, "base_text": AD})
        latencies.append(time.perf_counter() - start)
        assert answer.status_code == 200 and 'id="before-after"' in answer.text
    latencies.sort()
    results = {
        "cold_review_s": {"median": round(statistics.median(cold), 2), "min": round(min(cold), 2),
                          "max": round(max(cold), 2), "runs": len(cold)},
        "cold_phases_s": dict(zip(("import", "models_and_first_ad", "review"), (round(float(x), 2) for x in phases))),
        "warm_rescore_ms": {"median": round(1000 * statistics.median(latencies), 1),
                            "p95": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 1),
                            "runs": len(latencies)},
        "date": time.strftime("%Y-%m-%d"),
    }
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
