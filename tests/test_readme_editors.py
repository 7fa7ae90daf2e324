"""The editor configurations in the README's "Editors (language server)" section are well-formed
(JSON, TOML, Lua compiled by a real Neovim) and each starts `edgelint server`. Editors that
Debian does not package (VS Code, Helix, Zed) are not run; Neovim is, in test_lsp_neovim.py."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the CI Python is newer
    import tomli as tomllib


def editor_snippets() -> List[Tuple[str, str]]:
    """(language, code) of every fenced block in the README's editors section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Editors (language server)", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```(\w+)\n(.*?)```", section, re.S)


def test_the_section_has_a_snippet_for_every_editor_it_names():
    languages = [language for language, _ in editor_snippets()]
    assert languages.count("json") == 2 and languages.count("lua") == 3 and languages.count("toml") == 3
    assert "rust" in languages


def test_json_and_toml_snippets_parse_and_start_the_server():
    parsed = {"json": json.loads, "toml": tomllib.loads}
    snippets = [(language, parsed[language](code)) for language, code in editor_snippets() if language in parsed]
    vscode, zed_settings = [value for language, value in snippets if language == "json"]
    assert (vscode["glspc.serverPath"], vscode["glspc.serverCommandArguments"]) == ("edgelint", ["server"])
    assert "edgelint" in zed_settings["languages"]["Python"]["language_servers"]
    helix, extension, cargo = [value for language, value in snippets if language == "toml"]
    assert helix["language-server"]["edgelint"] == {"command": "edgelint", "args": ["server"]}
    assert "edgelint" in helix["language"][0]["language-servers"] and helix["language"][0]["name"] == "python"
    assert extension["language_servers"]["edgelint"]["languages"] == ["Python"] and extension["schema_version"] == 1
    assert cargo["lib"]["crate-type"] == ["cdylib"] and "zed_extension_api" in cargo["dependencies"]
    rust = next(code for language, code in editor_snippets() if language == "rust")
    assert 'args: vec!["server".into()]' in rust and "register_extension!(Edgelint)" in rust


@pytest.mark.skipif(shutil.which("nvim") is None, reason="Neovim is not installed (CI installs Debian's)")
def test_lua_snippets_compile_in_neovim(tmp_path):
    for index, (language, code) in enumerate(editor_snippets()):
        if language != "lua":
            continue
        assert '"edgelint", "server"' in code
        script = tmp_path / f"snippet{index}.lua"
        script.write_text(code, encoding="utf-8")
        check = f"lua local chunk, problem = loadfile('{script}'); io.stdout:write(problem or 'compiled')"
        completed = subprocess.run(["nvim", "--headless", "--clean", "-n", "-c", check, "-c", "qa!"],
                                   capture_output=True, text=True, timeout=60)
        assert "compiled" in completed.stdout + completed.stderr, (code, completed)
