"""The pipeline must never fetch anything: no model download, no network at run time."""

import socket

import pytest

import cmclassify


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_pipeline_runs_without_network(no_network):
    nlp = cmclassify.load_nlp()
    assert nlp.meta["lang"] == "es"
    result = cmclassify.analyse_text("Funciones: - Responder mensajes y comentarios - Crear contenido")
    assert result.ads.loc[0, "status"] == "ok"


def test_no_spacy_model_package_is_loaded():
    nlp = cmclassify.load_nlp()
    assert nlp.meta["name"] == "pipeline"  # spacy.blank, not a downloaded model
    assert all(not name.startswith(("tok2vec", "transformer")) for name in nlp.pipe_names)
