"""A real editor speaks to `edgelint server`: Neovim (0.7, Debian's), headless, with its built-in
LSP client configured by tests/data/neovim_lsp.lua, opens a file and reports its diagnostics."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.helpers import write_project
from tests.lsp_project import PROJECT

pytest.importorskip("pygls", reason="the language server needs the lsp extra")
pytestmark = pytest.mark.skipif(shutil.which("nvim") is None, reason="Neovim is not installed (apt-get install neovim)")


def test_neovim_receives_the_diagnostics_of_an_opened_file(tmp_path):
    project, out = tmp_path / "shop", tmp_path / "diagnostics.json"
    write_project(project, PROJECT)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EDGELINT_PYTHON": sys.executable, "EDGELINT_PROJECT": str(project),
           "EDGELINT_FILE": str(project / "src" / "entry.py"), "EDGELINT_OUT": str(out)}
    subprocess.run(["nvim", "--headless", "--clean", "-n", "-c", f"luafile {ROOT / 'tests' / 'data' / 'neovim_lsp.lua'}"],
                   env=env, cwd=project, stdin=subprocess.DEVNULL, capture_output=True, timeout=120, check=True)
    found = sorted(json.loads(out.read_text(encoding="utf-8")), key=lambda diagnostic: diagnostic["code"])
    assert [(d["code"], d["line"], d["column"], d["source"], d["related"]) for d in found] == [
        ("EDG101", 6, 10, "edgelint", 2), ("EDG301", 7, 4, "edgelint", 0)]
