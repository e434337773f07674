"""Issue 5: corpus summary with confidence intervals, charts, and the self-contained HTML report."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import cmclassify
from cmclassify import report
from cmclassify.aggregate import MEAN_METRICS, METRICS, summarise
from cmclassify.analysis import Analysis
from tests.conftest import CORPUS, needs_corpus

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample_ads.jsonl"
# A payload that would leave a mark in the page if it ever ran: the browser test looks for the mark.
SENTINEL_IMG = "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">"
SENTINEL_SCRIPT = "<script>document.documentElement.setAttribute('data-pwned','script')</script>"


# --- fixtures ------------------------------------------------------------------------------------

def _ad(ad_id: str, *, status: str = "ok", cm: bool | None = True, orientation: str = "communication_conversation",
        alchemist: bool | None = False, reasons: str = "", follower: bool | None = False,
        hype: bool | None = False, shares: tuple[float, float, float] = (0.0, 1.0, 0.0), n_duties: int = 2,
        country: str = "Argentina") -> dict:
    ok = status == "ok"
    return {"ad_id": ad_id, "title": f"Title {ad_id}", "status": status, "error": "" if ok else "why", "warning": "",
            "n_duties": n_duties if ok else 0, "clean_text": "x", "share_marketing_sales": shares[0],
            "share_communication_conversation": shares[1], "share_other": shares[2],
            "orientation": orientation if ok else "undetermined", "is_cm_role": cm if ok else None,
            "alchemist": alchemist if ok else None, "alchemist_score": 0.5 if alchemist else 0.0,
            "alchemist_reasons": reasons, "n_functions": 0, "functions": "",
            "follower_credential": follower if ok else None, "hype_title": hype if ok else None,
            "country": country, "date": "2026-01-15" if country == "Argentina" else "2026-02-03"}


@pytest.fixture(scope="module")
def hand() -> Analysis:
    """Ten ads whose figures are easy to count by hand (see the test below)."""
    ads = [
        _ad("a1", alchemist=True, reasons="A,B", shares=(0.5, 0.5, 0.0), orientation="mixed"),
        _ad("a2", alchemist=True, reasons="A", orientation="marketing_sales", shares=(1.0, 0.0, 0.0)),
        _ad("a3", reasons="E", follower=True),
        _ad("a4", hype=True, country="Mexico"),
        _ad("a5", orientation="undetermined", shares=(0.0, 0.0, 0.0), n_duties=0, country="Mexico"),
        _ad("a6", cm=False, alchemist=True, reasons="A", orientation="marketing_sales", shares=(1.0, 0.0, 0.0),
            country="Mexico"),
        _ad("a7", cm=False, hype=True, country="Mexico"),
        _ad("a8", cm=False, country="Mexico"),
        _ad("a9", status="empty", country="Mexico"),
        _ad("a10", status="error"),
    ]
    return Analysis.from_records(ads, [], [])


@pytest.fixture(scope="module")
def sample() -> Analysis:
    return cmclassify.analyse(SAMPLE, progress=False)


@pytest.fixture(scope="module")
def hostile() -> Analysis:
    """Ads whose every field tries to inject markup, with a sentinel that would show if it ran."""
    frame = pd.DataFrame({
        "ad_id": ['"><img src=x onerror=alert(11)>', "ok-id"],
        "title": [f"Gurú {SENTINEL_IMG} {SENTINEL_SCRIPT}", "Community Manager"],
        "description": [
            "Community manager.\nFunciones:\n- Responder mensajes &lt;script&gt;alert(12)&lt;/script&gt;\n"
            f"- Aumentar las ventas de la empresa {SENTINEL_IMG.replace('<', '&lt;').replace('>', '&gt;')}\n"
            "- Crear contenido para Instagram",
            "Funciones:\n- Responder comentarios en redes\n- Publicar contenido"],
        "source": ['<svg onload=alert(13)>', "</script><script>alert(14)</script>"],
        "country": ["Argentina", "Mexico"],
    })
    return cmclassify.analyse(frame, progress=False)


@pytest.fixture(scope="module")
def sample_html(sample: Analysis, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("report") / "sample.html"
    return path, report.render_html(sample, path, n_boot=200)


@pytest.fixture(scope="module")
def hostile_html(hostile: Analysis, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("report") / "hostile.html"
    return path, report.render_html(hostile, path, n_boot=50)


class Page(HTMLParser):
    """Every start tag with its attributes, and the text of every <script> and <style>."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._in: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in = tag
            (self.scripts if tag == "script" else self.styles).append("")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts[-1] += data
        elif self._in == "style":
            self.styles[-1] += data

    def with_tag(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.tags if tag == name]


