import pytest

from cmclassify import FlagRules, analyse, analyse_text

LIST = "Responsabilidades:\n"


def judged(text, title="Community Manager", rules=None):
    result = analyse_text(text, title=title) if rules is None else analyse(
        [text], progress=False, rules=rules)
    return result.ads.iloc[0], result


def reasons(text, title="Community Manager"):
    ad, _ = judged(text, title)
    return set(filter(None, str(ad["alchemist_reasons"]).split(",")))


def hand_rules_only():
    """The default rules with no letter waiting for the sentence detector's agreement."""
    rules = FlagRules.default()
    return FlagRules(rules.patterns, rules.titles, rules.messages, rules.detectors.model_copy(update={"confirm": []}))


SALES_FOR_THE_COMPANY = ("Buscamos CM para aumentar las ventas de la empresa a través de las redes. " + LIST
                         + "- Publicar contenido\n- Responder mensajes")
GROWTH_OF_THE_BUSINESS = "Tu misión será hacer crecer el negocio desde las redes. " + LIST + "- Crear contenido\n- Moderar comentarios"


@pytest.mark.parametrize("text", [
    SALES_FOR_THE_COMPANY,
    LIST + "- Liderar la transformación digital de la compañía\n- Publicar contenido en Instagram",
    LIST + "- Posicionar a la empresa como líder del sector\n- Gestionar la comunidad",
    GROWTH_OF_THE_BUSINESS,
])
def test_outcome_overreach_positive_by_the_hand_rules(text):
    ad, _ = judged(text, rules=hand_rules_only())
    assert "A" in str(ad["alchemist_reasons"])


@pytest.mark.parametrize("text", [SALES_FOR_THE_COMPANY, GROWTH_OF_THE_BUSINESS])
def test_outcome_overreach_the_detector_confirms(text):
    # The hand rules' A stands when the sentence detector agrees (detectors.yaml "confirm", chosen by CV).
    assert "A" in reasons(text)


@pytest.mark.parametrize("text, title", [
    (LIST + "- Publicar contenido en Instagram\n- Responder mensajes y comentarios", "Community Manager"),
    (LIST + "- Cumplir los objetivos de ventas mensuales\n- Atender clientes por WhatsApp", "Vendedor con manejo de redes sociales"),
    ("Requisitos:\n- Experiencia en aumentar las ventas de marcas de moda\n" + LIST + "- Crear contenido", "Community Manager"),
    (LIST + "- Brindar atención al cliente por WhatsApp\n- Publicar contenido", "Community Manager"),
])
def test_outcome_overreach_negative(text, title):
    assert "A" not in reasons(text, title)


OVERLOADED = (LIST + "- Gestionar las redes sociales\n- Redactar artículos para el blog\n- Diseñar piezas gráficas en Canva\n"
              "- Editar videos para YouTube\n- Administrar campañas de Meta Ads\n- Optimizar el SEO del sitio web\n"
              "- Enviar campañas de email marketing")


def test_scope_overload_counts_functions():
    ad, result = judged(OVERLOADED)
    assert "B" in str(ad["alchemist_reasons"]) and bool(ad["alchemist"])
    assert ad["n_functions"] >= 6
    assert set(result.findings[result.findings["reason"] == "B"]["evidence"]) <= set(result.duties["text"])


def test_the_expected_function_count_sums_each_functions_best_duty_and_skips_supporting_duties():
    import pandas as pd
    import spacy

    from cmclassify.flag import expected_functions

    doc = spacy.blank("es")("uno dos tres")
    duties = [doc[0:1], doc[1:2], doc[2:3]]
    proba = pd.DataFrame({"social_media": [0.9, 0.2, 0.0], "graphic_design": [0.1, 0.7, 0.95],
                          "web": [0.0, 0.3, 0.0]})
    expected, functions = expected_functions(proba, duties, [False, False, False])
    assert expected == pytest.approx(0.9 + 0.95 + 0.3)
    assert list(functions) == ["social_media", "graphic_design"]  # 2.15 rounds to two, the most probable
    assert functions["graphic_design"] is duties[2]
    expected, functions = expected_functions(proba, duties, [False, False, True])
    assert expected == pytest.approx(0.9 + 0.7 + 0.3) and functions["graphic_design"] is duties[1]
    assert expected_functions(proba, duties, [True, True, True]) == (0.0, {})


