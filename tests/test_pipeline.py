import math

import pandas as pd
import pytest

import cmclassify
from cmclassify import AD_COLUMNS, DUTY_COLUMNS, analyse, analyse_text

GOOD = "Funciones:\n- Gestionar las redes sociales de la marca\n- Responder mensajes y comentarios\nRequisitos: experiencia"


def test_analyse_dataframe_keeps_order_extra_columns_and_offsets():
    frame = pd.DataFrame({"ad_id": ["b", "a"], "title": ["CM", "CM 2"], "description": [GOOD, GOOD.upper()],
                          "country": ["Argentina", "Mexico"]})
    result = analyse(frame, progress=False)
    assert result.ads["ad_id"].tolist() == ["b", "a"]
    assert list(result.ads.columns[: len(AD_COLUMNS)]) == list(AD_COLUMNS)
    assert result.ads["country"].tolist() == ["Argentina", "Mexico"]
    assert list(result.duties.columns[: len(DUTY_COLUMNS)]) == list(DUTY_COLUMNS)
    for duty in result.duties.itertuples():
        clean_text = result.ads.set_index("ad_id").loc[duty.ad_id, "clean_text"]
        assert clean_text[duty.start:duty.end] == duty.text
    assert result.ads["n_duties"].tolist() == [2, 2]


def test_analyse_list_of_strings_and_path(tmp_path):
    assert len(analyse([GOOD, GOOD], progress=False).duties) == 4
    path = tmp_path / "ads.csv"
    pd.DataFrame({"description": [GOOD]}).to_csv(path, index=False)
    assert analyse(path, progress=False).ads["n_duties"].tolist() == [2]


def test_custom_column_names():
    frame = pd.DataFrame({"id": [7], "puesto": ["CM"], "texto": [GOOD]})
    result = analyse(frame, text_col="texto", title_col="puesto", id_col="id", progress=False)
    assert result.ads.loc[0, "ad_id"] == "7" and result.ads.loc[0, "title"] == "CM"


BAD_INPUTS = [
    ("", "empty"), ("   ", "empty"), (None, "empty"), (math.nan, "empty"),
    (12345, "error"), (3.5, "error"),
    ("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f", "garbled"),
    ("Busquem una persona per gestionar les xarxes socials de l'empresa i crear continguts", "not_spanish"),
    (GOOD * 10_000, "ok"),  # about 1,000,000 characters
    (b"Tareas: responder mensajes", "ok"),
]


def test_bad_inputs_lose_no_row():
    frame = pd.DataFrame({"ad_id": [f"r{i}" for i in range(len(BAD_INPUTS))] + ["r0"],
                          "description": pd.Series([v for v, _ in BAD_INPUTS] + [GOOD], dtype=object)})
    result = analyse(frame, progress=False)
    assert len(result.ads) == len(frame)
    assert result.ads["status"].tolist() == [s for _, s in BAD_INPUTS] + ["ok"]
    not_ok = result.ads[result.ads["status"] != "ok"]
    assert (not_ok["error"].str.len() > 0).all()
    assert result.ads.loc[len(frame) - 1, "ad_id"] == "r0#2"
    assert "cut" in result.ads.loc[8, "warning"]


def test_missing_text_column_fails_the_input_as_a_whole():
    with pytest.raises(cmclassify.InputError, match="no text column 'description' .*the columns are: texto"):
        analyse(pd.DataFrame({"texto": ["a", "b"]}), progress=False)
    texts = ["Buscamos vendedor para el local de la empresa", "Se necesita cocinero con experiencia en la cocina"]
    assert analyse(pd.DataFrame({"texto": texts}), text_col="texto", progress=False).ads["status"].eq("ok").all()


def test_empty_input():
    result = analyse(pd.DataFrame({"description": []}), progress=False)
    assert len(result.ads) == 0 and len(result.duties) == 0


def test_analyse_text_and_save(tmp_path):
    result = analyse_text(GOOD, title="Community Manager")
    assert result.duties["text"].tolist() == ["Gestionar las redes sociales de la marca", "Responder mensajes y comentarios"]
    for fmt in ("csv", "parquet", "jsonl"):
        paths = result.save(tmp_path / fmt, fmt)
        assert [p.name for p in paths] == [f"ads.{fmt}", f"duties.{fmt}", f"findings.{fmt}"]
    assert pd.read_csv(tmp_path / "csv" / "duties.csv")["text"].tolist() == result.duties["text"].tolist()
    with pytest.raises(ValueError):
        result.save(tmp_path, "xlsx")


def test_public_api_is_exported():
    for name in cmclassify.__all__:
        assert hasattr(cmclassify, name)
