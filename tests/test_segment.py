import pytest

from cmclassify import load_nlp
from cmclassify.clean import clean
from cmclassify.segment import cut_duties, find_sections


def duties(text):
    cleaned = clean(text).text
    return [cleaned[d.start:d.end] for d in cut_duties(cleaned)]


TASKS = ["Gestionar las redes sociales de la marca", "Responder mensajes y comentarios", "Crear contenido para Instagram"]


@pytest.mark.parametrize("bullet", ["•", "-", "*", "·", "✓", "✅", "👉", "▪", "➤", "–"])
def test_every_bullet_style(bullet):
    text = "Funciones:\n" + "\n".join(f"{bullet} {t}" for t in TASKS) + "\nRequisitos:\n- Experiencia de 2 años"
    assert duties(text) == TASKS


@pytest.mark.parametrize("bullet", ["•", "-", "✓", "👉"])
def test_bullets_on_one_line(bullet):
    text = "Funciones: " + " ".join(f"{bullet} {t}." for t in TASKS) + " Requisitos: experiencia de 2 años."
    assert duties(text) == TASKS


@pytest.mark.parametrize("numbering", ["{n}.", "{n})", "{letter})"])
def test_numbered_lists(numbering):
    items = [numbering.format(n=i + 1, letter="abc"[i]) + " " + t for i, t in enumerate(TASKS)]
    assert duties("Tareas:\n" + "\n".join(items)) == TASKS


@pytest.mark.parametrize("header", [
    "Funciones:", "Funciones", "FUNCIONES:", "Responsabilidades:", "Responsabilidades", "Tareas principales:",
    "¿Qué vas a hacer?", "Tu día a día:", "Principales responsabilidades:", "Tus principales responsabilidades serán:",
    "¿Cuáles serán tus funciones?", "Funciones del puesto:", "🎯 Responsabilidades",
])
def test_duty_headers_with_and_without_colons(header):
    text = f"Somos una empresa de moda. {header} {TASKS[0]}. {TASKS[1]}. Requisitos: Experiencia previa. Ofrecemos: Buen clima."
    assert duties(text) == TASKS[:2]


def test_glued_headers():
    text = "Empresa de indumentaria.Responsabilidades Definir la estrategia de contenidos. Planificar el calendario editorial.RequisitosExperiencia previa en moda."
    assert duties(text) == ["Definir la estrategia de contenidos", "Planificar el calendario editorial"]


def test_items_run_together_without_bullets():
    text = ("Responsabilidades: Administración de las cuentas (Instagram, TikTok y LinkedIn) Planificación del "
            "calendario de publicaciones Moderación de comentarios en las cuentas Seguimiento mensual del alcance Requisitos: Experiencia")
    assert duties(text) == ["Administración de las cuentas (Instagram, TikTok y LinkedIn)",
                            "Planificación del calendario de publicaciones", "Moderación de comentarios en las cuentas",
                            "Seguimiento mensual del alcance"]


def test_semicolons_separate_duties_but_commas_do_not():
    text = "Funciones: responder mensajes, moderar comentarios y publicar historias; diseñar piezas en Canva; medir el alcance"
    assert duties(text) == ["responder mensajes, moderar comentarios y publicar historias", "diseñar piezas en Canva", "medir el alcance"]


def test_requirements_benefits_and_application_are_not_duties():
    text = ("Funciones:\n- Moderar la comunidad de la marca\n"
            "Requisitos:\n- Gestionar equipos de 5 personas\n- Manejo de Canva\n"
            "Beneficios:\n- Crecer en la empresa\n"
            "Enviar CV a rrhh@empresa.com")
    assert duties(text) == ["Moderar la comunidad de la marca"]


def test_profile_sentence_after_the_list_is_not_a_duty():
    text = "Tareas: Publicar contenido en Instagram. Responder consultas. Buscamos una persona proactiva que tenga ganas de crecer."
    assert duties(text) == ["Publicar contenido en Instagram", "Responder consultas"]


def test_repeated_list_is_counted_once():
    text = "Funciones: - Responder mensajes - Crear contenido. Funciones: - Responder mensajes - Crear contenido."
    assert duties(text) == ["Responder mensajes", "Crear contenido"]


def test_without_a_functions_header_task_sentences_are_duties():
    text = ("Somos una agencia de marketing en crecimiento. Serás responsable de gestionar las redes de nuestros clientes. "
            "Vas a crear contenido para Instagram y TikTok. Requisitos: experiencia de 2 años.")
    assert duties(text) == ["Serás responsable de gestionar las redes de nuestros clientes",
                            "Vas a crear contenido para Instagram y TikTok"]


@pytest.mark.parametrize("sentence", [
    "Gestioná las redes de la marca y respondé a la comunidad",     # voseo (Argentina)
    "Gestionarás las redes de la marca y la comunidad",              # tú future (Spain)
    "El objetivo del puesto es administrar la presencia digital de la marca",
])
def test_task_sentences_in_every_register(sentence):
    assert duties(f"Empresa de alimentos con 20 años en el mercado. {sentence}. Ofrecemos: buen clima laboral.") == [sentence]


def test_summary_restating_the_list_is_skipped():
    text = ("Tu misión: liderar la comunicación digital de la marca. "
            "Responsabilidades: - Planificar el calendario editorial - Moderar comentarios")
    assert duties(text) == ["Planificar el calendario editorial", "Moderar comentarios"]


def test_sections_are_labelled():
    labels = [s.label for s in find_sections("Intro. Funciones: Hacer. Requisitos: Saber. Beneficios: Obra social. ¿Cómo postularte? Mail.")]
    assert labels == ["intro", "duties", "requirements", "offer", "apply"]


def test_pipeline_writes_duty_spans_with_offsets_and_lemmas():
    nlp = load_nlp()
    assert nlp.pipe_names == ["cmclassify_lemmatizer", "cmclassify_sections", "cmclassify_duties",
                              "cmclassify_duty_labels", "cmclassify_judge"]
    doc = nlp("Funciones: Gestionar las redes sociales. Responder los mensajes de los clientes. Requisitos: experiencia.")
    spans = doc.spans["duties"]
    assert [s.text for s in spans] == ["Gestionar las redes sociales", "Responder los mensajes de los clientes"]
    assert all(doc.text[s.start_char:s.end_char] == s.text for s in spans)
    assert [t.lemma_ for t in spans[0]] == ["gestionar", "el", "red", "social"]
    assert {s.label_ for s in doc.spans["sections"]} == {"duties", "requirements"}


@pytest.mark.parametrize("duty", [
    "Manejar la inversión publicitaria ($ 5.000 por mes)",
    "Gestionar una pauta mensual de $5.000 en Meta Ads",
    "Vender $5.000 por mes en la tienda online",
    "Administrar un presupuesto de 3000 pesos semanales",
])
def test_a_duty_holding_an_amount_is_kept(duty):
    """Issue 15: a peso amount or a dollar sign in a duty no longer makes it application or pay text."""
    ad = f"Funciones:\n* {duty}\n* Diseñar piezas\n* Moderar la comunidad"
    spans = cut_duties(clean(ad).text)
    assert [clean(ad).text[d.start:d.end] for d in spans][0] == duty
    doc = load_nlp()(clean(ad).text)
    assert duty in [span.text for span in doc.spans["duties"]]


def test_pay_with_an_amount_is_still_not_a_duty():
    text = clean("Funciones:\n- Responder mensajes\n- Publicar historias\n- Pago mensual de $5.000 por transferencia").text
    assert [text[d.start:d.end] for d in cut_duties(text)] == ["Responder mensajes", "Publicar historias"]
