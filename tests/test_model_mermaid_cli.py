"""`edgelint model --format mermaid` rendered by the Mermaid CLI (`mmdc`, @mermaid-js/mermaid-cli
from the npm registry) in Debian's headless Chromium: the diagram GitHub would draw. .ci/run
installs both; without them the grammar check of test_model_formats.py still runs."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import FIXTURES

MMDC = shutil.which("mmdc")
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)

pytestmark = pytest.mark.skipif(MMDC is None or CHROMIUM is None,
                                reason="the Mermaid CLI or Chromium is not installed (.ci/run installs both)")


def render(diagram: str, directory: Path) -> subprocess.CompletedProcess:
    """mmdc's verdict on `diagram`, rendered to SVG with the system's Chromium (puppeteer downloads none)."""
    (directory / "puppeteer.json").write_text(json.dumps({"executablePath": CHROMIUM, "args": ["--no-sandbox"]}))
    (directory / "chart.mmd").write_text(diagram, encoding="utf-8")
    return subprocess.run([MMDC, "--quiet", "-p", str(directory / "puppeteer.json"), "-i", str(directory / "chart.mmd"),
                           "-o", str(directory / "chart.svg")], capture_output=True, text=True, timeout=180)


def test_the_mermaid_cli_draws_the_routes_helpers_keys_and_objects(tmp_path, run_cli):
    code, diagram, err = run_cli("model", str(FIXTURES / "demo-worker"), "--format", "mermaid")
    assert code == 0, err
    rendered = render(diagram, tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    svg = (tmp_path / "chart.svg").read_text(encoding="utf-8")
    for label in ("/views/*", "/pages/*", "save_settings", "VIEWS"):  # a route, a helper, a binding
        assert label in svg, label


def test_the_mermaid_cli_refuses_a_broken_diagram(tmp_path):
    rendered = render('flowchart LR\n  n0["route" --> n1\n', tmp_path)
    assert rendered.returncode != 0 and "Parse error" in rendered.stderr