def test_the_hand_function_rules_count_when_the_tagger_is_off():
    from cmclassify import load_nlp
    from cmclassify.flag import JUDGE

    nlp = load_nlp()
    nlp.get_pipe(JUDGE).use_function_model = False
    doc = nlp(OVERLOADED)
    assert "B" in doc._.alchemist_reasons and len(doc._.functions) >= 6


def test_supporting_duties_and_requirements_do_not_count_for_scope():
    text = (LIST + "- Gestionar las redes sociales\n- Apoyar al equipo de diseño con piezas gráficas\n"
            "- Colaborar con el área web en el SEO\n- Asistir al equipo de ventas con cotizaciones\n"
            "Requisitos:\n- Manejo de Canva, Premiere, Google Ads, WordPress y Mailchimp")
    ad, _ = judged(text)
    assert "B" not in str(ad["alchemist_reasons"])
    assert ad["n_functions"] == 1


@pytest.mark.parametrize("text", [
    "Serás el único responsable de toda la comunicación de la empresa. " + LIST + "- Publicar contenido",
    "Trabajarás sin equipo de marketing y serás responsable de toda la estrategia digital. " + LIST + "- Crear contenido",
])
def test_sole_ownership_positive(text):
    assert "C" in reasons(text)


@pytest.mark.parametrize("text", [
    "Serás responsable de toda la comunicación y trabajarás con el equipo de diseño y ventas. " + LIST + "- Crear contenido",
    "Formarás parte del equipo de marketing, reportando a la gerencia. " + LIST + "- Publicar contenido",
    "Requisitos: capacidad de trabajar de forma autónoma. " + LIST + "- Publicar contenido",
])
def test_sole_ownership_negative(text):
    assert "C" not in reasons(text)


def test_facade_positive_and_negative():
    assert "D" in reasons(LIST + "- Responder los reclamos de los clientes en redes sociales\n- Publicar contenido")
    escalated = LIST + "- Responder los reclamos en redes sociales y derivarlos al área de atención al cliente según el protocolo"
    assert "D" not in reasons(escalated)


def test_mismatch_needs_junior_post_and_ownership():
    owned = LIST + "- Definir la estrategia digital de la empresa\n- Publicar contenido"
    assert "E" in reasons(owned, title="Community Manager Junior")
    assert "E" not in reasons(owned, title="Community Manager Senior")
    guided = LIST + "- Ejecutar la estrategia conforme a los lineamientos de la gerencia\n- Publicar contenido"
    assert "E" not in reasons(guided, title="Pasante de Community Manager")


def test_lone_mismatch_is_recorded_but_flag_stays_false():
    ad, _ = judged(LIST + "- Definir la estrategia de redes sociales\n- Publicar contenido", title="Community Manager Jr")
    assert ad["alchemist_reasons"] == "E" and not ad["alchemist"]


@pytest.mark.parametrize("text, expected", [
    ("Requisitos:\n- Tener mínimo 10k seguidores en Instagram\n" + LIST + "- Crear contenido", True),
    ("Requisitos:\n- Ser influencer con comunidad propia\n" + LIST + "- Crear contenido", True),
    ("No necesitás ser influencer. " + LIST + "- Crear contenido", False),
    ("Requisitos:\n- Experiencia gestionando cuentas de marcas con más de 100k seguidores\n" + LIST + "- Crear contenido", False),
])
def test_follower_credential(text, expected):
    ad, _ = judged(text)
    assert bool(ad["follower_credential"]) is expected


@pytest.mark.parametrize("title, expected", [
    ("Ninja de las redes sociales", True), ("Gurú Digital", True), ("Experta en Redes Sociales", True),
    ("Rockstar del contenido", True), ("Community Manager Senior", False), ("Especialista en Redes Sociales", False),
    # "máquina" inflates a person ("una máquina de vender"), not the machine an operator runs (codebook)
    ("Community Manager, una máquina de las ventas", True), ("Operario de máquina", False),
    ("Operador de máquinas de corte", False),
])
def test_hype_title(title, expected):
    ad, result = judged(LIST + "- Publicar contenido en Instagram", title=title)
    assert bool(ad["hype_title"]) is expected
    for finding in result.findings[result.findings["flag"] == "hype_title"].itertuples():
        assert title[finding.start:finding.end] == finding.evidence


