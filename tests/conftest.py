from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
DEV_GOLD = SHARED / "eval" / "dev.jsonl"
CORPUS = SHARED / "corpus" / "ads.parquet"

needs_dev_gold = pytest.mark.skipif(not DEV_GOLD.exists(), reason=f"gold ads not found at {DEV_GOLD} (shared/ is not on this machine)")
needs_corpus = pytest.mark.skipif(not CORPUS.exists(), reason=f"corpus not found at {CORPUS} (shared/ is not on this machine)")
