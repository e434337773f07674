"""Streaming (chunked) analysis and the Dask engine give the same tables as one local run."""

import pandas as pd
import pytest

import cmclassify
from cmclassify import analyse, analyse_to_files, iter_analyse
from cmclassify.cli import main
from tests.conftest import CORPUS, needs_corpus

SAMPLE = "data/sample_ads.jsonl"


@pytest.fixture(scope="module")
def sample_ads():
    from cmclassify.resources import data_dir

    frame = pd.read_json(data_dir() / "sample_ads.jsonl", lines=True)
    return frame.drop(columns=["expected"])


@pytest.fixture(scope="module")
def local(sample_ads):
    return analyse(sample_ads, progress=False)


def test_chunks_add_up_to_the_whole(sample_ads, local):
    parts = list(iter_analyse(sample_ads, chunk_size=7, progress=False))
    assert len(parts) == 7
    joined = cmclassify.Analysis.concat(parts)
    for name in ("ads", "duties", "findings"):
        pd.testing.assert_frame_equal(getattr(joined, name), getattr(local, name))


def test_duplicate_ids_are_renamed_across_chunks():
    frame = pd.DataFrame({"ad_id": ["x"] * 5, "description": ["Tareas: - Responder mensajes"] * 5})
    ids = [i for part in iter_analyse(frame, chunk_size=2, progress=False) for i in part.ads["ad_id"]]
    assert ids == ["x", "x#2", "x#3", "x#4", "x#5"]


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_streaming_to_files_matches_the_local_tables(sample_ads, local, tmp_path, fmt):
    source = tmp_path / "ads.parquet"
    sample_ads.to_parquet(source)
    done = analyse_to_files(source, tmp_path / "out", fmt, chunk_size=5, progress=False)
    assert done["n_ads"] == len(sample_ads) and done["n_duties"] == len(local.duties)
    readers = {"parquet": pd.read_parquet, "csv": pd.read_csv, "jsonl": lambda p: pd.read_json(p, lines=True)}
    duties = readers[fmt](tmp_path / "out" / f"duties.{fmt}")
    assert duties["text"].tolist() == local.duties["text"].tolist()
    ads = readers[fmt](tmp_path / "out" / f"ads.{fmt}")
    assert ads["ad_id"].tolist() == local.ads["ad_id"].tolist()
    assert ads["status"].tolist() == local.ads["status"].tolist()


def test_empty_tables_still_get_files_with_columns(tmp_path):
    done = analyse_to_files(pd.DataFrame({"description": [""]}), tmp_path, "parquet", progress=False)
    assert [p.name for p in done["paths"]] == ["ads.parquet", "duties.parquet", "findings.parquet"]
    assert pd.read_parquet(tmp_path / "duties.parquet").empty


@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as local_cluster, \
            distributed.Client(local_cluster) as client:
        yield client


def _assert_same(dask_result, local_result):
    import dask

    ads, duties, findings = dask.compute(dask_result.ads, dask_result.duties, dask_result.findings)
    for name, computed in (("ads", ads), ("duties", duties), ("findings", findings)):
        expected = getattr(local_result, name)
        computed = computed.reset_index(drop=True)
        assert list(computed.columns) == list(expected.columns)
        # Dask keeps the input's own text columns as its string type; values must be identical.
        pd.testing.assert_frame_equal(computed, expected, check_dtype=False)
        ours = [c for c in expected.columns if c in cmclassify.AD_COLUMNS or name != "ads"]
        assert (computed[ours].dtypes == expected[ours].dtypes).all()


def test_dask_equals_local_on_the_sample(cluster, sample_ads, local):
    import dask.dataframe as dd

    _assert_same(analyse(dd.from_pandas(sample_ads, npartitions=4)), local)


@needs_corpus
def test_dask_equals_local_on_2000_corpus_ads(cluster):
    import dask.dataframe as dd

    ads = pd.read_parquet(CORPUS).sample(2000, random_state=11).reset_index(drop=True)
    _assert_same(analyse(dd.from_pandas(ads, npartitions=8)), analyse(ads, progress=False))


def test_cli_dask_engine_writes_partitioned_parquet(cluster, sample_ads, tmp_path, capsys):
    source = tmp_path / "ads.parquet"
    sample_ads.to_parquet(source)
    address = cluster.scheduler.address
    assert main(["analyse", str(source), "-o", str(tmp_path / "out"), "--engine", "dask", "--scheduler", address]) == 0
    duties = pd.read_parquet(tmp_path / "out" / "duties")
    assert len(duties) > 0 and set(duties["ad_id"]) <= set(sample_ads["ad_id"])
    assert "48 ads" in capsys.readouterr().out


def test_worker_processes_give_the_same_rows_in_the_same_order(sample_ads):
    frame = sample_ads.assign(batch="s").astype({"description": object})
    bad = pd.DataFrame({"ad_id": ["bad", frame["ad_id"].iloc[0]], "description": [42, ""], "batch": ["x", "x"]})
    frame = pd.concat([bad, frame, bad], ignore_index=True)
    one = cmclassify.Analysis.concat(list(iter_analyse(frame, chunk_size=9, progress=False)))
    two = cmclassify.Analysis.concat(list(iter_analyse(frame, chunk_size=9, progress=False, n_process=2)))
    for name in ("ads", "duties", "findings"):
        pd.testing.assert_frame_equal(getattr(two, name), getattr(one, name))
    assert two.ads["status"].tolist()[:2] == ["error", "empty"] and "int" in two.ads["error"].iloc[0]
    assert two.ads["ad_id"].is_unique and (two.ads["batch"] == frame["batch"]).all()


@pytest.mark.parametrize("n_process", [0, -2, 1.5, True, "2"])
def test_n_process_is_a_count_of_processes(n_process):
    with pytest.raises(ValueError, match="n_process"):
        analyse(["Funciones: responder mensajes."], progress=False, n_process=n_process)


def test_cli_jobs_writes_the_same_tables_as_one_process(sample_ads, tmp_path):
    source = tmp_path / "ads.parquet"
    copies = [sample_ads.assign(ad_id=sample_ads["ad_id"] + f"-{i}") for i in range(25)]  # more than one chunk
    pd.concat(copies, ignore_index=True).to_parquet(source)
    for jobs in ("1", "2"):
        assert main(["analyse", str(source), "-o", str(tmp_path / jobs), "--format", "parquet", "--jobs", jobs,
                     "--no-progress"]) == 0
    for table in ("ads", "duties", "findings"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "2" / f"{table}.parquet"),
                                      pd.read_parquet(tmp_path / "1" / f"{table}.parquet"))
