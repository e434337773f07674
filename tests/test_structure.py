"""The code's shape: one-way imports between stages, a cheap import, rules validated on load, a spaCy
pipeline that saves and loads on its own, and model files that say their format."""

import ast
import hashlib
import io
import json
import pickle
import subprocess
import sys
from pathlib import Path

import joblib
import pytest

import cmclassify
from cmclassify import FlagRules, RulesError
from cmclassify.clean import clean
from cmclassify.model_files import FORMAT_VERSION, load_model, save_model
from cmclassify.rules import FlagPatterns, SegmentRules, load

PACKAGE = Path(cmclassify.__file__).parent

# Every module of the package, in the order data flows: each may import only modules before it.
LAYERS = [
    "lazy", "vocabulary", "errors", "resources", "rules", "tables", "metrics", "prevalence",
    "read", "clean", "nlp", "estimators", "model_files", "patterns", "segment", "classify", "flag", "aggregate",
    "report.names", "report.content", "report.charts", "report.html", "report", "explain",
    "output", "export", "analysis", "pipeline", "distributed", "api", "review", "serve",
    "annotations", "annotation_workflow", "train", "evaluate", "cli", "__main__",
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1]) if parts[-1] == "__init__" else ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Package modules imported anywhere in the file (function-level imports too)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".") if package else []
            base = base[:len(base) - (node.level - 1)]
            found.add(".".join([*base, node.module] if node.module else base))
        elif isinstance(node, ast.Import):
            found.update(a.name[len("cmclassify."):] for a in node.names if a.name.startswith("cmclassify."))
    return found


def test_every_module_imports_only_modules_before_it():
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    assert set(modules) - {""} == set(LAYERS), "add new modules to LAYERS in data-flow order"
    position = {name: i for i, name in enumerate(LAYERS)}
    backwards = []
    for name, path in modules.items():
        if name == "":
            continue  # the package root only maps public names to modules, lazily
        for target in _imports(path):
            if target == "":
                continue  # `from . import __version__`: the root holds the version only
            if position.get(target, -1) >= position[name]:
                backwards.append(f"{name} imports {target}")
    assert not backwards


