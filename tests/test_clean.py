import pytest

from cmclassify.clean import clean, html_to_text, repair_seams, strip_boilerplate


@pytest.mark.parametrize("glued, repaired", [
    ("Resumen del PuestoEstamos buscando", "Resumen del Puesto Estamos buscando"),
    ("métricas.Responsabilidades Gestionar", "métricas. Responsabilidades Gestionar"),
    ("RequisitosExperiencia previa", "Requisitos Experiencia previa"),
    ("contenidos digitales.RequisitosExperiencia", "contenidos digitales. Requisitos Experiencia"),
    ("Buenos AiresBuscamos una persona", "Buenos Aires Buscamos una persona"),
    ("(excluyente)Buscamos", "(excluyente) Buscamos"),
    ("Zona: Once.Lunes a viernes", "Zona: Once. Lunes a viernes"),
    ("Requisitos:Experiencia", "Requisitos: Experiencia"),
    ("ventasREQUISITOS", "ventas REQUISITOS"),
    ("manejo de TikTokFunciones", "manejo de TikTok Funciones"),
])
def test_glued_seams_are_split(glued, repaired):
    assert repair_seams(glued) == repaired


@pytest.mark.parametrize("brand", ["TikTok", "LinkedIn", "WhatsApp", "YouTube", "MercadoLibre", "iPhone",
                                   "PlayStation", "HubSpot", "WordPress", "PowerPoint", "eCommerce"])
def test_brand_names_stay_whole(brand):
    assert repair_seams(f"Publicar en {brand} todos los días") == f"Publicar en {brand} todos los días"


def test_numbers_and_abbreviations_are_not_split():
    text = "Sueldo $1.500.000 por mes, S.A. de C.V. y www.empresa.com"
    assert repair_seams(text) == text


def test_html_list_items_become_lines_and_entities_decode():
    text = html_to_text("<p>Funciones:</p><ul><li>Gestionar &amp; moderar</li><li>Crear <b>contenido</b></li></ul>")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines == ["Funciones:", "Gestionar & moderar", "Crear contenido"]


def test_script_and_style_are_dropped_but_escaped_markup_stays_text():
    cleaned = clean("<script>alert(1)</script><p>Gestionar las redes sociales de la empresa y &lt;b&gt;moderar&lt;/b&gt; los comentarios</p>")
    assert "alert" not in cleaned.text
    assert "<b>moderar</b>" in cleaned.text


def test_unicode_is_nfc_and_invisible_characters_go():
    cleaned = clean("Gestio\u0301n de\u200b redes   sociales\u00a0de la marca y respuesta de los mensajes")
    assert cleaned.text == "Gestión de redes sociales de la marca y respuesta de los mensajes"


def test_portal_menu_and_footer_are_removed():
    raw = ("Buscar Aplicaciones Avisos Favoritos Menú Volver al listado Community Manager Empresa - Bogotá "
           "Oferta Descripción de la oferta Buscamos community manager para gestionar redes. "
           "Aplicar Avísame con ofertas similares Denunciar empleo Ofertas similares Otro aviso")
    assert strip_boilerplate(raw) == " Buscamos community manager para gestionar redes. "


@pytest.mark.parametrize("raw, status", [
    ("", "empty"),
    ("   \n\t ", "empty"),
    ("We are looking for a social media manager to join our team in the city and grow with us", "ok"),
    ("Busquem una persona per gestionar les xarxes socials de l'empresa i crear continguts per a Instagram", "not_spanish"),
    ("Procuramos um profissional para gerir as redes sociais da empresa e responder às mensagens dos clientes",
     "not_spanish"),
    ("\x00\x01\x02\x03\x04\x05\x06\x07 abc", "garbled"),
    ("#### 1234 5678 ---- ////", "garbled"),
    ("Empleo: Director de sucursales - Nuevo León", "ok"),
    ("Buscamos community manager para gestionar las redes sociales de la empresa", "ok"),
])
def test_status(raw, status):
    assert clean(raw).status == status


@pytest.mark.parametrize("raw, language, named", [
    ("Busquem una persona per gestionar les xarxes socials de l'empresa i crear continguts per a Instagram", "ca",
     "Catalan"),
    ("Procuramos um profissional para gerir as redes sociais da empresa e responder às mensagens dos clientes", "pt",
     "Portuguese"),
    ("We are looking for a social media manager to join our team in the city and grow with us", "en", "English"),
    # Capitals, no accents, nouns only: the hard case for a language identifier.
    ("AUXILIAR DE DEPOSITO, ETIQUETADO, CARGA Y DESCARGA, DESPACHO DE PEDIDOS, CONTROL DE STOCK", "es", ""),
])
def test_language_is_named(raw, language, named):
    cleaned = clean(raw)
    assert cleaned.language == language
    assert named in cleaned.message


def test_long_text_is_cut_with_a_message():
    cleaned = clean("Gestionar las redes sociales de la empresa. " * 3000, max_chars=20_000)
    assert cleaned.status == "ok"
    assert len(cleaned.text) == 20_000
    assert "cut at 20,000 characters (the ad had 132,000 characters before cleaning)" in cleaned.message
