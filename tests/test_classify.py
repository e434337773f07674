import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from cmclassify import LABELS, DutyClassifier, ModelError, classify_duties, load_model, train_model
from cmclassify.model_files import CARD_FILE, FORMAT_VERSION, MODEL_FILE
from cmclassify.train import default_training_data, read_labelled
from cmclassify.cli import main
from cmclassify.resources import models_dir

from tests.conftest import CORPUS, needs_corpus


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    frame = read_labelled(default_training_data())
    sample = frame.groupby("label").sample(40, random_state=0)
    path = tmp_path_factory.mktemp("data") / "duties.jsonl"
    sample[["text", "label"]].to_json(path, orient="records", lines=True, force_ascii=False)
    return path


def test_estimator_conventions():
    classifier = DutyClassifier(model="linear_svm", C=3.0)
    assert classifier.get_params()["C"] == 3.0
    cloned = clone(classifier)
    assert cloned.get_params() == classifier.get_params() and cloned is not classifier
    assert not hasattr(cloned, "calibrated_")
    with pytest.raises(Exception):
        cloned.predict(["Publicar contenido"])


@pytest.mark.parametrize("family", ["logreg", "linear_svm", "complement_nb"])
def test_every_family_fits_and_gives_probabilities_that_sum_to_one(small_data, family):
    frame = read_labelled(small_data)
    classifier = DutyClassifier(model=family, calibration_folds=2)
    assert classifier.fit(frame["text"], frame["label"]) is classifier
    proba = classifier.predict_proba(["Responder comentarios", "Vender por WhatsApp", "Editar videos"])
    assert proba.shape == (3, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(classifier.classes_) == set(LABELS)


def test_unknown_labels_and_families_are_refused(small_data):
    with pytest.raises(ValueError, match="unknown labels"):
        DutyClassifier().fit(["a", "b"], ["marketing", "other"])
    with pytest.raises(ValueError, match="unknown model family"):
        DutyClassifier(model="forest").fit(*read_labelled(small_data)[["text", "label"]].T.values)


def test_training_is_reproducible_byte_for_byte(small_data, tmp_path):
    first = train_model(tmp_path / "a", data=small_data, cv_folds=0)
    # A second process: object ids and hash seeds differ, the saved bytes must not.
    subprocess.run([sys.executable, "-m", "cmclassify", "train", str(small_data), "-o", str(tmp_path / "b"), "--cv", "0",
                    "--part", "labels"],
                   check=True, capture_output=True)
    assert (tmp_path / "a" / MODEL_FILE).read_bytes() == (tmp_path / "b" / MODEL_FILE).read_bytes()
    assert first["training_data"]["sha256"] == json.loads((tmp_path / "b" / CARD_FILE).read_text())["training_data"]["sha256"]
    assert first["training_data"]["rows"] == 120


def test_save_load_round_trip_and_trust(small_data, tmp_path):
    train_model(tmp_path, data=small_data, classifier=DutyClassifier(calibration_folds=2), cv_folds=2)
    with pytest.raises(ModelError, match="trusted=True"):
        load_model(tmp_path)
    loaded = load_model(tmp_path, trusted=True)
    texts = ["Publicar las promociones del mes en Instagram", "Moderar comentarios"]
    assert list(loaded.predict(texts)) == list(load_model(tmp_path, trusted=True).predict(texts))
    card = json.loads((tmp_path / CARD_FILE).read_text())
    assert card["format_version"] == FORMAT_VERSION and card["labels"] == list(LABELS)
    assert card["metrics"]["cross_validation"]["folds"] == 2
    assert {"scikit-learn", "spacy", "simplemma"} <= set(card["library_versions"])


def test_tampered_or_foreign_model_is_refused(tmp_path):
    shutil.copytree(models_dir(), tmp_path / "model")
    model_path = tmp_path / "model" / MODEL_FILE
    data = bytearray(model_path.read_bytes())
    data[-10] ^= 0xFF
    model_path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        load_model(tmp_path / "model", trusted=True)
    shutil.copy(models_dir() / MODEL_FILE, model_path)
    card_path = tmp_path / "model" / CARD_FILE
    card = json.loads(card_path.read_text())
    card_path.write_text(json.dumps({**card, "format_version": 99}))
    with pytest.raises(ModelError, match="model format 99, newer"):
        load_model(tmp_path / "model", trusted=True)
    card_path.write_text(json.dumps({**card, "format_version": 1}))
    with pytest.raises(ModelError, match="model format 1, older"):
        load_model(tmp_path / "model", trusted=True)


def test_shipped_model_matches_its_card():
    card = json.loads((models_dir() / CARD_FILE).read_text())
    written = len(read_labelled(default_training_data()).drop_duplicates(subset=["text", "label"]))
    data = card["training_data"]
    assert data["rows"] == written + data["annotated_duties"] and data["annotated_duties"] > 0
    assert "ads.jsonl" in data["files"]
    assert load_model().predict(["Publicar contenido"])[0] in LABELS


@needs_corpus
def test_training_reproduces_the_shipped_function_tagger(tmp_path):
    from cmclassify.model_files import FUNCTIONS_MODEL

    assert main(["train", "-o", str(tmp_path), "--part", "functions", "--corpus", str(CORPUS)]) == 0
    made = tmp_path / f"{FUNCTIONS_MODEL}.joblib"
    assert made.read_bytes() == (models_dir() / f"{FUNCTIONS_MODEL}.joblib").read_bytes()


# Contrast pairs from the codebook's grey-zone rules: same channel or activity, different purpose.
CONTRASTS = [
    ("Publicar contenido en Instagram", "communication_conversation",
     "Publicar las promociones del mes en Instagram", "marketing_sales"),                      # rule 1
    ("Responder mensajes de la comunidad", "communication_conversation",
     "Responder mensajes y cerrar ventas", "marketing_sales"),                                  # rule 2
    ("Difundir campañas de concientización en redes", "communication_conversation",
     "Gestionar campañas pagas en Meta Ads", "marketing_sales"),                                # rule 3
    ("Definir la estrategia de contenidos", "communication_conversation",
     "Definir la estrategia de captación de clientes", "marketing_sales"),                      # rule 4
    ("Elaborar reportes mensuales de alcance", "other",
     "Elaborar reportes mensuales de ventas y conversiones", "marketing_sales"),                # rule 5
    ("Atender consultas de clientes por redes sociales", "communication_conversation",
     "Gestionar devoluciones y pagos de pedidos", "other"),                                     # rule 6
    ("Diseñar piezas en Canva", "other", "Diseñar las piezas de las promociones", "marketing_sales"),  # rule 7
    ("Editar reels", "other", "Editar videos para anuncios pagos", "marketing_sales"),          # rule 7
]


@pytest.mark.parametrize("text_a, label_a, text_b, label_b", CONTRASTS)
def test_codebook_contrasts(text_a, label_a, text_b, label_b):
    labelled = classify_duties([text_a, text_b])
    assert labelled["label"].tolist() == [label_a, label_b]
    probabilities = labelled[["p_marketing_sales", "p_communication_conversation", "p_other"]].to_numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def test_classify_duties_columns_and_evidence():
    labelled = classify_duties(["Incrementar las ventas de la tienda online"])
    assert list(labelled.columns) == ["text", "label", "p_marketing_sales", "p_communication_conversation", "p_other", "evidence"]
    assert "venta" in labelled.loc[0, "evidence"]
    assert classify_duties([]).empty


def test_train_and_info_commands(small_data, tmp_path, capsys):
    extra = tmp_path / "extra.csv"
    pd.DataFrame({"text": ["Cobrar a los clientes en caja"], "label": ["other"]}).to_csv(extra, index=False)
    assert main(["train", str(small_data), "-o", str(tmp_path / "m"), "--extra", str(extra), "--cv", "0",
                 "--part", "labels"]) == 0
    assert json.loads((tmp_path / "m" / CARD_FILE).read_text())["training_data"]["rows"] == 121
    assert main(["info", "--model", str(tmp_path / "m")]) == 0
    assert "intended use" in capsys.readouterr().out
    assert main(["info", "--model", str(tmp_path / "nothing")]) == 1


def test_sentence_detector_learns_each_kind_with_enough_examples():
    from cmclassify.estimators import SentenceDetector

    texts = ["Edad entre 25 y 35 años", "Edad máxima 40 años", "Menor de 30 años", "Entre 20 y 30 años de edad",
             "Rango de edad 25 a 40", "Buena presencia", "Publicar contenido", "Responder mensajes",
             "Diseñar piezas", "Vender productos", "Atender clientes", "Experiencia en ventas"]
    kinds = [{"discrimination:age"}] * 5 + [{"discrimination:appearance"}] + [set()] * 6
    frame = pd.DataFrame({"text": texts, "lemmas": [t.lower() for t in texts]})
    detector = SentenceDetector(min_positives=5).fit(frame, kinds)
    assert list(detector.kinds_) == ["discrimination:age"]  # one example of appearance is too few to learn
    proba = detector.predict_proba(pd.DataFrame({"text": ["Edad entre 30 y 45 años", "Publicar contenido"],
                                                 "lemmas": ["edad entre 30 y 45 años", "publicar contenido"]}))
    assert list(proba.columns) == ["discrimination:age"]
    assert proba["discrimination:age"].iloc[0] > proba["discrimination:age"].iloc[1]


def test_a_model_folder_becomes_models_with_what_it_holds(tmp_path):
    from cmclassify import Models
    from cmclassify.model_files import load_models, save_model

    save_model(load_model(), tmp_path, {"model_version": "test"})
    with pytest.raises(ModelError, match="trusted=True"):
        load_models(tmp_path)
    models = load_models(tmp_path, trusted=True)
    assert isinstance(models, Models) and isinstance(models.duty_labels, DutyClassifier)
    assert models.duty_extraction is None and models.findings is None and models.cm_role is None
    with pytest.raises(ModelError, match="no cmclassify model"):
        load_models(tmp_path / "empty", trusted=True)