def assert_no_live_injection(html: str) -> Page:
    """Only our own script, no event-handler attributes, no <img>/<iframe>/<object>, no javascript: links."""
    page = Page(html)
    own = (Path(report.__file__).parent / "templates" / "report.js").read_text(encoding="utf-8")
    assert len(page.scripts) == 1 and page.scripts[0] == own
    assert all("src" not in attrs for attrs in page.with_tag("script"))
    assert "alert" not in page.scripts[0]
    for tag, attrs in page.tags:
        assert tag not in ("img", "iframe", "object", "embed", "link", "base", "form"), tag
        assert not [a for a in attrs if a.lower().startswith("on")], (tag, attrs)
        for key in ("href", "src", "xlink:href", "action"):
            value = (attrs.get(key) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:text/html")), (tag, attrs)
    return page


# --- summarise -----------------------------------------------------------------------------------

def test_summarise_matches_hand_computation(hand: Analysis):
    table = summarise(hand, n_boot=200).set_index("metric")
    expected = {
        "n_ads": 10, "n_ok": 8, "n_cm_ads": 5, "cm_share": 5 / 8,
        "alchemist_rate": 3 / 8, "alchemist_rate_cm": 2 / 5,
        "alchemist_reason_A": 2 / 5, "alchemist_reason_B": 1 / 5, "alchemist_reason_C": 0.0,
        "alchemist_reason_E": 1 / 5,
        "orientation_communication_conversation": 2 / 5, "orientation_mixed": 1 / 5,
        "orientation_marketing_sales": 1 / 5, "orientation_undetermined": 1 / 5,
        "duty_share_marketing_sales": (0.5 + 1.0) / 4, "duty_share_communication_conversation": (0.5 + 1 + 1) / 4,
        "follower_credential_rate": 1 / 8, "follower_credential_rate_cm": 1 / 5,
        "hype_title_rate": 2 / 8, "hype_title_rate_cm": 1 / 5,
    }
    for metric, value in expected.items():
        assert table.loc[metric, "value"] == pytest.approx(value), metric
    assert table.loc["alchemist_rate", "n"] == 8 and table.loc["alchemist_rate_cm", "n"] == 5
    assert table.loc["duty_share_other", "n"] == 4  # CM ads with duties
    assert set(table.index) == set(METRICS)
    assert table.loc[["n_ads", "n_ok", "n_cm_ads"], "ci_low"].isna().all()


def test_summarise_interval_brackets_value(sample: Analysis):
    table = summarise(sample, n_boot=500)
    shares = table[~table["metric"].str.startswith("n_")]
    assert shares["ci_low"].notna().all()
    assert (shares["ci_low"] <= shares["value"] + 1e-12).all()
    assert (shares["value"] <= shares["ci_high"] + 1e-12).all()
    assert ((shares["ci_low"] >= 0) & (shares["ci_high"] <= 1)).all()
    alchemist = shares.set_index("metric").loc["alchemist_rate_cm"]
    assert alchemist["ci_high"] - alchemist["ci_low"] > 0.1  # 31 CM ads: a wide interval


def test_summarise_is_seeded(sample: Analysis):
    first = summarise(sample, by="country", n_boot=300, seed=7)
    pd.testing.assert_frame_equal(first, summarise(sample, by="country", n_boot=300, seed=7))
    other = summarise(sample, by="country", n_boot=300, seed=8)
    assert not np.allclose(first["ci_low"].fillna(-1), other["ci_low"].fillna(-1))
    no_bootstrap = summarise(sample, n_boot=0).set_index("metric")
    assert no_bootstrap.loc[list(MEAN_METRICS), "ci_low"].isna().all()  # Wilson intervals need no resampling
    resampled = summarise(sample, n_boot=50, seed=3).set_index("metric")
    assert no_bootstrap.loc["alchemist_rate", "ci_low"] == resampled.loc["alchemist_rate", "ci_low"]


def test_summarise_by_groups(hand: Analysis):
    table = summarise(hand, by="country", n_boot=100)
    assert list(table.columns) == ["country", "metric", "value", "ci_low", "ci_high", "n", "population", "interval",
                                   "too_small", "corrected", "corrected_low", "corrected_high"]
    assert sorted(table["country"].unique()) == ["Argentina", "Mexico"]
    counts = table[table["metric"] == "n_ads"].set_index("country")["value"]
    assert counts.to_dict() == {"Argentina": 4, "Mexico": 6}
    mexico = table[(table["country"] == "Mexico")].set_index("metric")
    assert mexico.loc["alchemist_rate", "value"] == pytest.approx(1 / 5)  # a6 among the ok ads a4-a8
    months = summarise(hand, by="month", n_boot=0)
    assert sorted(months["month"].unique()) == ["2026-01", "2026-02"]
    both = summarise(hand, by=["country", "month"], n_boot=0)
    assert {"country", "month"} <= set(both.columns)
    with pytest.raises(KeyError):
        summarise(hand, by="no_such_column")


def test_summarise_group_equals_subset(sample: Analysis):
    by_country = summarise(sample, by="country", n_boot=0).set_index(["country", "metric"])
    for country, ads in sample.ads.groupby("country"):
        alone = summarise(Analysis(ads, sample.duties, sample.findings), n_boot=0).set_index("metric")
        assert np.allclose(by_country.loc[country, "value"].to_numpy(), alone["value"].to_numpy(), equal_nan=True)


def test_summarise_intervals_are_right_for_large_corpora():
    """Both resampling paths (few distinct ads / many) give the textbook interval of a mean share,
    and the Wilson interval of a proportion is the textbook one too."""
    rng = np.random.default_rng(1)
    n = 20_000
    flags = rng.random(n) < 0.3
    ads = pd.DataFrame([_ad("x")] * n)
    ads["ad_id"] = [f"x{i}" for i in range(n)]
    ads["alchemist"] = pd.array(flags, dtype="boolean")
    ads["is_cm_role"] = pd.array(np.ones(n, dtype=bool), dtype="boolean")
    ads["share_other"] = flags.astype(float)
    few = Analysis(ads, pd.DataFrame(), pd.DataFrame())
    many_ads = ads.copy()
    many_ads["share_other"] += rng.random(n) * 1e-6  # every ad distinct
    many = Analysis(many_ads, pd.DataFrame(), pd.DataFrame())
    half_width = 1.96 * np.sqrt(0.3 * 0.7 / n)
    for analysis in (few, many):
        table = summarise(analysis, n_boot=400).set_index("metric")
        for metric in ("alchemist_rate_cm", "duty_share_other"):
            row = table.loc[metric]
            assert (row["ci_high"] - row["ci_low"]) / 2 == pytest.approx(half_width, rel=0.2), metric


def test_summarise_rejects_bad_confidence(hand: Analysis):
    with pytest.raises(ValueError):
        summarise(hand, confidence=95)


# --- charts --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, kwargs", [
    ("orientation", {}), ("orientation", {"by": "country"}), ("alchemist", {}), ("alchemist", {"by": "source"}),
    ("flags", {}), ("flags", {"by": "month"}), ("top_duties", {}), ("top_duties", {"unit": "terms", "n": 5}),
    ("by", {"by": "country", "metric": "orientation_marketing_sales"}), ("by", {"by": ["country", "source"]}),
])
def test_plot_kinds_return_figures(sample: Analysis, kind: str, kwargs: dict):
    extra = {} if kind == "top_duties" else {"n_boot": 50}
    fig = report.plot(sample, kind, **kwargs, **extra)
    assert isinstance(fig, Figure)
    assert fig.axes
    svg = report.figure_svg(fig, "t", "test")
    assert svg.startswith("<svg") and "<script" not in svg


