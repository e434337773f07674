import json

import pandas as pd

from cmclassify.cli import main
from tests.conftest import DEV_GOLD, needs_dev_gold


def test_analyse_writes_tables(tmp_path, capsys):
    source = tmp_path / "ads.jsonl"
    source.write_text(json.dumps({"ad_id": "x", "title": "CM", "description": "Funciones: - Responder mensajes - Crear contenido"}),
                      encoding="utf-8")
    assert main(["analyse", str(source), "-o", str(tmp_path / "out"), "--format", "parquet", "--no-progress"]) == 0
    assert pd.read_parquet(tmp_path / "out" / "duties.parquet")["text"].tolist() == ["Responder mensajes", "Crear contenido"]
    assert "1 ads" in capsys.readouterr().out


def test_missing_file_is_one_clear_line(tmp_path, capsys):
    assert main(["analyse", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cmclassify: error:") and "no such file" in err and "Traceback" not in err


def test_usage_errors_exit_2(capsys):
    for argv in (["analyse"], ["bogus"], ["analyse", "x.csv", "-o", "out", "--format", "xlsx"]):
        try:
            main(argv)
        except SystemExit as exc:
            assert exc.code == 2
        else:
            raise AssertionError(f"{argv} did not exit")


@needs_dev_gold
def test_evaluate_json(capsys):
    assert main(["evaluate", str(DEV_GOLD), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    extraction = scores["figures"]["extraction.f1"]
    assert extraction["gold"] > 0 and extraction["low"] <= extraction["value"] <= extraction["high"]
    assert scores["n_ads"] == sum(1 for line in DEV_GOLD.open(encoding="utf-8") if line.strip())


def test_orientation_is_scored_with_found_duties_and_with_the_gold_duties_apart():
    from cmclassify.evaluate import ad_counts, figures

    gold = {"is_cm_role": True, "duties": [{"text": "Responder mensajes", "label": "communication_conversation"},
                                           {"text": "Moderar comentarios", "label": "communication_conversation"}]}
    found = pd.DataFrame({"text": ["Responder mensajes"], "label": ["marketing_sales"]})
    predicted = pd.Series({"orientation": "marketing_sales"})
    right_labels = figures(ad_counts(gold, found, predicted, ["communication_conversation"] * 2))
    assert right_labels["orientation.accuracy"] == 0 and right_labels["orientation.accuracy_gold_duties"] == 1
    wrong_labels = figures(ad_counts(gold, found, predicted, ["marketing_sales"] * 2))
    assert wrong_labels["orientation.accuracy_gold_duties"] == 0
