"""A real `flake8 --select EDG` subprocess reports the same (file, line, code) set as the CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_fixture_projects import PROJECTS

ROOT = Path(__file__).resolve().parent.parent


def _run(args, cwd):
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_flake8_agrees_with_cli(project):
    flake8 = _run(["flake8", "--select", "EDG", "--format", "%(path)s|%(row)d|%(code)s", "."], project)
    assert flake8.returncode in (0, 1), flake8.stderr
    from_flake8 = {tuple(line.split("|")) for line in flake8.stdout.splitlines() if line}
    from_flake8 = {(os.path.normpath(path), int(row), code) for path, row, code in from_flake8}
    cli = _run(["edgelint", "check", ".", "--format", "json"], project)
    from_cli = {(os.path.normpath(f["path"]), f["line"], f["code"]) for f in json.loads(cli.stdout)}
    assert from_flake8 == from_cli
    assert from_cli or project.name.startswith("clean")


def test_flake8_honours_noqa_like_cli(tmp_path):
    (tmp_path / "wrangler.toml").write_text('[[kv_namespaces]]\nbinding = "VIEWS"\nid = "1"\n')
    (tmp_path / "entry.py").write_text(
        "async def on_fetch(request, env):\n"
        "    n = int(await env.VIEWS.get('n') or 0)\n"
        "    await env.VIEWS.put('n', str(n + 1))  # noqa: EDG101\n"
        "    m = int(await env.VIEWS.get('m') or 0)\n"
        "    await env.VIEWS.put('m', str(m + 1))\n"
    )
    flake8 = _run(["flake8", "--select", "EDG", "--format", "%(row)d:%(col)d:%(code)s", "."], tmp_path)
    assert flake8.stdout.split() == ["5:11:EDG101"]