def test_plot_functions_and_errors(sample: Analysis, hand: Analysis):
    assert isinstance(report.plot_orientation(sample, n_boot=0, lang="es"), Figure)
    assert isinstance(report.plot_alchemist(hand, by="country", n_boot=0, lang="en"), Figure)
    assert isinstance(report.plot_flags(hand, n_boot=0), Figure)
    assert isinstance(report.plot_top_duties(hand), Figure)  # no duties at all: an empty chart
    assert isinstance(report.plot_rates_by(sample, "country", "hype_title_rate", n_boot=0), Figure)
    with pytest.raises(ValueError):
        report.plot(sample, "pie")
    with pytest.raises(ValueError):
        report.plot_rates_by(sample, "country", metric="n_ads")
    with pytest.raises(ValueError):
        report.plot_orientation(sample, lang="fr", n_boot=0)


def test_top_duties(sample: Analysis):
    table = report.top_duties(sample, 3)
    assert list(table.columns) == ["label", "item", "count"]
    assert set(table["label"]) <= set(cmclassify.LABELS)
    assert table.groupby("label").size().max() <= 3
    terms = report.top_duties(sample, 5, unit="terms", cm_only=False)
    assert (terms["count"] >= 1).all()


def test_chart_labels_from_data_are_escaped(hostile: Analysis):
    svg = report.figure_svg(report.plot_orientation(hostile, by="source", n_boot=0), "h")
    assert "<svg onload" not in svg and "&lt;svg onload=alert(13)&gt;" in svg