@pytest.mark.parametrize("title, text, expected", [
    ("Community Manager", "Somos una pyme.", True),
    ("Vendedor con manejo de redes sociales", LIST + "- Vender productos por WhatsApp\n"
                                                     "- Responder consultas de clientes en Instagram\n- Cobrar en caja", False),
    ("Administrador de redes", LIST + "- Configurar routers y switches\n- Mantener la red LAN", False),
    ("Asesor de chat en redes sociales", LIST + "- Responder mensajes de clientes por Facebook\n- Registrar casos", False),
    ("Asistente administrativo", LIST + "- Emitir facturas a clientes\n- Archivar la documentación\n"
                                        "- Atender llamadas telefónicas\n- Publicar avisos en redes sociales", False),
    ("Diseñador gráfico y social media", LIST + "- Diseñar piezas\n- Publicar contenido en Instagram", True),
    ("Auxiliar de comunicación", LIST + "- Gestionar las redes sociales de la fundación\n- Crear contenido para Instagram\n- Organizar eventos", True),
])
def test_is_cm_role(title, text, expected):
    ad, _ = judged(text, title)
    assert bool(ad["is_cm_role"]) is expected


def test_every_evidence_offset_points_at_its_quote():
    _, result = judged("Buscamos CM Jr para aumentar las ventas de la empresa. " + OVERLOADED, title="Gurú de las redes (Jr)")
    assert len(result.findings) > 3
    for finding in result.findings.itertuples():
        source = result.ads.iloc[0]["clean_text"] if finding.field == "text" else result.ads.iloc[0]["title"]
        assert source[finding.start:finding.end] == finding.evidence
        assert finding.explanation_es and finding.explanation_en and finding.suggestion_es and finding.suggestion_en


def test_user_pattern_file_extends_and_replaces(tmp_path):
    text = LIST + "- Ser la cara visible de la marca en todos los canales\n- Publicar contenido"
    assert "A" not in reasons(text)
    extra = tmp_path / "mine.yaml"
    extra.write_text("outcome_overreach:\n  - cara visible de * marca\nhype:\n  - '\\\\bcapo\\\\b'\n", encoding="utf-8")
    rules = FlagRules.load(extra)
    rules = FlagRules(rules.patterns, rules.titles, rules.messages, hand_rules_only().detectors)
    result = analyse([text], progress=False, rules=rules)
    assert "A" in result.ads.iloc[0]["alchemist_reasons"]
    assert "transformación digital" in str(FlagRules.load(extra).patterns.outcome_overreach)  # defaults kept
    replaced = FlagRules.load(extra, replace=True)
    assert replaced.patterns.outcome_overreach == ["cara visible de * marca"]


def test_explain_reads_like_a_report():
    ad, result = judged(OVERLOADED, title="Ninja de las redes")
    report = result.explain()
    assert "scope_overload" in report and "Suggestion" in report and "Ninja" in report
    assert "Sugerencia" in result.explain(lang="es")


# Discriminatory requirements (codebook): found by the learned sentence detector, with the sentence as
# evidence and an explanation and suggestion in both languages. Ads written for the tests.
SCREENING_AD = ("Buscamos asistente de ventas para nuestro local.\nFunciones:\n- Atender a los clientes en el salón\n"
                "- Ordenar la mercadería\nRequisitos:\n- Edad entre 25 y 35 años\n- Excelente presencia\n"
                "- Secundario completo")


