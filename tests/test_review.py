"""Issue 15: the review of one ad (`cmclassify review`, `review_ad`) and the review page (`cmclassify serve`)."""

from __future__ import annotations

import html as html_lib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from cmclassify import review as review_module
from cmclassify.cli import main
from cmclassify.review import MAX_TEXT, apply_fix, review_ad, rewrite_sentence
from cmclassify.serve import MAX_BODY, create_app, is_loopback
from tests.test_report import SENTINEL_IMG, SENTINEL_SCRIPT, Page

# Written for these tests: every flag the review can fix, in one ad.
TITLE = "Community Manager Jr"
AD = """Buscamos Community Manager Jr para aumentar las ventas de la empresa.
Funciones:
- Gestionar las redes sociales (Instagram, TikTok)
- Responder mensajes y comentarios
- Publicar las promociones del mes
- Diseñar piezas en Canva y editar videos
- Gestionar campañas de Google Ads
- Mantener la página web y el SEO
- Definir la estrategia digital de la marca
- Atender los reclamos de clientes por redes
Requisitos: buena presencia, más de 10.000 seguidores en Instagram.
Sueldo $5.000 mensuales."""
PLAIN = """Funciones:
- Responder comentarios y mensajes de la comunidad
- Publicar contenido en Instagram según el calendario editorial
Requisitos: experiencia en redes sociales."""
# The report's payloads (tests/test_report.py), and ways out of the page's form fields.
HOSTILE_TITLE = f'Gurú {SENTINEL_IMG} {SENTINEL_SCRIPT} "><svg onload=alert(13)>'
HOSTILE_AD = ("Funciones:\n- Responder mensajes <script>alert(12)</script>\n"
              f"- Aumentar las ventas de la empresa {SENTINEL_IMG}\n- Crear contenido para Instagram \" onmouseover=alert(1) x=\"\n"
              f"- Moderar comentarios </textarea>{SENTINEL_SCRIPT}</script><script>alert(14)</script>")


@pytest.fixture(scope="module")
def reviewed() -> review_module.Review:
    return review_ad(AD, TITLE, "es")


# --- the review ---------------------------------------------------------------------------------

def test_verdict_line_names_role_orientation_and_every_flag(reviewed):
    line = reviewed.verdict()
    assert line.startswith("Puesto de community manager · orientación: conversación")
    assert "Alquimista (A, B, D, E)" in line and "Seguidores como credencial" in line
    assert "Requisito discriminatorio (apariencia física)" in line
    english = review_ad(AD, TITLE, "en").verdict()
    assert english.startswith("A community-manager role · orientation: conversation")
    assert "Discriminatory requirement (appearance)" in english


def test_score_is_explained_by_steps_that_add_up_to_it(reviewed):
    steps = reviewed.steps
    assert [s.what.split(" ·")[0] for s in steps[:3]] == ["A", "D", "E"]
    assert "8 funciones distintas" in steps[-1].what
    assert sum(s.points for s in steps) == pytest.approx(reviewed.ad["alchemist_score"], abs=1e-3)
    assert steps[0].points == pytest.approx(0.55)


def test_fix_first_list_is_ranked_and_quotes_the_ads_own_sentences(reviewed):
    keys = [f.key for f in reviewed.fixes]
    assert keys == ["appearance", "A", "B", "E", "D", "follower_credential"]
    for fix in reviewed.fixes:
        for line in fix.quote.split("\n"):
            assert line in reviewed.text
        assert fix.why and fix.rewrite and fix.rewrite != fix.quote
    by_key = {f.key: f for f in reviewed.fixes}
    assert by_key["appearance"].rewrite == "Requisitos: más de 10.000 seguidores en Instagram"
    assert "equipo comercial" in by_key["A"].rewrite and "aumentar las ventas" not in by_key["A"].rewrite
    assert by_key["D"].rewrite.startswith("Atender los reclamos de clientes por redes y derivarlos")
    assert by_key["E"].rewrite.startswith("Ejecutar, con el acompañamiento")
    # Reason B: five functions split: the design, ads and web duties go to a named team.
    assert "Colaborar con el equipo de diseño" in by_key["B"].rewrite
    team_line = by_key["B"].rewrite.splitlines()[-1]
    assert "Diseñar piezas" in by_key["B"].quote and "diseñar piezas" in team_line
    assert "responder" not in team_line.lower()  # answering messages stays with the post
    assert "redes sociales y comunidad, diseño gráfico, video y fotografía" in by_key["B"].why  # in Spanish