# --- highlighting --------------------------------------------------------------------------------

def test_highlight_cuts_text_at_duties_and_findings():
    text = "Intro. Vender mucho. Responder mensajes."
    duties = [{"start": 7, "end": 19, "label": "marketing_sales", "tip": "t", "index": 0},
              {"start": 21, "end": 39, "label": "communication_conversation", "tip": "t", "index": 1}]
    findings = [{"start": 0, "end": 13, "flag": "alchemist", "reason": "A"},
                {"start": 500, "end": 600, "flag": "alchemist", "reason": "B"}]  # out of range: ignored
    blocks = report.highlight(text, duties, findings)
    assert "".join(p.text for b in blocks for p in b.parts) == text
    in_duties = ["".join(p.text for p in b.parts) for b in blocks if b.duty]
    assert in_duties == ["Vender mucho", "Responder mensajes"]
    marked = [p for b in blocks for p in b.parts if p.flags]
    assert "".join(p.text for p in marked) == "Intro. Vender"
    assert marked[-1].tags == ["A"]


# --- the HTML report -----------------------------------------------------------------------------

def test_render_html_writes_a_self_contained_file(sample_html: tuple[Path, str]):
    path, html = sample_html
    assert path.read_text(encoding="utf-8") == html
    page = Page(html)
    for tag, attrs in page.tags:
        for key in ("src", "href", "xlink:href", "action", "data"):
            value = (attrs.get(key) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "ftp:")), (tag, key, value)
    assert not page.with_tag("link") and not page.with_tag("iframe")
    assert not re.search(r"<script[^>]*\bsrc=", html, re.IGNORECASE)
    assert not any(re.search(r"@import|url\(\s*['\"]?(https?:)?//", style) for style in page.styles)
    csp = next(a["content"] for a in page.with_tag("meta") if a.get("http-equiv") == "Content-Security-Policy")
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode()).digest()).decode()
    assert "default-src 'none'" in csp and f"'sha256-{digest}'" in csp
    assert len(page.with_tag("svg")) >= 4


def test_render_html_lists_every_ad(sample: Analysis, sample_html: tuple[Path, str]):
    page = Page(sample_html[1])
    ids = sample.ads["ad_id"].tolist()
    rows = [a["data-ad-id"] for a in page.with_tag("tr") if "data-ad-id" in a]
    cards = [a["data-ad-id"] for a in page.with_tag("article")]
    assert sorted(rows) == sorted(ids) and sorted(cards) == sorted(ids)
    statuses = {a["data-ad-id"]: a["data-status"] for a in page.with_tag("tr") if "data-ad-id" in a}
    assert statuses["sample-003"] == "ok" and statuses["sample-011"] == "empty"  # English is analysed
    assert "the ad is in English" in sample_html[1]
    assert 'data-cap="cards"' not in sample_html[1]


