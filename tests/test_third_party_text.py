"""No corpus text in the project: no run of twelve words of any file written here (code, data, tests,
docs, model cards, notebooks) may repeat a corpus ad, except stock phrases that many advertisers use and
runs holding three or more numbers (working hours, salaries: nobody's wording)."""

import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import CORPUS, needs_corpus

ROOT = Path(__file__).resolve().parents[1]
RUN = 12
MAX_NUMBERS = 2
STOCK_PHRASE_ADS = 20  # a run found in this many different ads is the language's, not one advertiser's
CHECKED = ("cmclassify", "data", "tests", "models", "notebooks", "benchmarks", "experiments")
SUFFIXES = {".py", ".md", ".jsonl", ".json", ".yaml", ".csv", ".txt", ".ipynb", ".j2", ".js", ".css"}
_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    return _WORD.findall("".join(ch for ch in folded if not unicodedata.combining(ch)))


def _run_hashes(ids: np.ndarray) -> np.ndarray:
    """A 64-bit hash of every run of RUN consecutive word ids."""
    if len(ids) < RUN:
        return np.zeros(0, dtype=np.uint64)
    hashes = np.zeros(len(ids) - RUN + 1, dtype=np.uint64)
    for offset in range(RUN):
        hashes = hashes * np.uint64(1_000_003) + ids[offset:len(ids) - RUN + 1 + offset].astype(np.uint64)
    return hashes


def _project_files() -> list[Path]:
    files = [ROOT / "README.md"]
    for folder in CHECKED:
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in SUFFIXES and p.is_file()
                  and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts]
    return [p for p in files if p != Path(__file__).resolve() and p.name != "sample.csv"]


@needs_corpus
def test_no_file_repeats_twelve_words_of_a_corpus_ad():
    vocabulary: dict[str, int] = {}
    project: dict[int, Path] = {}
    for path in _project_files():
        words = _words(path.read_text(encoding="utf-8", errors="replace"))
        ids = np.array([vocabulary.setdefault(w, len(vocabulary) + 1) for w in words], dtype=np.int64)
        numbers = np.concatenate([[0], np.cumsum([w.isdigit() for w in words])])
        for i, h in enumerate(_run_hashes(ids).tolist()):
            if numbers[i + RUN] - numbers[i] <= MAX_NUMBERS:
                project.setdefault(h, path)
    wanted = np.fromiter(project, dtype=np.uint64)
    corpus = pd.read_parquet(CORPUS, columns=["title", "description"])
    texts = (corpus["title"].fillna("") + "\n" + corpus["description"].fillna("")).tolist()
    found_hashes, found_ads = [], []
    for start in range(0, len(texts), 5000):
        ids, ads = [], []
        for ad, text in enumerate(texts[start:start + 5000], start):
            words = _words(text)
            ids += [vocabulary.get(w, 0) for w in words]
            ads += [ad] * len(words)
        ids_array, ads_array = np.array(ids, dtype=np.int64), np.array(ads, dtype=np.int64)
        hashes = _run_hashes(ids_array)
        within_one_ad = ads_array[:len(hashes)] == ads_array[RUN - 1:]
        hit = within_one_ad & np.isin(hashes, wanted)
        found_hashes.append(hashes[hit])
        found_ads.append(ads_array[:len(hashes)][hit])
    pairs = np.unique(np.stack([np.concatenate(found_hashes), np.concatenate(found_ads).astype(np.uint64)]), axis=1)
    run_hashes, ads_per_run = np.unique(pairs[0], return_counts=True)
    ads_with = dict(zip(run_hashes.tolist(), ads_per_run.tolist()))
    copied = sorted({str(project[h].relative_to(ROOT)) for h, n in ads_with.items() if n < STOCK_PHRASE_ADS})
    assert not copied, f"these files repeat twelve words of a corpus ad; paraphrase them: {copied}"
