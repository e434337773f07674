"""The project's annotations: references resolved against the corpus, the seeded sample, the grouped
folds, and the path from an annotator's quoted answers to reference records. All texts here were
written for the tests."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GroupKFold

from cmclassify.annotation_workflow import check_answers, locate, quotes_to_record, trim_span
from cmclassify.annotations import (AnnotationError, cv_groups, draw_sample, near_duplicate_key, parse_record,
                                    read_annotations, resolve, text_sha1)
from cmclassify.rules import SamplingPlan

AD = ("Buscamos community manager. Funciones:\n- Gestionar las redes sociales.\n"
      "- Publicar las promociones del mes\nRequisitos: experiencia.")
CORPUS = pd.DataFrame({"ad_id": ["ad-1", "ad-2"], "source": ["bumeran", "Workana"], "country": ["Argentina", "México"],
                       "title": ["Community Manager", "Diseño de logo"],
                       "description": [AD, "Necesito un logo para mi panadería. Conocimientos valorados: Diseño Gráfico"]})


def _record(**changes):
    first = AD.index("Gestionar")
    record = {"ad_id": "ad-1", "text_sha1": text_sha1(AD), "pass": "1", "is_cm_role": True, "alchemist": False,
              "alchemist_reasons": "", "b_functions": ["social_media"], "follower_credential": False,
              "hype_title": False, "discriminatory_requirement": False, "discrimination_grounds": "",
              "duties": [{"start": first, "end": first + len("Gestionar las redes sociales"),
                          "label": "communication_conversation", "functions": ["social_media"]}], "notes": ""}
    record.update(changes)
    return record


def test_references_resolve_to_the_duty_text():
    annotation, = resolve([parse_record(_record())], CORPUS)
    assert annotation.duty_texts == ["Gestionar las redes sociales"]
    assert annotation.title == "Community Manager" and annotation.source == "bumeran"
    assert annotation.as_gold()["duties"][0]["label"] == "communication_conversation"


@pytest.mark.parametrize("changes, message", [
    ({"ad_id": "ad-404"}, "ad-404: no ad with this id"),
    ({"text_sha1": "0" * 40}, "ad-1: the corpus text no longer matches"),
    ({"duties": [{"start": 10, "end": 10_000, "label": "other"}]}, "ad-1: offsets 10:10000 fall outside"),
])
def test_loader_refuses_references_that_do_not_fit(changes, message):
    with pytest.raises(AnnotationError, match=message):
        resolve([parse_record(_record(**changes))], CORPUS)


def test_unknown_vocabulary_is_refused_with_the_ad_id():
    with pytest.raises(AnnotationError, match="ad-1: unknown duty label 'selling'"):
        parse_record(_record(duties=[{"start": 0, "end": 5, "label": "selling"}]))
    with pytest.raises(AnnotationError, match="ad-1: unknown reason letters"):
        parse_record(_record(alchemist_reasons="A,F"))


def test_a_bad_line_names_the_file_and_line(tmp_path):
    path = tmp_path / "ads.jsonl"
    path.write_text(json.dumps(_record()) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match=r"ads\.jsonl:2"):
        read_annotations(path)


def _synthetic_corpus(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    titles = ["Community Manager", "Vendedor", "Analista de marketing", "Cocinero", "Administrador de redes",
              "Diseñador gráfico"]
    rows = []
    for i in range(n):
        title = titles[i % len(titles)]
        source = "Workana" if i % 5 == 0 else ["ZonaJobs", "Computrabajo", "bumeran"][i % 3]
        mention = " Manejo de redes sociales." if rng.random() < 0.4 else ""
        rows.append({"ad_id": f"ad-{i}", "source": source, "country": "Argentina", "title": title,
                     "description": f"Aviso número {i} para el puesto de {title}.{mention} Tareas: tarea {i}."})
    rows.append({**rows[1], "ad_id": "ad-copy"})  # the same ad posted twice
    return pd.DataFrame(rows)


PLAN = SamplingPlan.model_validate({
    "seed": 7, "strata": [
        {"name": "cm", "about": "t", "sources": "not_workana", "title": "community", "size": "all"},
        {"name": "neighbour", "about": "t", "sources": "not_workana", "description": "redes sociales", "size": 30,
         "by_title_family": True},
        {"name": "rest", "about": "t", "sources": "any", "size": 40, "by_source": True}],
    "second_pass": {"cm": 5, "rest": 5},
    "title_families": {"sales": "vend", "marketing": "marketing", "design": "disen"}})


def test_sample_is_reproducible_and_follows_the_plan():
    corpus = _synthetic_corpus()
    first, again = draw_sample(corpus, plan=PLAN), draw_sample(corpus, plan=PLAN)
    pd.testing.assert_frame_equal(first, again)
    other = draw_sample(corpus, plan=PLAN.model_copy(update={"seed": 8}))
    assert list(other["ad_id"]) != list(first["ad_id"])
    counts = first["stratum"].value_counts()
    assert counts["neighbour"] == 30 and counts["rest"] == 40
    assert counts["cm"] == (corpus["title"] == "Community Manager").sum() - (corpus["source"] == "Workana")[
        corpus["title"] == "Community Manager"].sum()
    assert first["ad_id"].is_unique
    assert not {"ad-1", "ad-copy"} <= set(first["ad_id"])  # one of a re-posted pair at most
    assert first.groupby("stratum")["second_pass"].sum().to_dict() == {"cm": 5, "neighbour": 0, "rest": 5}


def test_sample_never_draws_a_near_duplicate_of_an_excluded_ad():
    corpus = _synthetic_corpus()
    dev_text = corpus.loc[corpus["title"] == "Community Manager", "description"].iloc[0]
    sample = draw_sample(corpus, exclude=["  " + dev_text.upper()], plan=PLAN)
    keys = set(corpus.set_index("ad_id").loc[sample["ad_id"], "description"].map(near_duplicate_key))
    assert near_duplicate_key(dev_text) not in keys


def test_groups_keep_reposts_and_shared_boilerplate_together_and_folds_never_split_them():
    boilerplate = ("Somos una empresa familiar con cuarenta años en el rubro de la construcción y buscamos "
                   "sumar talento a nuestro equipo de trabajo en la ciudad de Córdoba para crecer juntos ")
    texts = [f"Puesto {i}: tareas propias del puesto número {i} en la oficina central." for i in range(12)]
    texts += [boilerplate + "Puesto de vendedor con cartera propia.",
              "Otra introducción distinta. " + boilerplate + "Puesto de administrativo contable.",
              texts[0].upper() + "!"]
    groups = cv_groups(texts)
    assert groups[12] == groups[13]  # one employer's boilerplate
    assert groups[14] == groups[0]  # the same ad again
    assert len(set(groups)) == 13
    for train, test in GroupKFold(n_splits=4).split(texts, groups=groups):
        assert not set(groups[train]) & set(groups[test])


def test_quotes_become_trimmed_offsets():
    start, end = locate(AD, "Gestionar   las redes sociales.")
    assert trim_span(AD, start, end) == (AD.index("Gestionar"), AD.index("Gestionar") + 28)
    assert locate(AD, "GESTIONAR las  redes\nsociales") == locate(AD, "Gestionar las redes sociales")
    assert locate(AD, "Responder mensajes") is None


def _answer(**changes):
    answer = {"ad_id": "ad-1", "is_cm_role": True, "alchemist": False, "alchemist_reasons": "",
              "follower_credential": False, "hype_title": False, "discriminatory_requirement": False,
              "discrimination_grounds": "", "evidence": [], "notes": "",
              "duties": [{"text": "- Gestionar las redes sociales.", "label": "communication_conversation",
                          "functions": ["social_media"]},
                         {"text": "Publicar las promociones del mes", "label": "marketing_sales",
                          "functions": ["social_media"]}]}
    answer.update(changes)
    return answer


def test_an_answer_becomes_a_reference_record_without_text():
    record = quotes_to_record(_answer(), AD, "1", "cm_title")
    assert [AD[d["start"]:d["end"]] for d in record["duties"]] == ["Gestionar las redes sociales",
                                                                    "Publicar las promociones del mes"]
    assert record["b_functions"] == ["social_media"] and record["text_sha1"] == text_sha1(AD)
    assert "Gestionar" not in json.dumps(record)


def test_checker_lists_what_does_not_fit(tmp_path):
    batch = tmp_path / "batch.jsonl"
    batch.write_text("".join(json.dumps(row) + "\n" for row in CORPUS.to_dict("records")), encoding="utf-8")
    answers = tmp_path / "answers.jsonl"
    bad = _answer(alchemist_reasons="B", alchemist=True, notes="the ad says gestionar las redes sociales publicar las",
                  duties=[{"text": "Responder mensajes", "label": "communication_conversation", "functions": []}])
    answers.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    problems = "\n".join(check_answers(answers, batch))
    assert "text not found" in problems
    assert "reason B holds exactly when" in problems
    assert "notes repeat the ad's words" in problems
    assert "ad-2: not answered yet" in problems


def test_a_requirement_stated_only_in_the_title_is_quoted_from_the_title():
    title = "Community Manager (preferible mujer)"
    answer = _answer(discriminatory_requirement=True, discrimination_grounds="sex",
                     evidence=[{"kind": "discrimination:sex", "text": "preferible mujer"}])
    record = quotes_to_record(answer, AD, "1", "cm_title", title)
    (evidence,) = record["evidence"]
    assert evidence["field"] == "title" and title[evidence["start"]:evidence["end"]] == "preferible mujer"
    corpus = CORPUS.assign(title=[title, "Diseño de logo"])
    (annotation,) = resolve([parse_record(record)], corpus)
    assert annotation.evidence[0].text == "preferible mujer"
    with pytest.raises(AnnotationError, match="outside the title"):
        resolve([parse_record({**record, "evidence": [{**evidence, "end": 99}]})], corpus)


def test_import_adds_to_the_references_and_replaces_the_same_ad_and_pass(tmp_path):
    from cmclassify.cli import main

    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps(CORPUS.to_dict("records")[0]) + "\n", encoding="utf-8")
    sample = tmp_path / "sample.csv"
    pd.DataFrame({"ad_id": ["ad-1"], "stratum": ["cm_title"]}).to_csv(sample, index=False)
    output = tmp_path / "ads.jsonl"
    other = _record(ad_id="ad-9")
    output.write_text(json.dumps(other) + "\n" + json.dumps(_record(duties=[])) + "\n", encoding="utf-8")
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps(_answer()) + "\n", encoding="utf-8")
    for pass_ in ("1", "2"):
        assert main(["annotations", "import", f"{answers}={batch}", "--pass", pass_, "--sample", str(sample),
                     "-o", str(output)]) == 0
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [(r["pass"], r["ad_id"]) for r in records] == [("1", "ad-1"), ("1", "ad-9"), ("2", "ad-1")]
    assert len(records[0]["duties"]) == 2 and records[1] == other


FIXTURE_ADS = [
    ("Community Manager", "Funciones:\n- Gestionar las redes sociales de la marca\n- Responder mensajes y comentarios\n"
                          "Requisitos: experiencia.", True, ["communication_conversation", "communication_conversation"]),
    ("Vendedor", "Tareas:\n- Vender los productos del local\n- Cerrar ventas por teléfono\nOfrecemos: buen clima.",
     False, ["marketing_sales", "marketing_sales"]),
    ("Diseñador gráfico", "Funciones:\n- Diseñar piezas en Canva\n- Editar videos para la web\n", False, ["other", "other"]),
    ("Social Media", "Responsabilidades:\n- Publicar contenido en Instagram\n- Publicar las promociones del mes\n",
     True, ["communication_conversation", "marketing_sales"]),
    ("Administrativo", "Tareas:\n- Cargar facturas en el sistema\n- Archivar documentación\n", False, ["other", "other"]),
    ("Community Manager Jr", "Funciones:\n- Moderar la comunidad online\n- Crear contenido para TikTok\n", True,
     ["communication_conversation", "communication_conversation"]),
]


def _fixture(tmp_path):
    corpus = pd.DataFrame([{"ad_id": f"fx-{i}", "source": "ZonaJobs", "country": "Argentina", "title": title,
                            "description": text} for i, (title, text, _, _) in enumerate(FIXTURE_ADS)])
    corpus_path = tmp_path / "corpus.parquet"
    corpus.to_parquet(corpus_path)
    lines = []
    for i, (title, text, is_cm, labels) in enumerate(FIXTURE_ADS):
        items = [line[2:] for line in text.splitlines() if line.startswith("- ")]
        duties = [{"start": text.index(item), "end": text.index(item) + len(item), "label": label, "functions": []}
                  for item, label in zip(items, labels)]
        lines.append(json.dumps(_record(ad_id=f"fx-{i}", text_sha1=text_sha1(text), is_cm_role=is_cm, duties=duties,
                                        b_functions=[], stratum="cm_title" if is_cm else "neighbour")))
    annotations_path = tmp_path / "ads.jsonl"
    annotations_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return corpus_path, annotations_path


def test_evaluate_cv_on_a_small_fixture(tmp_path, capsys):
    from cmclassify.cli import main

    corpus_path, annotations_path = _fixture(tmp_path)
    out = tmp_path / "cv.json"
    assert main(["evaluate", "--cv", "3", "--annotations", str(annotations_path), "--corpus", str(corpus_path),
                 "--n-boot", "200", "--out", str(out)]) == 0
    assert "3-fold grouped cross-validation: 6 ads" in capsys.readouterr().out
    scores = json.loads(out.read_text())
    extraction = scores["figures"]["extraction.f1"]
    assert extraction["gold"] == 12 and 0 < extraction["value"] <= 1
    assert extraction["low"] <= extraction["value"] <= extraction["high"]
    assert scores["figures"]["is_cm_role.f1"]["positives"] == 3
    recall, specificity = scores["figures"]["is_cm_role.recall"], scores["figures"]["is_cm_role.specificity"]
    assert recall["positives"] == 3 and specificity["negatives"] == 3  # 6 ads, 3 CM roles
    assert recall["value"] == recall["true_positives"] / 3
    assert specificity["value"] == specificity["true_negatives"] / 3
    assert set(scores["by_stratum"]) == {"cm_title", "neighbour"}
    assert scores["by_cm_role"]["cm"]["figures"]["is_cm_role.recall"]["positives"] == 3


def test_cross_validation_trains_each_fold_without_its_held_out_ads(tmp_path):
    from cmclassify.annotations import load_annotations
    from cmclassify.evaluate import cross_validate

    corpus_path, annotations_path = _fixture(tmp_path)
    gold = [a.as_gold() for a in load_annotations(annotations_path, corpus_path)]
    groups = [0, 0, 1, 2, 3, 3]  # ads 0-1 and 4-5 must stay together
    seen: list[set[str]] = []

    def trainer(train):
        seen.append({ad["ad_id"] for ad in train})
        return {}

    report = cross_validate(gold, groups, folds=2, trainer=trainer, n_boot=0)
    assert len(seen) == 2 and seen[0] | seen[1] == {ad["ad_id"] for ad in gold}
    assert not seen[0] & seen[1]  # two folds: each ad trains exactly one of them
    for train in seen:
        assert ({"fx-0", "fx-1"} <= train or not {"fx-0", "fx-1"} & train)
        assert ({"fx-4", "fx-5"} <= train or not {"fx-4", "fx-5"} & train)
    assert report["figures"]["extraction.f1"]["low"] is None  # no resamples asked


def test_agreement_of_two_passes_and_the_ads_to_adjudicate(tmp_path):
    from cmclassify.cli import main

    corpus_path, annotations_path = _fixture(tmp_path)
    first = [json.loads(line) for line in annotations_path.read_text(encoding="utf-8").splitlines()]
    second = [dict(r, **{"pass": "2"}) for r in first]
    second[1] = dict(second[1], duties=[dict(d, label="other") for d in second[1]["duties"]])
    second[3] = dict(second[3], is_cm_role=False)
    annotations_path.write_text("".join(json.dumps(r) + "\n" for r in first + second), encoding="utf-8")
    out, listing = tmp_path / "agreement.json", tmp_path / "disagreements.jsonl"
    assert main(["annotations", "agreement", "--annotations", str(annotations_path), "--corpus", str(corpus_path),
                 "-o", str(out), "--disagreements", str(listing)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["n_ads"] == 6 and result["duty_extraction"]["f1"] == 1.0
    assert result["duty_label"]["agreement"] == 10 / 12 and result["is_cm_role"]["agreement"] == 5 / 6
    found = [json.loads(line) for line in listing.read_text(encoding="utf-8").splitlines()]
    assert found == [{"ad_id": "fx-1", "fields": ["duty labels"]}, {"ad_id": "fx-3", "fields": ["is_cm_role"]}]
