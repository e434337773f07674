"""Bad input and faults: every row comes out with a status, nothing is overwritten by accident, an
interrupted run leaves earlier results as they were, and models are trusted only when the user says so.
Every text here was written for the tests."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cmclassify
from cmclassify import AD_COLUMNS, InputError, ModelError, analyse, load_model
from cmclassify.cli import main
from cmclassify.model_files import CARD_FILE, MODEL_FILE, save_model
from cmclassify.output import LOCK, MANIFEST, FolderInUseError, TableWriters
from cmclassify.resources import models_dir
from cmclassify.vocabulary import STATUSES

AD = "Funciones:\n- Gestionar las redes sociales de la empresa\n- Responder mensajes y comentarios de los clientes"


def test_input_columns_never_overwrite_the_tools_own():
    frame = pd.DataFrame({"description": [AD, ""], "status": ["activo", "cerrado"], "orientation": ["x", "y"],
                          "input_status": ["kept", "kept"]})
    with pytest.warns(UserWarning) as caught:
        result = analyse(frame, progress=False)
    messages = [str(w.message) for w in caught]
    assert any("'status' is kept as 'input_input_status'" in m for m in messages)
    assert any("'orientation' is kept as 'input_orientation'" in m for m in messages)
    ads = result.ads
    assert ads["status"].tolist() == ["ok", "empty"]
    assert ads["orientation"].iloc[0] == "communication_conversation"
    assert ads["input_input_status"].tolist() == ["activo", "cerrado"]
    assert ads["input_status"].tolist() == ["kept", "kept"]  # the input's own name, not clashing, unchanged
    assert ads["input_orientation"].tolist() == ["x", "y"]


def test_bad_jsonl_lines_each_become_an_error_row_and_the_rest_is_analysed(tmp_path):
    path = tmp_path / "ads.jsonl"
    lines = [json.dumps({"ad_id": "good1", "description": AD}), '{"ad_id": "broken", "description": "sin cerrar',
             "[1, 2, 3]", '{"ad_id": "cut", "description": "Responder mensajes en redes sociales \\ud83d"}',
             "", json.dumps({"ad_id": "good2", "description": AD})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = analyse(path, progress=False)
    ads = result.ads.set_index("ad_id")
    assert len(ads) == 5
    assert ads.loc[["good1", "good2", "cut"], "status"].tolist() == ["ok", "ok", "ok"]
    errors = result.ads.loc[result.ads["status"] == "error", "error"].tolist()
    assert errors[0].startswith("ads.jsonl:2: not valid JSON") and errors[1].startswith("ads.jsonl:3: a JSON list")
    assert "lone surrogates" in ads.loc["cut", "warning"] and ads.loc["cut", "n_duties"] >= 0
    out = tmp_path / "out"
    assert main(["analyse", str(path), "-o", str(out), "--format", "parquet", "--no-progress"]) == 0
    assert len(pd.read_parquet(out / "ads.parquet")) == 5  # the surrogate did not break the Parquet writer


def test_bad_csv_lines_and_late_non_utf8_bytes_lose_no_row(tmp_path):
    path = tmp_path / "ads.csv"
    padding = "x" * 400  # a column not analysed, so the bad bytes come after the first megabyte
    filler = [f'a{i},"{AD}",{padding}' for i in range(3000)]
    content = "ad_id,description,notes\n" + "\n".join(filler) + "\nbad,uno,dos,tres,cuatro\n"
    path.write_bytes(content.encode("utf-8") + 'late,"Atención al público en la tienda",\n'.encode("latin-1"))
    assert path.stat().st_size > 1 << 20
    result = analyse(path, progress=False)
    assert len(result.ads) == 3002
    bad = result.ads[result.ads["status"] == "error"]
    assert len(bad) == 1 and bad["error"].iloc[0] == "ads.csv:3002: expected 3 fields, saw 5"
    late = result.ads.set_index("ad_id").loc["late"]
    assert late["status"] == "ok" and "could not be decoded" in late["warning"]


@pytest.mark.parametrize("content, message", [
    ("texto\nhola\n", "no text column 'description'"),
    ("", "the file is empty"),
])
def test_whole_file_failures_are_one_clear_line_naming_the_file(tmp_path, capsys, content, message):
    path = tmp_path / "ads.csv"
    path.write_text(content, encoding="utf-8")
    assert main(["analyse", str(path), "-o", str(tmp_path / "out"), "--no-progress"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and str(path) in error and message in error and "Traceback" not in error


def test_repeated_ids_never_collide():
    frame = pd.DataFrame({"ad_id": ["a1", "a1", "a1#2", "a1#2"], "description": [AD] * 4})
    ids = analyse(frame, progress=False).ads["ad_id"].tolist()
    assert ids == ["a1", "a1#2", "a1#2#2", "a1#2#3"]


def test_missing_values_of_every_kind_are_empty():
    frame = pd.DataFrame({"description": pd.Series([None, float("nan"), pd.NA, pd.NaT], dtype=object)})
    assert analyse(frame, progress=False).ads["status"].tolist() == ["empty"] * 4


def _analyse_into(folder, rows, fmt="csv"):
    frame = pd.DataFrame({"ad_id": [f"r{i}" for i in range(rows)], "description": [AD] * rows})
    return cmclassify.analyse_to_files(frame, folder, fmt, progress=False)


def test_a_failed_run_leaves_the_previous_results_untouched(tmp_path):
    _analyse_into(tmp_path, 3)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["rows"]["ads"] == 3 and manifest["statuses"] == {"ok": 3}
    with pytest.raises(InputError):
        cmclassify.analyse_to_files(pd.DataFrame({"texto": ["x"]}), tmp_path, "csv", progress=False)
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if not p.name.endswith(".partial")}
    assert after == before
    assert not (tmp_path / LOCK).exists()


def test_a_second_run_into_a_folder_in_use_is_refused(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / LOCK).write_text(f"{holder.pid} run started\n")
        with pytest.raises(FolderInUseError, match=f"process {holder.pid}"):
            with TableWriters(tmp_path, "csv"):
                pass
    finally:
        holder.kill()
        holder.wait()
    with TableWriters(tmp_path, "csv"):  # a lock left by a dead process is taken over
        pass
    assert (tmp_path / MANIFEST).exists()


def _processes_marked(marker: str) -> list[int]:
    """Live processes whose environment holds ``marker`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/environ", "rb") as environ:
                if marker.encode() in environ.read():
                    found.append(int(entry))
        except (OSError, ValueError):
            continue
    return found


# Ctrl-C in a terminal reaches the whole process group (workers too); SIGTERM the main process only.
@pytest.mark.parametrize("sig, jobs", [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGINT, 2), (signal.SIGTERM, 2)])
def test_an_interrupted_run_keeps_earlier_results_and_marks_its_own_files_partial(tmp_path, sig, jobs):
    out = tmp_path / "out"
    _analyse_into(out, 5, "parquet")
    earlier = {p.name: p.read_bytes() for p in out.iterdir()}
    big = tmp_path / "big.csv"
    pd.DataFrame({"ad_id": [f"b{i}" for i in range(20_000)], "description": [AD] * 20_000}).to_csv(big, index=False)
    marker = f"CMCLASSIFY_TEST_RUN={tmp_path.name}"
    process = subprocess.Popen([sys.executable, "-m", "cmclassify", "analyse", str(big), "-o", str(out),
                                "--format", "parquet", "--no-progress", "--jobs", str(jobs)], stderr=subprocess.PIPE,
                               text=True, start_new_session=True, env={**os.environ, "CMCLASSIFY_TEST_RUN": tmp_path.name})
    deadline = time.time() + 120
    # The first chunk written, the later ones still being analysed.
    while not (out / "ads.parquet.partial").exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert process.poll() is None, "the run ended before it could be interrupted"
    if jobs > 1:
        assert len(_processes_marked(marker)) > jobs, "the workers are not running"
    if sig == signal.SIGINT:
        os.killpg(process.pid, sig)
    else:
        process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    deadline = time.time() + 30
    while _processes_marked(marker) and time.time() < deadline:
        time.sleep(0.2)
    assert not _processes_marked(marker), "a worker outlived the interrupted run"
    assert process.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if not p.name.endswith(".partial")} == earlier
    assert len(pd.read_parquet(out / "ads.parquet")) == 5
    partial = out / "ads.parquet.partial"
    assert partial.exists() and len(pd.read_parquet(partial)) > 0  # closed properly: readable, named partial
    assert not (out / LOCK).exists()


def test_models_from_elsewhere_need_trust_and_must_be_models(tmp_path, capsys):
    folder = tmp_path / "model"
    save_model(load_model(), folder, {"model_version": "test"})
    with pytest.raises(ModelError, match="trusted=True"):
        load_model(folder)
    assert main(["evaluate", str(tmp_path / "gold.jsonl"), "--model", str(folder)]) == 1
    assert "trusted=True" in capsys.readouterr().err
    save_model({"not": "a model"}, tmp_path / "other", {"model_version": "test"})
    with pytest.raises(ModelError, match="holds a dict, not a DutyClassifier"):
        load_model(tmp_path / "other", trusted=True)
    # A damaged file whose card was updated to match it: a clear error, not a zlib traceback.
    damaged = folder / MODEL_FILE
    data = bytearray(damaged.read_bytes())
    data[200:260] = b"\x00" * 60
    damaged.write_bytes(bytes(data))
    card = json.loads((folder / CARD_FILE).read_text())
    import hashlib

    card["model_sha256"] = hashlib.sha256(bytes(data)).hexdigest()
    (folder / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ModelError, match="cannot be loaded"):
        load_model(folder, trusted=True)
    assert (models_dir() / MODEL_FILE).exists()


def test_model_argument_must_be_a_model():
    with pytest.raises(ModelError, match="DutyClassifier"):
        analyse([AD], progress=False, model=[])


def test_info_into_a_closed_pipe_stops_quietly():
    result = subprocess.run(f"{sys.executable} -m cmclassify info | head -c 10", shell=True, capture_output=True,
                            text=True)
    assert result.stderr == "" and len(result.stdout) == 10


texts = st.one_of(st.text(max_size=300), st.sampled_from(["", " ", "\n", AD, "<script>alert(1)</script>" + AD,
                                                          "\ud83d" + AD, "😀" * 50, "a" * 25_000]),
                  st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
values = st.one_of(texts, st.none(), st.just(float("nan")), st.integers(), st.binary(max_size=50))
ids = st.one_of(st.none(), st.sampled_from(["a", "a#2", "b", ""]), st.text(max_size=8))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(ids, values, st.one_of(st.none(), st.text(max_size=40))), min_size=1, max_size=25),
       st.sampled_from(["ad_id", "status", "clean_text", "error"]))
def test_any_input_comes_out_row_for_row_with_valid_statuses_and_offsets(rows, extra_name):
    frame = pd.DataFrame({"ad_id": pd.Series([r[0] for r in rows], dtype=object),
                          "description": pd.Series([r[1] for r in rows], dtype=object),
                          "title": pd.Series([r[2] for r in rows], dtype=object),
                          extra_name + "_x": range(len(rows))})
    if extra_name != "ad_id":
        frame[extra_name] = "input value"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = analyse(frame, progress=False)
    ads = result.ads
    assert len(ads) == len(frame) and ads["ad_id"].is_unique
    assert set(ads["status"]) <= set(STATUSES)
    assert list(ads.columns[:len(AD_COLUMNS)]) == list(AD_COLUMNS)
    texts_by_id = dict(zip(ads["ad_id"], ads["clean_text"]))
    for duty in result.duties.itertuples():
        assert 0 <= duty.start < duty.end <= len(texts_by_id[duty.ad_id])
        assert texts_by_id[duty.ad_id][duty.start:duty.end] == duty.text
    for finding in result.findings[result.findings["field"] == "text"].itertuples():
        assert 0 <= finding.start <= finding.end <= len(texts_by_id[finding.ad_id])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=120), st.text(max_size=120).map(str.encode)), min_size=1, max_size=12))
def test_any_bytes_in_a_jsonl_file_come_out_line_for_line(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("fuzz") / "ads.jsonl"
    cleaned = [line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines]
    path.write_bytes(b"\n".join(cleaned) + b"\n")
    result = analyse(path, progress=False)
    # A byte-order mark opening the file marks its encoding; it is not part of the first line.
    cleaned[0] = cleaned[0].removeprefix(b"\xef\xbb\xbf")
    non_blank = sum(1 for line in cleaned if line.decode("utf-8", "replace").strip())
    assert len(result.ads) == non_blank
    assert set(result.ads["status"]) <= set(STATUSES)