def test_import_is_cheap_and_version_answers_without_heavy_libraries():
    heavy = ["spacy", "sklearn", "matplotlib", "jinja2", "pandas"]
    code = (
        "import sys, contextlib, io\n"
        "import cmclassify\n"
        "from cmclassify.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n        main(['--version'])\n    except SystemExit:\n        pass\n"
        f"print(out.getvalue().strip(), [m for m in {heavy!r} if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f"cmclassify {cmclassify.__version__} []"


def test_user_rules_file_with_unknown_group_names_file_key_and_allowed(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("outcome_overeach:\n  - aumentar * ventas\n", encoding="utf-8")
    with pytest.raises(RulesError) as error:
        FlagRules.load(mine)
    message = str(error.value)
    assert str(mine) in message and "outcome_overeach" in message and "outcome_overreach" in message


def test_user_rules_file_with_unknown_function_or_bad_regex_is_refused(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("functions:\n  social:\n    - redes\n", encoding="utf-8")
    with pytest.raises(RulesError, match="social_media"):
        FlagRules.load(mine)
    mine.write_text("hype:\n  - '(unclosed'\n", encoding="utf-8")
    with pytest.raises(RulesError, match="regular expression"):
        FlagRules.load(mine)


def test_bundled_rule_files_fit_their_schemas_and_bad_values_are_refused(tmp_path):
    spec = load(SegmentRules, PACKAGE.parent / "data" / "lexicons" / "segment.yaml")
    assert "etc" in spec.abbreviations and spec.min_bullets_for_list >= 1
    bad = tmp_path / "segment.yaml"
    bad.write_text((PACKAGE.parent / "data" / "lexicons" / "segment.yaml").read_text(encoding="utf-8")
                   .replace("min_bullets_for_list: 3", "min_bullets_for_list: many"), encoding="utf-8")
    with pytest.raises(RulesError, match="min_bullets_for_list"):
        load(SegmentRules, bad)
    with pytest.raises(RulesError, match="scoring.bogus: unknown key"):
        load(FlagPatterns, _yaml(tmp_path, "scoring:\n  bogus: 1\n"))


def _yaml(folder: Path, text: str) -> Path:
    path = folder / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


AD = ("Buscamos Community Manager Jr para aumentar las ventas de la empresa.\n"
      "Funciones:\n- Gestionar las redes sociales (Instagram, TikTok)\n- Responder mensajes y comentarios\n"
      "- Publicar las promociones del mes\n- Diseñar piezas en Canva\nRequisitos: experiencia en redes.")


def test_saved_pipeline_loads_with_spacy_alone_and_gives_the_same_duties(tmp_path):
    cmclassify.load_nlp().to_disk(tmp_path / "pipeline")
    text = clean(AD).text
    script = (
        "import json, sys, spacy\n"
        f"nlp = spacy.load({str(tmp_path / 'pipeline')!r})\n"
        f"doc = nlp({text!r})\n"
        "print(json.dumps({'duties': [[s.text, s.label_] for s in doc.spans['duties']],"
        " 'orientation': doc._.orientation, 'alchemist_reasons': doc._.alchemist_reasons}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    loaded = json.loads(result.stdout)
    expected = cmclassify.analyse_text(AD)
    assert loaded["duties"] == expected.duties[["text", "label"]].values.tolist()
    # The last item ("Diseñar piezas en Canva") sits at the extraction threshold: the count is not the point here.
    assert len(loaded["duties"]) >= 3
    assert loaded["orientation"] == expected.ads.loc[0, "orientation"]
    assert loaded["alchemist_reasons"] == expected.ads.loc[0, "alchemist_reasons"]


def test_pipeline_writes_judgments_into_doc_extensions():
    nlp = cmclassify.load_nlp()
    doc = nlp.make_doc(clean(AD).text)
    doc._.ad_title = "Community Manager Jr"
    doc = nlp(doc)
    assert doc._.is_cm_role is True
    assert "A" in doc._.alchemist_reasons and "E" in doc._.alchemist_reasons
    assert {f["flag"] for f in doc._.findings} == {"alchemist"}
    assert all(doc.text[f["start"]:f["end"]] == f["evidence"] for f in doc._.findings if f["field"] == "text")


def test_model_file_of_another_format_is_refused_with_a_clear_error(tmp_path):
    model = load_model()
    save_model(model, tmp_path, {"model_version": "test"})
    card_path, model_path = tmp_path / "duty_classifier.json", tmp_path / "duty_classifier.joblib"
    card = json.loads(card_path.read_text())
    assert card["format_version"] == FORMAT_VERSION
    # A file written by a newer cmclassify, with a card that matches it.
    joblib.dump({"format_version": FORMAT_VERSION + 1, "classifier": model}, model_path)
    card.update(format_version=FORMAT_VERSION + 1, model_sha256=hashlib.sha256(model_path.read_bytes()).hexdigest())
    card_path.write_text(json.dumps(card))
    with pytest.raises(cmclassify.ModelError, match=f"model format {FORMAT_VERSION + 1}, newer"):
        load_model(tmp_path, trusted=True)


def test_saved_model_names_only_public_classes_of_the_estimators_module():
    found: set[tuple[str, str]] = set()

    class Recorder(pickle.Unpickler):
        def find_class(self, module: str, name: str):
            found.add((module, name))
            return super().find_class(module, name)

    Recorder(io.BytesIO(pickle.dumps(load_model()))).load()
    ours = {(module, name) for module, name in found if module.startswith("cmclassify")}
    assert ours and {module for module, _ in ours} == {"cmclassify.estimators"}
    assert not [name for _, name in ours if name.startswith("_")]


def test_screening_patterns_must_capture_their_numbers(tmp_path):
    from cmclassify.rules import FlagPatterns

    bad = tmp_path / "mine.yaml"
    bad.write_text("discrimination:\n  age_ranges: ['entre \\d+ y (\\d+)']\n  age_bounds: {numbers: [15, 70], "
                   "range_low_above: 18, range_high_at_most: 60, upper_limit: [20, 60], lower_limit: [25, 70]}\n",
                   encoding="utf-8")
    with pytest.raises(RulesError, match="must capture 2 number"):
        load(FlagPatterns, bad)


def test_detector_settings_refuse_unknown_kinds_and_thresholds_outside_0_1(tmp_path):
    from cmclassify.rules import DetectorSettings

    bad = tmp_path / "detectors.yaml"
    bad.write_text('use: ["discrimination:height"]\nthresholds: {}\n', encoding="utf-8")
    with pytest.raises(RulesError, match="discrimination:height"):
        load(DetectorSettings, bad)
    bad.write_text('use: []\nthresholds: {"discrimination:age": 1.5}\n', encoding="utf-8")
    with pytest.raises(RulesError, match="between 0 and 1"):
        load(DetectorSettings, bad)
    bad.write_text('use: []\nconfirm: ["B"]\nthresholds: {}\n', encoding="utf-8")  # B is counted, not found in a sentence
    with pytest.raises(RulesError, match="only alchemist letters"):
        load(DetectorSettings, bad)