def test_render_html_escapes_ad_content(sample_html: tuple[Path, str]):
    html = sample_html[1]
    assert_no_live_injection(html)
    assert "Community Manager &lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html  # sample-042's title
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html  # sample-033's text, unescaped by the cleaner
    assert "<script>alert" not in html


def test_render_html_escapes_hostile_fields(hostile_html: tuple[Path, str]):
    html = hostile_html[1]
    assert_no_live_injection(html)
    assert "&lt;svg onload=alert(13)&gt;" in html


def test_render_html_caps_cards_and_rows(sample: Analysis):
    html = report.render_html(sample, max_cards=5, max_rows=10, n_boot=0, lang="en", group_by=[])
    page = Page(html)
    cards = page.with_tag("article")
    assert len(cards) == 5 and 'data-cap="cards"' in html and 'data-cap="rows"' in html
    assert len([a for a in page.with_tag("tr") if "data-ad-id" in a]) == 10
    scores = sample.ads.set_index("ad_id")["alchemist_score"]
    cm = sample.ads.set_index("ad_id")["is_cm_role"].fillna(False)
    top = sorted(scores[cm].tolist(), reverse=True)[:5]  # the CM ads first, highest score first
    assert [scores[a["data-ad-id"]] for a in cards] == pytest.approx(top)
    assert all(cm[a["data-ad-id"]] for a in cards)
    assert page.with_tag("html")[0]["data-lang"] == "en"
    with pytest.raises(ValueError):
        report.render_html(sample, lang="fr")


def test_render_html_empty_analysis():
    empty = Analysis.from_records([], [], [])
    html = report.render_html(empty, n_boot=10)
    assert_no_live_injection(html)


@needs_corpus
def test_report_on_real_corpus_ads(tmp_path: Path):
    """Real scraped text (glued words, leftover HTML, long ads) through highlighting and escaping."""
    ads = pd.read_parquet(CORPUS).sample(200, random_state=5)
    analysis = cmclassify.analyse(ads, progress=False)
    for ad in analysis.ads.itertuples():
        duties = analysis.duties_of(ad.ad_id).to_dict("records")
        findings = analysis.findings_of(ad.ad_id)
        blocks = report.highlight(ad.clean_text, duties, findings[findings["field"] == "text"].to_dict("records"))
        assert "".join(p.text for b in blocks for p in b.parts) == ad.clean_text
    html = report.render_html(analysis, tmp_path / "corpus.html", max_cards=50, n_boot=100)
    page = assert_no_live_injection(html)
    assert {a["data-ad-id"] for a in page.with_tag("tr") if "data-ad-id" in a} == set(analysis.ads["ad_id"])
    assert len(page.with_tag("article")) == 50 and 'data-cap="cards"' in html


# --- a real browser ------------------------------------------------------------------------------

