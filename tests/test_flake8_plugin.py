"""A real `flake8 --select EDG` subprocess reports the same (file, line, code) set as the CLI."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgelint.cache import CACHE_DIR
from tests.helpers import write_project
from tests.test_fixture_projects import FIXTURES

ROOT = Path(__file__).resolve().parent.parent


def _run(args, cwd):
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def _flake8_findings(directory: Path):
    flake8 = _run(["flake8", "--select", "EDG", "--format", "%(path)s|%(row)d|%(code)s", "."], directory)
    assert flake8.returncode in (0, 1), flake8.stderr
    rows = [line.split("|") for line in flake8.stdout.splitlines() if line]
    return {(os.path.normpath(path), int(row), code) for path, row, code in rows}


def _cli_findings(directory: Path):
    cli = _run(["edgelint", "check", ".", "--no-cache", "--format", "json"], directory)
    return {(os.path.normpath(f["path"]), f["line"], f["code"]) for f in json.loads(cli.stdout)}


def test_flake8_agrees_with_cli_on_every_fixture_project(tmp_path):
    """One flake8 run over all fixture projects: each file is analysed with its own project (on a
    copy: the plugin writes edgelint's cache)."""
    fixtures = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, fixtures, ignore=shutil.ignore_patterns(CACHE_DIR))
    from_flake8, from_cli = _flake8_findings(fixtures), _cli_findings(fixtures)
    assert from_flake8 == from_cli
    projects_with_findings = {path.split(os.sep)[1] for path, _, _ in from_cli if path.startswith("projects")}
    assert len(projects_with_findings) >= 20


def test_flake8_reports_a_wrangler_section_of_the_wrong_shape_as_a_configuration_error(tmp_path):
    write_project(tmp_path, {"wrangler.toml": 'name = "x"\nkv_namespaces = { binding = "VIEWS" }\n',
                             "entry.py": "async def on_fetch(request, env):\n    return await env.VIEWS.get('n')\n"})
    flake8 = _run(["flake8", "--select", "EDG", "--format", "%(row)d|%(code)s|%(text)s", "."], tmp_path)
    assert flake8.stdout.splitlines() == [
        f'1|EDG998|configuration error: {tmp_path.resolve() / "wrangler.toml"}:2: kv_namespaces: expected an array of tables '
        'with a string "binding"']


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


CONFIG_WORKER = {
    # STORE is only a KV namespace if the config says so; COUNTER is a Durable Object by its use.
    "wrangler.toml": 'name = "worker"\n',
    "entry.py": (
        "async def on_fetch(request, env):\n"
        "    views = int(await env.STORE.get('views') or 0)\n"
        "    await env.STORE.put('views', str(views + 1))\n"
        "    if await env.STORE.get('lock'):\n"
        "        return 'busy'\n"
        "    await env.STORE.put('lock', '1')\n"
    ),
    "singleton.py": (
        "async def on_fetch(request, env):\n"
        "    stub = env.COUNTER.get(env.COUNTER.idFromName('global'))\n"
        "    return await stub.fetch(request)\n"
    ),
}
RMW, CHECK_THEN_ACT, SINGLETON = ("entry.py", 3, "EDG101"), ("entry.py", 4, "EDG103"), ("singleton.py", 2, "EDG201")
BINDING = '[tool.edgelint.bindings]\nSTORE = "kv"\n'


@pytest.mark.parametrize("pyproject, expected", [
    ("", {SINGLETON}),
    (BINDING, {RMW, CHECK_THEN_ACT, SINGLETON}),
    ('[tool.edgelint]\nignore = ["EDG101"]\n' + BINDING, {CHECK_THEN_ACT, SINGLETON}),
    ('[tool.edgelint]\nselect = ["EDG10"]\n' + BINDING, {RMW, CHECK_THEN_ACT}),
    ('[tool.edgelint]\nper-file-ignores = { "singleton.py" = ["EDG2"] }\n' + BINDING, {RMW, CHECK_THEN_ACT}),
    ('[tool.edgelint.rules.EDG201]\nallow-names = ["global"]\n' + BINDING, {RMW, CHECK_THEN_ACT}),
], ids=["no-config", "bindings", "ignore", "select", "per-file-ignores", "rule-options"])
def test_flake8_reads_tool_edgelint(tmp_path, pyproject, expected):
    write_project(tmp_path, dict(CONFIG_WORKER, **{"pyproject.toml": pyproject}))
    flake8 = _run(["flake8", "--select", "EDG", "--format", "%(path)s|%(row)d|%(code)s", "."], tmp_path)
    found = {(os.path.normpath(path), int(row), code)
             for path, row, code in (line.split("|") for line in flake8.stdout.splitlines())}
    # Only the rules this worker is about: other rules may have opinions on it too.
    assert {f for f in found if f[2] in ("EDG101", "EDG103", "EDG201")} == expected, flake8.stdout + flake8.stderr
