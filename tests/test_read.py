import json

import pandas as pd
import pytest

from cmclassify.read import InputError, decode, iter_file_chunks, normalise_frame, read_file, split_title

ADS = [{"ad_id": "a1", "title": "Community Manager", "description": "Funciones: - Gestionar las redes sociales de la marca"},
       {"ad_id": "a2", "title": "Diseñador", "description": "Tareas: - Diseñar piezas para campañas en Instagram"}]


@pytest.fixture(params=["csv", "jsonl", "json", "parquet"])
def ads_file(request, tmp_path):
    frame = pd.DataFrame(ADS)
    path = tmp_path / f"ads.{request.param}"
    if request.param == "csv":
        frame.to_csv(path, index=False)
    elif request.param == "jsonl":
        path.write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in ADS), encoding="utf-8")
    elif request.param == "json":
        path.write_text(json.dumps(ADS, ensure_ascii=False), encoding="utf-8")
    else:
        frame.to_parquet(path)
    return path


def test_every_file_format(ads_file):
    frame = read_file(ads_file)
    assert frame["description"].tolist() == [a["description"] for a in ADS]
    chunks = list(iter_file_chunks(ads_file, chunk_size=1))
    assert [c["ad_id"].tolist() for c in chunks] == [["a1"], ["a2"]]


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1", "utf-8-sig", "utf-16"])
def test_encodings_are_detected(tmp_path, encoding):
    text = "title,description\nDiseñador,Gestión de campañas y atención al público en redes sociales\n"
    path = tmp_path / "ads.csv"
    path.write_bytes(text.encode(encoding))
    frame = read_file(path)
    assert frame.loc[0, "description"] == "Gestión de campañas y atención al público en redes sociales"
    assert frame.loc[0, "title"] == "Diseñador"


def test_plain_text_file_and_folder(tmp_path):
    (tmp_path / "uno.txt").write_bytes("Funciones: gestión de redes".encode("cp1252"))
    (tmp_path / "dos.txt").write_text("Tareas: responder mensajes", encoding="utf-8")
    frame = read_file(tmp_path)
    assert frame["file"].tolist() == ["dos.txt", "uno.txt"]
    assert frame["title"].tolist() == ["", ""]
    assert "Funciones: gestión de redes" in frame["description"].tolist()
    assert read_file(tmp_path / "uno.txt")["description"].tolist() == ["Funciones: gestión de redes"]


def test_a_text_file_takes_its_title_from_its_first_line_not_its_name(tmp_path):
    (tmp_path / "aviso_17.txt").write_text("\nAnalista de Redes Sociales\nFunciones:\n- Publicar contenidos\n",
                                           encoding="utf-8")
    (tmp_path / "lista.txt").write_text("- Publicar contenidos\n- Responder mensajes\n", encoding="utf-8")
    frame = read_file(tmp_path)
    assert frame["title"].tolist() == ["Analista de Redes Sociales", ""]
    assert frame["description"].tolist()[0] == "Funciones:\n- Publicar contenidos\n"
    assert frame["description"].tolist()[1].startswith("- Publicar contenidos")


def test_split_title_needs_a_short_first_line_and_more_text():
    assert split_title("Community Manager\nGestionar redes") == ("Community Manager", "Gestionar redes")
    assert split_title("Solo una línea") == ("", "Solo una línea")
    assert split_title("x" * 301 + "\nmás") == ("", "x" * 301 + "\nmás")
    assert split_title("• Publicar\n• Medir") == ("", "• Publicar\n• Medir")


def test_missing_and_unknown_files_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_file(tmp_path / "nope.csv")
    (tmp_path / "ads.xlsx").write_bytes(b"x")
    with pytest.raises(InputError, match="unknown file type"):
        read_file(tmp_path / "ads.xlsx")


def test_ids_are_generated_stably_and_duplicates_renamed():
    frame = pd.DataFrame({"title": ["a", "b"], "description": ["uno", "dos"]})
    first = normalise_frame(frame)["ad_id"].tolist()
    assert first == normalise_frame(frame)["ad_id"].tolist()
    assert first[0].startswith("ad-") and first[0] != first[1]
    dup = normalise_frame(pd.DataFrame({"ad_id": ["x", "x", "x"], "description": ["a", "b", "c"]}))
    assert dup["ad_id"].tolist() == ["x", "x#2", "x#3"]
    assert "duplicate" in dup.loc[1, "input_warning"]


def test_decode_prefers_utf8_and_falls_back():
    assert decode("campaña".encode("utf-8")) == "campaña"
    assert decode("Gestión de la campaña de atención al público".encode("cp1252")) == "Gestión de la campaña de atención al público"