def _chromium() -> str | None:
    for candidate in ("chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


needs_chromium = pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (apt-get install chromium)")


def _run_chromium(tmp_path: Path, html_path: Path, *args: str) -> str:
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", *args, html_path.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@needs_chromium
def test_report_in_a_real_browser(sample: Analysis, sample_html: tuple[Path, str], tmp_path: Path):
    dom = _run_chromium(tmp_path, sample_html[0], "--virtual-time-budget=5000", "--dump-dom")
    page = Page(dom)
    root = page.with_tag("html")[0]
    assert root.get("data-report-ready") == "1", "the report's own script did not run"
    assert "data-pwned" not in root
    table = next(a for a in page.with_tag("table") if a.get("id") == "ads-table")
    assert table["data-ready"] == str(len(sample.ads))
    ids = set(sample.ads["ad_id"])
    assert {a["data-ad-id"] for a in page.with_tag("tr") if "data-ad-id" in a} == ids
    assert {a["data-ad-id"] for a in page.with_tag("article")} == ids
    charts = [a for a in page.with_tag("svg") if "chart-svg" in (a.get("class") or "")]
    assert len(charts) >= 4
    assert_no_live_injection(dom)
    shot = tmp_path / "report.png"
    _run_chromium(tmp_path, sample_html[0], "--hide-scrollbars", "--window-size=1400,3000", f"--screenshot={shot}")
    assert shot.stat().st_size > 50_000


@needs_chromium
def test_hostile_report_in_a_real_browser(hostile_html: tuple[Path, str], tmp_path: Path):
    dom = _run_chromium(tmp_path, hostile_html[0], "--virtual-time-budget=5000", "--dump-dom")
    page = Page(dom)
    root = page.with_tag("html")[0]
    assert root.get("data-report-ready") == "1"
    assert "data-pwned" not in root, "an injected payload ran"
    assert_no_live_injection(dom)


# --- issue 15: the report made right ---------------------------------------------------------------

LONG_TITLE = "Community Manager para campañas de $5.000 " + "y muchas otras tareas " * 30


@pytest.fixture(scope="module")
def awkward() -> Analysis:
    """Mathtext characters in every grouping field, one very long title, a mix of CM and other jobs."""
    frame = pd.DataFrame({
        "ad_id": ["m1", "m2", "m3", "m4"],
        "title": [LONG_TITLE, "Community Manager $ junior", "Contador/a", "Social Media Manager"],
        "description": [
            "Funciones:\n- Gestionar una pauta de $5.000 en Meta Ads\n- Responder mensajes\n- Crear contenido",
            "Funciones:\n- Responder comentarios\n- Publicar historias en Instagram",
            "Funciones:\n- Llevar la contabilidad\n- Liquidar sueldos\n- Preparar balances",
            "Funciones:\n- Diseñar piezas (Canva)\n- disenar piezas canva.\n- Moderar la comunidad"],
        "source": ["portal $x$", "$ pesos ^_", "portal $x$", r"a\b$"],
        "country": ["Argentina $", "México", "$ 5", "Chile"],
    })
    return cmclassify.analyse(frame, progress=False)


def test_mathtext_characters_in_fields_do_not_break_the_charts(awkward: Analysis, tmp_path: Path):
    html = report.render_html(awkward, tmp_path / "awkward.html", n_boot=50, group_by=["source", "country"])
    assert "portal $x$" in html and "$ pesos ^_" in html
    page = assert_no_live_injection(html)
    assert len([a for a in page.with_tag("svg") if "chart-svg" in (a.get("class") or "")]) >= 10


def test_intervals_at_0_and_100_percent_are_wilson_intervals(hand: Analysis):
    table = summarise(hand, n_boot=200).set_index("metric")
    zero = table.loc["alchemist_reason_C"]
    assert zero["value"] == 0 and zero["ci_low"] == 0 and 0.3 < zero["ci_high"] < 0.6  # Wilson, n=5: 0–43.4 %
    assert zero["ci_high"] == pytest.approx(0.4345, abs=1e-3)
    full = summarise(hand[hand.ads["ad_id"].isin(["a1", "a2"])] if False else
                     Analysis(hand.ads.iloc[:2], hand.duties, hand.findings), n_boot=200).set_index("metric")
    assert full.loc["alchemist_rate_cm", "value"] == 1 and 0.1 < full.loc["alchemist_rate_cm", "ci_low"] < 1
    assert full.loc["alchemist_rate_cm", "ci_high"] == 1


def test_charts_follow_the_report_language(sample: Analysis):
    """Each chart is drawn in each language; the page's language toggle shows one (``lang`` first)."""
    html = report.render_html(sample, lang="en", n_boot=20, group_by=[])
    english = re.findall(r'<div class="en" lang="en"><svg class="chart-svg".*?</svg>\s*</div>', html, re.DOTALL)
    spanish = re.findall(r'<div class="es" lang="es"><svg class="chart-svg".*?</svg>\s*</div>', html, re.DOTALL)
    assert len(english) == len(spanish) == 4
    assert "Orientation of CM ads (n=" in english[0] and "Orientación" not in english[0]
    assert "Orientación de los anuncios de CM (n=" in spanish[0] and "Orientation" not in spanish[0]
    assert re.search(r"\d%  \(n=\d+\)", english[0]) and re.search(r"\d\u202f%  \(n=\d+\)", spanish[0])
    both = report.render_html(sample, lang="both", n_boot=20, group_by=[])
    assert '<div class="en" lang="en"><svg' not in both and "Orientation of CM ads" in both


def test_top_duties_group_normalised_text_and_show_accented_terms(awkward: Analysis, sample: Analysis):
    table = report.top_duties(awkward, 10, unit="text")
    other = table[table["item"].str.lower().str.contains("piezas")]
    assert len(other) == 1 and other["count"].iloc[0] == 2
    terms = set(report.top_duties(sample, 10, unit="terms")["item"])
    assert "campaña" in terms and "campana" not in terms


def test_cm_ads_come_first_then_by_score(hand: Analysis):
    order = report.priority_order(hand.ads).tolist()
    ids = hand.ads["ad_id"].iloc[order].tolist()
    assert ids[:5] == ["a1", "a2", "a3", "a4", "a5"]  # the CM ads, highest score first
    assert ids[5:8] == ["a6", "a7", "a8"] and ids[8:] == ["a9", "a10"]


def test_marks_and_evidence_carry_keyboard_tips(sample_html: tuple[Path, str]):
    page = Page(sample_html[1])
    marks = page.with_tag("mark")
    assert marks and all(a.get("tabindex") == "0" and a.get("data-tip") for a in marks)
    evidence = [a for a in page.with_tag("span") if "ev" in (a.get("class") or "").split()]
    assert evidence and all(a.get("tabindex") == "0" for a in evidence)


def _playwright_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright driver is not installed (pip install -e '.[dev]')"
    return None if _chromium() else "Chromium is not installed (apt-get install chromium)"


needs_playwright = pytest.mark.skipif(_playwright_missing() is not None, reason=_playwright_missing() or "")


def _check_widths_and_print(html_path: Path, shots: Path) -> int:
    """No sideways scroll at 360, 768 and 1400 px (screenshots in ``shots``); the printed page count."""
    import io

    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=_chromium(), args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page()
        page.goto(html_path.as_uri())
        page.wait_for_function("document.documentElement.dataset.reportReady === '1'")
        for width in (360, 768, 1400):
            page.set_viewport_size({"width": width, "height": 900})
            assert page.evaluate("document.documentElement.scrollWidth") <= width, f"sideways scroll at {width} px"
            page.screenshot(path=str(shots / f"report-{width}.png"))
            edge = page.evaluate("document.querySelector('#dashboard p.lead').getBoundingClientRect().left")
            assert edge >= 10, f"no side padding at {width} px"
            if width == 360:  # the table is a list of cards, each cell named: no sideways scroll inside its box
                inner, label = page.evaluate("""() => { const box = document.querySelector('#table .table-scroll');
                    const cell = box.querySelector('tbody tr:not([hidden]) td:nth-child(3)');
                    return [box.scrollWidth - box.clientWidth, getComputedStyle(cell, '::before').content]; }""")
                assert inner <= 1 and label == '"Título"', (inner, label)
        # The table's header row stays in view while the table scrolls.
        page.set_viewport_size({"width": 1400, "height": 900})
        scrolled, top = page.evaluate("""() => { const box = document.querySelector('#table .table-scroll');
            box.scrollTop = 400; const head = box.querySelector('thead th');
            return [box.scrollTop, head.getBoundingClientRect().top - box.getBoundingClientRect().top]; }""")
        assert scrolled > 0 and abs(top) <= 2
        # A focused mark shows its tip.
        page.focus("mark.duty")
        assert page.evaluate("getComputedStyle(document.activeElement, '::after').content") not in ("none", "normal")
        pages = len(PdfReader(io.BytesIO(page.pdf(format="A4"))).pages)
        browser.close()
    return pages


@needs_playwright
def test_report_layout_widths_sticky_header_and_print(awkward: Analysis, sample: Analysis, tmp_path: Path):
    mixed = Analysis.concat([sample, awkward])
    path = tmp_path / "mixed.html"
    report.render_html(mixed, path, n_boot=50)
    pages = _check_widths_and_print(path, tmp_path)
    assert pages <= 15, f"{pages} printed pages for {len(mixed)} ads"


@needs_corpus
@needs_playwright
def test_report_layout_on_real_corpus_ads(tmp_path: Path):
    """Real scraped ads (long titles, odd sources): widths, sticky header and print; nothing is kept."""
    ads = pd.read_parquet(CORPUS).sample(300, random_state=15)
    path = tmp_path / "corpus.html"
    report.render_html(cmclassify.analyse(ads, progress=False), path, max_cards=100, n_boot=100)
    assert _check_widths_and_print(path, tmp_path) <= 20