def test_applying_every_fix_clears_the_flags_it_fixes(reviewed):
    text, title = AD, TITLE
    for key in ("appearance", "A", "B", "E", "D"):
        fix = next(f for f in review_ad(text, title).fixes if f.key == key)
        text, title = apply_fix(text, title, fix)
    after = review_ad(text, title)
    assert not after.ad["discriminatory_requirement"] and not after.ad["alchemist"]
    assert after.ad["alchemist_reasons"] == ""
    assert [f.key for f in after.fixes] == ["follower_credential"]
    text, title = apply_fix(text, title, after.fixes[0])
    assert review_ad(text, title).fixes == []
    assert "Sueldo $5.000 mensuales." in text


def test_apply_fix_refuses_a_sentence_no_longer_there(reviewed):
    fix = reviewed.fixes[0]
    assert apply_fix("Otro texto.", TITLE, fix) is None


@pytest.mark.parametrize("key, sentence, expected", [
    ("appearance", "Buena presencia y disponibilidad horaria.", "Disponibilidad horaria."),
    ("age", "Requisitos: tener entre 25 y 35 años, título universitario.", "Requisitos: tener, título universitario."),
    ("age", "Edad: menor de 30 años.", ""),
    ("sex", "Sexo femenino, excluyente.", "Excluyente."),
    ("E", "Liderar nuestra estrategia en redes sociales.",
     "Ejecutar, con el acompañamiento de la dirección de marketing, nuestra estrategia en redes sociales."),
    ("C", "Serás el único responsable de toda la comunicación.",
     "Serás responsable, junto con el equipo de marketing y reportando a la dirección, de toda la comunicación."),
    ("follower_credential", "Ser influencer.", "Tener experiencia demostrable gestionando cuentas de marcas u organizaciones (adjunte ejemplos)."),
    ("religion", "Ingeniero agrónomo.", None),
])
def test_rewrite_sentence(key, sentence, expected):
    assert rewrite_sentence(key, sentence) == expected


@pytest.mark.parametrize("title, expected", [
    ("Se buscan expertos en redes sociales", "Se buscan especialistas en redes sociales"),
    ("Experta en Marketing Digital", "Especialista en Marketing Digital"),
])
def test_hype_title_rewrite_keeps_number_and_case(title, expected):
    fix = next(f for f in review_ad(PLAIN, title).fixes if f.key == "hype_title")
    assert fix.rewrite == expected


def test_hype_title_rewrite_keeps_the_level():
    found = review_ad(PLAIN, "Gurú de Redes Sociales Senior")
    fix = next(f for f in found.fixes if f.key == "hype_title")
    assert fix.field == "title" and fix.rewrite == "Especialista de Redes Sociales Senior"
    assert apply_fix(PLAIN, "Gurú de Redes Sociales Senior", fix) == (PLAIN, "Especialista de Redes Sociales Senior")


def test_an_ad_without_flags_says_there_is_nothing_to_fix():
    found = review_ad(PLAIN, "Community Manager")
    assert found.fixes == [] and "sin alertas" in found.verdict()
    assert "No hay nada que corregir" in found.to_text()
    assert "Conversación 100\u202f% (2 de 2)" in found.to_text()