def test_discriminatory_requirements_are_flagged_with_their_grounds_and_evidence():
    ad, result = judged(SCREENING_AD, title="Asistente de ventas")
    assert bool(ad["discriminatory_requirement"])
    assert {"age", "appearance"} <= set(ad["discrimination_grounds"].split(","))
    found = result.findings[result.findings["flag"] == "discriminatory_requirement"]
    by_ground = {reason: set(group["evidence"]) for reason, group in found.groupby("reason")}
    assert "Edad entre 25 y 35 años" in by_ground["age"] and "Excelente presencia" in by_ground["appearance"]
    text = ad["clean_text"]
    assert all(text[r.start:r.end] == r.evidence for r in found.itertuples())
    assert found["explanation_es"].str.contains("edad").any() and found["suggestion_en"].str.len().gt(0).all()
    assert "discriminatory_requirement" in result.explain()


@pytest.mark.parametrize("text", [
    LIST + "- Gestionar las redes sociales de la marca\n- Responder mensajes\nRequisitos:\n- Mayor de 18 años\n"
           "- Experiencia de dos años en redes sociales",
    LIST + "- Publicar contenido en Instagram\nRequisitos:\n- Estudios en comunicación\n- Disponibilidad horaria",
])
def test_legal_minimum_age_and_job_requirements_are_not_discriminatory(text):
    ad, _ = judged(text)
    assert not bool(ad["discriminatory_requirement"]) and ad["discrimination_grounds"] == ""


def test_a_letter_to_confirm_stands_only_when_the_detector_agrees():
    text = "Buscamos CM para aumentar las ventas de la empresa a través de las redes. " + LIST + "- Publicar contenido"
    rules = FlagRules.default()
    strict = FlagRules(rules.patterns, rules.titles, rules.messages, rules.detectors.model_copy(
        update={"confirm": ["A"], "thresholds": {**rules.detectors.thresholds, "A": 0.999}}))
    lenient = FlagRules(rules.patterns, rules.titles, rules.messages, rules.detectors.model_copy(
        update={"confirm": ["A"], "thresholds": {**rules.detectors.thresholds, "A": 0.001}}))
    unconfirmed = FlagRules(rules.patterns, rules.titles, rules.messages, rules.detectors.model_copy(
        update={"confirm": []}))
    assert "A" not in str(judged(text, rules=strict)[0]["alchemist_reasons"])
    assert "A" in str(judged(text, rules=lenient)[0]["alchemist_reasons"])
    assert "A" in str(judged(text, rules=unconfirmed)[0]["alchemist_reasons"])


def test_grounds_come_from_the_detector_and_from_the_hand_patterns():
    rules = FlagRules.default()
    no_detector = rules.detectors.model_copy(update={"use": []})
    no_patterns = rules.patterns.model_copy(update={"discrimination": None})
    patterns_only = FlagRules(rules.patterns, rules.titles, rules.messages, no_detector)
    detector_only = FlagRules(no_patterns, rules.titles, rules.messages, rules.detectors)
    neither = FlagRules(no_patterns, rules.titles, rules.messages, no_detector)
    for each in (patterns_only, detector_only):
        assert judged(SCREENING_AD, rules=each)[0]["discrimination_grounds"] == "age,appearance"
    assert not bool(judged(SCREENING_AD, rules=neither)[0]["discriminatory_requirement"])


@pytest.mark.parametrize("text, grounds", [
    ("Edad: entre 25 y 35 años", ["age"]), ("Menor de 40 años", ["age"]), ("Mayor de 30 años", ["age"]),
    ("Mayor de 18 años", []), ("Entre 18 y 99 años", []), ("Experiencia de 15 a 20 años", []),
    ("De 2 a 5 años de experiencia", []), ("Entre 20 y 25 años de experiencia en ventas", []),
    ("Sexo masculino", ["sex"]), ("Sexo indistinto", []), ("Buscamos señorita para atender el local", ["sex"]),
    ("Buscamos hombres y mujeres para ventas", []), ("Solo mujeres", ["sex"]),
    ("Excelente presencia", ["appearance"]), ("Presentación personal impecable", ["appearance"]),
    ("Preparar la presentación mensual de resultados", []),
])
def test_hand_screening_patterns_follow_the_codebook(text, grounds):
    from cmclassify.clean import fold
    from cmclassify.flag import ScreeningPatterns

    assert ScreeningPatterns(FlagRules.default().patterns.discrimination).grounds(fold(text)) == grounds
