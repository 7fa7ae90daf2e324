"""Selection first, precedence after: a rule that supersedes another hides the other's findings
about the same operations only while it is itself selected for the file."""
from __future__ import annotations

import json

import pytest

from tests.helpers import write_project

WRANGLER = """\
name = "limiter"
main = "src/entry.py"
compatibility_flags = ["python_workers"]
kv_namespaces = [{ binding = "RATE", id = "1" }]
"""

ENTRY = """\
from workers import Response
from hits import count_hit


async def on_fetch(request, env):
    used = int(await env.RATE.get("global") or 0)
    if used >= 1000:
        return Response("busy", status=429)
    await env.RATE.put("global", str(used + 1), expirationTtl=60)
    await count_hit(env)
    return Response("ok")
"""

HITS = """\
async def count_hit(env):
    hits = int(await env.RATE.get("hits") or 0)
    await env.RATE.put("hits", str(hits + 1))
"""

LIMITER = ("src/entry.py", 9)
COUNTER = ("src/hits.py", 3)


@pytest.fixture
def project(tmp_path):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": ENTRY, "src/hits.py": HITS})
    return tmp_path


def findings(run_cli, *args):
    code, out, err = run_cli("check", "--format", "json", *args, ".")
    assert code in (0, 1), err
    return {(f["path"], f["line"], f["code"]) for f in json.loads(out)}


@pytest.mark.parametrize("cache", [["--no-cache"], []], ids=["no-cache", "cache"])
@pytest.mark.parametrize("ignored, expected", [
    ((), {LIMITER + ("EDG104",), COUNTER + ("EDG101",)}),
    (("EDG104",), {LIMITER + ("EDG101",), COUNTER + ("EDG101",)}),
    (("EDG101",), {LIMITER + ("EDG104",), COUNTER + ("EDG105",)}),
    (("EDG104", "EDG101"), {COUNTER + ("EDG105",)}),
    (("EDG10",), set()),
])
def test_ignoring_a_code_lets_the_next_most_specific_through(project, run_cli, cache, ignored, expected):
    args = [*cache, "--ignore", ",".join(ignored)] if ignored else cache
    if cache == []:
        findings(run_cli)  # the cache holds the run with every rule selected
    assert findings(run_cli, *args) == expected


def test_select_of_the_superseded_code_alone_reports_it(project, run_cli):
    assert findings(run_cli, "--no-cache", "--select", "EDG101") == {
        LIMITER + ("EDG101",), COUNTER + ("EDG101",)}


def test_per_file_ignores_select_per_file_before_precedence(project, run_cli):
    (project / "pyproject.toml").write_text(
        '[tool.edgelint.per-file-ignores]\n"src/hits.py" = ["EDG101"]\n"src/entry.py" = ["EDG104"]\n')
    assert findings(run_cli, "--no-cache") == {LIMITER + ("EDG101",), COUNTER + ("EDG105",)}


def test_noqa_suppresses_without_letting_the_superseded_code_through(project, run_cli):
    text = ENTRY.replace("expirationTtl=60)", "expirationTtl=60)  # noqa: EDG104")
    (project / "src/entry.py").write_text(text)
    assert findings(run_cli, "--no-cache") == {COUNTER + ("EDG101",)}


def test_precedence_is_declared_on_the_rules():
    from edgelint.rules import RULES_BY_CODE

    assert set(RULES_BY_CODE["EDG104"].supersedes) == {"EDG101", "EDG103", "EDG105"}
    assert RULES_BY_CODE["EDG101"].supersedes == ("EDG105",)
    for rule in RULES_BY_CODE.values():
        assert set(rule.supersedes) <= set(RULES_BY_CODE) - {rule.code}


def flake8_findings(project, *args):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    completed = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "EDG", "--format", "%(path)s|%(row)d|%(code)s", *args, "."],
        cwd=project, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert completed.returncode in (0, 1), completed.stderr
    rows = [line.split("|") for line in completed.stdout.splitlines()]
    return {(os.path.normpath(path), int(row), code) for path, row, code in rows}


@pytest.mark.parametrize("options, expected", [
    ((), {LIMITER + ("EDG104",), COUNTER + ("EDG101",)}),
    (("--extend-ignore", "EDG104"), {LIMITER + ("EDG101",), COUNTER + ("EDG101",)}),
    (("--extend-ignore", "EDG104,EDG101"), {COUNTER + ("EDG105",)}),
    (("--per-file-ignores", "src/entry.py:EDG104 src/hits.py:EDG101"), {LIMITER + ("EDG101",), COUNTER + ("EDG105",)}),
])
def test_flake8_selection_comes_before_precedence(project, options, expected):
    flake8_findings(project)  # memos written under flake8's default selection are not reused
    assert flake8_findings(project, *options) == expected
    assert flake8_findings(project, *options) == expected  # from the memo of this selection