def test_text_and_page_switch_language():
    spanish, english = review_ad(AD, TITLE, "es"), review_ad(AD, TITLE, "en")
    assert "Corregir primero" in spanish.to_text() and "Fix first" in english.to_text()
    assert "Puntuación alquimista 0,90" in spanish.to_text() and "Alchemist score 0.90" in english.to_text()
    assert "Venta 25\u202f%" in spanish.to_text() and "Selling 25%" in english.to_text()
    page_es, page_en = spanish.to_html(), english.to_html()
    assert '<html lang="es">' in page_es and "Reescritura propuesta" in page_es and "Fix first" not in page_es
    assert '<html lang="en">' in page_en and "Suggested rewrite" in page_en and "Corregir primero" not in page_en
    with pytest.raises(ValueError, match="'es' or 'en'"):
        review_ad(AD, TITLE, "fr")


def test_spanish_words_are_neutral_usted_with_accents():
    spanish = " ".join(review_module.words("es").values())
    assert not re.search(r"\b(vos|tenés|podés|querés|pegá|revisá|probá|hacé|recortá)\b", spanish)
    assert "Revisión" in spanish and "corrección" in spanish and "Pegue" in spanish


def test_page_marks_duties_with_labels_and_findings_with_letters(reviewed):
    page = Page(reviewed.to_html())
    duties = [a for tag, a in page.tags if tag == "mark"]
    assert len(duties) == len(reviewed.duties) == 8
    assert all(a.get("tabindex") == "0" and a.get("data-tip") for a in duties)
    html = reviewed.to_html()
    assert html.count('<span class="tag">[Venta]</span>') == 2
    assert html.count('<span class="tag">[Conversación]</span>') == 4
    assert '<sup class="ev-tag">[R]</sup>' in html and '<sup class="ev-tag">[A]</sup>' in html
    tips = " ".join(a["data-tip"] for a in duties)
    assert "campaña" in tips and "campana" not in tips  # evidence terms keep their accents
    assert len(re.findall(r'<li class="fix fix-', html)) == 6
    assert not page.scripts  # the page runs no script
    assert "script-src" not in html and "default-src 'none'" in html


def test_hostile_ad_is_escaped_in_page_and_text():
    found = review_ad(HOSTILE_AD, HOSTILE_TITLE)
    page = Page(found.to_html())
    assert not page.scripts and not page.with_tag("img")
    for tag, attrs in page.tags:
        assert not [a for a in attrs if a.lower().startswith("on")], (tag, attrs)
    assert "&lt;script&gt;" in found.to_html()


# --- the command ---------------------------------------------------------------------------------

