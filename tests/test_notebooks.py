"""The notebooks in notebooks/ run from top to bottom without errors (on the bundled sample data)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is a dev dependency (pip install -e .[dev])")
nbclient = pytest.importorskip("nbclient", reason="nbclient is a dev dependency (pip install -e .[dev])")
pytest.importorskip("ipykernel", reason="ipykernel is a dev dependency (pip install -e .[dev])")
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402  (after the skips)
from jupyter_client.manager import KernelManager  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
KERNEL_NAME = "cmclassify-test-python"


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    """A kernel spec that runs this very interpreter, so the notebooks see the installed cmclassify
    whether or not a ``python3`` kernel is registered (e.g. on a fresh ``pip install -e .[dev]`` venv)."""
    kernels = tmp_path_factory.mktemp("kernels")
    spec = kernels / KERNEL_NAME
    spec.mkdir()
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "cmclassify tests", "language": "python"}))
    return KernelSpecManager(kernel_dirs=[str(kernels)])


@pytest.mark.parametrize("name", ["hr_review.ipynb", "measure_the_hype.ipynb"])
def test_notebook_runs(name: str, kernel_specs: KernelSpecManager, tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CMCLASSIFY_CORPUS", raising=False)  # the sample data: fast
    monkeypatch.setenv("CMCLASSIFY_REPORT_DIR", str(tmp_path))  # keep the HTML report out of the repo
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), \
        f"{name} is committed with outputs; clear them"
    manager = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=kernel_specs)
    client = nbclient.NotebookClient(notebook, km=manager, timeout=300,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert not errors, errors
    if name == "measure_the_hype.ipynb":
        assert (tmp_path / "measure_the_hype.html").stat().st_size > 10_000
        images = [o for cell in notebook.cells for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        assert len(images) >= 5, "the charts were not displayed"