def test_review_command_prints_text_and_writes_html(tmp_path, capsys):
    ad = tmp_path / "aviso_de_prueba.txt"
    ad.write_text(f"{TITLE}\n{AD}", encoding="utf-8")
    out = tmp_path / "review.html"
    assert main(["review", str(ad), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == TITLE  # the first line, not the file name
    assert "Corregir primero:" in printed and "1. Requisito discriminatorio" in printed
    page = out.read_text(encoding="utf-8")
    assert 'id="verdict-line"' in page and "aviso_de_prueba" not in page
    assert main(["review", str(ad), "--title", "Responsable de Redes", "--lang", "en"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Responsable de Redes\n") and "Fix first:" in printed


def test_an_ad_that_cannot_be_analysed_says_why(tmp_path, capsys):
    portuguese = review_ad("Estamos contratando um gerente de mídias sociais para cuidar das nossas contas, responder "
                           "aos clientes e escrever o boletim semanal. Oferecemos salário competitivo.", "Gerente")
    assert not portuguese.ok and portuguese.verdict().startswith("No se pudo analizar")
    assert portuguese.fixes == [] and 'id="verdict-line"' in portuguese.to_html()
    long = tmp_path / "long.txt"
    long.write_text("Community Manager\n" + "Funciones:\n- Responder mensajes\n" + "Texto de relleno. " * 1500,
                    encoding="utf-8")
    assert main(["review", str(long)]) == 0
    assert "cmclassify: note:" in capsys.readouterr().err


def test_review_command_reads_standard_input_and_refuses_an_empty_ad(tmp_path):
    done = subprocess.run([sys.executable, "-m", "cmclassify", "review", "--title", "Community Manager"],
                          input=PLAIN, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Community Manager\nPuesto de community manager")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    assert main(["review", str(empty)]) == 1


# --- the page on a server ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(), raise_server_exceptions=False)


def _hidden(page: str) -> dict[str, str]:
    found = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)
    return {k: html_lib.unescape(v) for k, v in found}


def test_home_page_has_the_form_in_either_language(client):
    spanish, english = client.get("/"), client.get("/?lang=en")
    assert spanish.status_code == 200 and 'name="text"' in spanish.text and "Analizar" in spanish.text
    assert 'lang="en"' in english.text and "Review" in english.text
    assert "default-src 'none'" in spanish.headers["content-security-policy"]
    assert client.get("/?lang=xx").status_code == 200


def test_paste_apply_a_fix_and_compare_before_and_after(client):
    first = client.post("/review", data={"title": TITLE, "text": AD, "lang": "es"})
    assert first.status_code == 200 and "Alquimista (A, B, D, E)" in first.text
    assert 'id="before-after"' not in first.text
    assert first.text.count('name="apply"') == 6
    fields = {**_hidden(first.text), "title": TITLE, "text": AD, "apply": "1"}  # 2nd item: reason A
    second = client.post("/review", data=fields)
    assert second.status_code == 200 and "Se aplicó la corrección 2" in second.text
    assert 'id="before-after"' in second.text and "en apoyo del equipo comercial" in second.text
    assert "Alquimista (B, D, E)" in second.text  # A is gone after the rewrite
    assert _hidden(second.text)["base_text"] == AD  # the first version stays the "before"
    assert '<tr class="changed"><th scope="row">Puntuación</th><td>0,90</td>' in second.text


def test_edit_in_place_and_re_score(client):
    first = client.post("/review", data={"title": TITLE, "text": AD})
    edited = AD.replace("buena presencia, ", "")
    second = client.post("/review", data={**_hidden(first.text), "title": TITLE, "text": edited})
    assert "Requisito discriminatorio" not in second.text.split('id="verdict-line"')[1].split("</p>")[0]
    assert 'id="before-after"' in second.text


def test_bad_input_gets_a_clear_message_and_the_server_keeps_serving(client):
    empty = client.post("/review", data={"title": TITLE, "text": "   "})
    assert empty.status_code == 400 and "está vacío" in empty.text
    long = client.post("/review", data={"title": TITLE, "text": "a" * (MAX_TEXT + 1), "lang": "en"})
    assert long.status_code == 413 and f"the limit is {MAX_TEXT}" in long.text
    huge = client.post("/review", content=b"text=" + b"a" * (MAX_BODY + 1),
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert huge.status_code == 413 and "demasiado grande" in huge.text
    broken = client.post("/review", content=b"\xff\xfe--", headers={"content-type": "multipart/form-data; boundary=zz"})
    assert broken.status_code == 400 and "No se pudo leer el formulario" in broken.text
    files = client.post("/review", files={"text": ("ad.txt", b"hola")})
    assert files.status_code == 400
    bad_fix = client.post("/review", data={"title": TITLE, "text": AD, "apply": "x"})
    assert bad_fix.status_code == 400
    stale = client.post("/review", data={"title": TITLE, "text": PLAIN, "apply": "3", "scored_text": PLAIN})
    assert stale.status_code == 200 and "ya no corresponde" in stale.text
    assert client.get("/nowhere").status_code == 404
    assert client.put("/review").status_code == 405
    assert client.post("/review", data={"title": TITLE, "text": PLAIN}).status_code == 200


def test_hostile_input_is_escaped_on_the_page(client):
    answer = client.post("/review", data={"title": HOSTILE_TITLE, "text": HOSTILE_AD})
    assert answer.status_code == 200
    page = Page(answer.text)
    assert not page.scripts and not page.with_tag("img")
    for tag, attrs in page.tags:
        assert not [a for a in attrs if a.lower().startswith("on")], (tag, attrs)


def test_binding_elsewhere_than_this_machine_warns(monkeypatch, capsys):
    import uvicorn

    from cmclassify import serve as serve_module

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw))
    serve_module.serve("0.0.0.0", 9999)
    assert seen["host"] == "0.0.0.0" and "warning: serving on 0.0.0.0" in capsys.readouterr().err
    serve_module.serve("127.0.0.1", 9999)
    assert "warning" not in capsys.readouterr().err
    assert is_loopback("localhost") and is_loopback("::1") and not is_loopback("192.168.1.4")


# --- a real browser ------------------------------------------------------------------------------

def _browser_reason() -> str | None:
    from tests.test_report import _chromium

    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright driver is not installed (pip install -e '.[dev]')"
    if _chromium() is None:
        return "Chromium is not installed (apt-get install chromium)"
    return None


needs_browser = pytest.mark.skipif(_browser_reason() is not None, reason=_browser_reason() or "")


@pytest.fixture(scope="module")
def server():
    """The review page served by uvicorn on a free local port, for the length of the module."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    running = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    for _ in range(600):
        if running.started:
            break
        time.sleep(0.05)
    assert running.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    from tests.test_report import _chromium

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=_chromium(), args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield launched
        launched.close()


def _paste(page, title: str, text: str) -> None:
    page.fill("#title", title)
    page.fill("#text", text)
    page.click("#score-button")
    page.wait_for_selector("#verdict-line")


def _pages(pdf: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


@needs_browser
def test_review_page_in_a_real_browser(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(server)
    _paste(page, TITLE, AD)
    assert "Alquimista (A, B, D, E)" in page.inner_text("#verdict-line")
    assert page.locator("li.fix").count() == 6
    assert page.locator("mark.duty").count() == 8
    # Apply the second fix (reason A), then check the verdict changed and the comparison shows it.
    page.locator("button.apply").nth(1).click()
    page.wait_for_selector("#before-after")
    assert "Alquimista (B, D, E)" in page.inner_text("#verdict-line")
    assert "en apoyo del equipo comercial" in page.input_value("#text")
    assert page.locator("#before-after tr.changed").count() >= 2
    # Switching the language keeps the ad and the comparison.
    page.click("button.lang[value=en]")
    page.wait_for_selector("#verdict-line")
    assert "Alchemist (B, D, E)" in page.inner_text("#verdict-line") and page.is_visible("#before-after")
    assert "en apoyo del equipo comercial" in page.input_value("#text")
    page.click("button.lang[value=es]")
    page.wait_for_selector("#verdict-line")
    # Edit in place and re-score.
    page.fill("#text", page.input_value("#text").replace("buena presencia, ", ""))
    page.click("#score-button")
    page.wait_for_selector("#verdict-line")
    assert "Requisito discriminatorio" not in page.inner_text("#verdict-line")
    # Every mark is reachable by keyboard, and shows its tip while focused.
    page.focus("mark.duty")
    assert page.evaluate("document.activeElement.tagName") == "MARK"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") in ("MARK", "SPAN")
    tip = page.evaluate("getComputedStyle(document.activeElement, '::after').content")
    assert tip not in ("none", "normal", '""')
    # Printing: the form and buttons go, the review fits on two A4 pages.
    page.emulate_media(media="print")
    assert not page.is_visible("#ad-form") and not page.is_visible("button.apply")
    assert _pages(page.pdf(format="A4", print_background=True)) <= 2
    page.emulate_media(media="screen")
    assert not dialogs
    for width in (360, 768, 1400):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"sideways scroll at {width} px"
        page.screenshot(path=str(tmp_path / f"review-{width}.png"), full_page=True)
        assert (tmp_path / f"review-{width}.png").stat().st_size > 20_000
    page.close()


@needs_browser
def test_review_page_with_hostile_input_in_a_real_browser(server, browser):
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(server)
    _paste(page, HOSTILE_TITLE, HOSTILE_AD)
    page.hover("#verdict-title")
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.getAttribute('data-pwned')") is None, "an injected payload ran"
    assert not dialogs
    assert page.locator("img").count() == 0 and page.locator("main script").count() == 0
    assert page.input_value("#text") == HOSTILE_AD and page.input_value("#title") == HOSTILE_TITLE.strip()
    page.close()


@needs_browser
def test_standalone_review_file_prints_on_two_pages_at_most(browser, tmp_path):
    path = tmp_path / "review.html"
    path.write_text(review_ad(AD, TITLE, "en").to_html(), encoding="utf-8")
    page = browser.new_page()
    page.goto(path.as_uri())
    assert "Fix first" in page.inner_text("#fixes-title")
    assert _pages(page.pdf(format="A4", print_background=True)) <= 2
    page.close()


@pytest.mark.skipif(not __import__("tests.conftest", fromlist=["CORPUS"]).CORPUS.exists(),
                    reason="corpus not found (shared/ is not on this machine)")
def test_review_on_real_corpus_ads():
    """Real scraped ads: every fix quotes the ad, applies to it, and the edited ad re-scores; the page escapes."""
    import pandas as pd

    from tests.conftest import CORPUS

    ads = pd.read_parquet(CORPUS).sample(80, random_state=15)
    applied = 0
    for row in ads.itertuples():
        found = review_ad(row.description, row.title, "es")
        assert found.verdict() and found.to_text()
        assert not Page(found.to_html()).scripts
        for fix in found.fixes:
            target = found.text if fix.field == "text" else found.title
            assert all(line in target for line in fix.quote.split("\n")), fix
            if fix.edits:
                done = apply_fix(found.text, found.title, fix)
                assert done is not None, fix
                applied += 1
                again = review_ad(*done, "en")
                assert again.ok
    assert applied > 0


@pytest.mark.parametrize("key, sentence, expected", [
    ("age", "Edad: desde 28 años", ""),
    ("age", "Edad: hasta 38-42 años. Manejo de Canva.", "Manejo de Canva."),
    ("sex", "Perfil: Genero: Femenino", ""),
    ("appearance", "Ganas de aprender y excelente presentación personal", "Ganas de aprender"),
    ("appearance", "Voz clara para los vivos y presencia", "Voz clara para los vivos"),
    ("appearance", "Saber armar una presentación y negociar con proveedores", None),
    ("A", "Generar y analizar reportes de ventas por canal", ", junto con el equipo comercial"),
])
def test_rewrites_of_common_phrasings(key, sentence, expected):
    found = rewrite_sentence(key, sentence)
    if expected is not None and expected.startswith(", junto"):
        assert found is not None and found.endswith(expected + ", que es el responsable de las metas de venta")
    else:
        assert found == expected


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_page_colours_meet_wcag_aa_contrast():
    css = review_module.page_css()[0]
    text = "#1b1f24"
    backgrounds = re.findall(r"\.duty-\w+ \{ background: (#[0-9a-f]{6})", css)
    assert len(backgrounds) == 3
    for background in backgrounds:  # duty text on its label's tint
        assert _contrast(text, background) >= 4.5, background
    muted = re.search(r"\.hint, \.intro, \.legend, \.rule \{ color: (#[0-9a-f]{6})", css).group(1)
    assert _contrast(muted, "#ffffff") >= 4.5 and _contrast("#ffffff", "#1f2a44") >= 4.5  # header and buttons
    for colour in re.findall(r"\.ev-\w+ \{[^}]*text-decoration-color: (#[0-9a-f]{6})", css):
        assert _contrast(colour, "#ffffff") >= 3, colour  # underlines, as non-text contrast
