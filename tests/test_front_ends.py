"""Every front end reports the same findings for a file, under the settings that govern it (issue 14).

The project has four configurations: the root's `pyproject.toml`, `src/edgelint.toml` (with a
per-file ignore relative to it), and `tools/.edgelint.toml` (its own selection and bindings). Each
file must be linted under its nearest one, whether it is reached through a directory, named on the
command line, piped in on stdin, checked by flake8 or passed by pre-commit.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, Set, Tuple

import pytest

from tests.conftest import ROOT
from tests.helpers import pre_commit, write_project

HANDLER = """\
async def on_fetch(request, env):
    views = int(await env.VIEWS.get("views") or 0)
    await env.VIEWS.put("views", str(views + 1))
    return await env.SESSIONS_KV.get("session")
"""
MODULES = ("lib/counter.py", "src/entry.py", "src/admin/tasks.py", "tools/job.py")
PROJECT = {
    "wrangler.toml": '[[kv_namespaces]]\nbinding = "VIEWS"\nid = "1"\n',
    "pyproject.toml": '[tool.edgelint]\nignore = ["EDG302"]\n',
    "src/edgelint.toml": 'ignore = ["EDG1"]\nper-file-ignores = { "admin/*" = ["EDG302"] }\n',
    "tools/.edgelint.toml": '[tool.edgelint]\nselect = ["EDG1", "EDG302"]\n\n'
                            '[tool.edgelint.bindings]\nSESSIONS_KV = "kv"\n',
    **{module: HANDLER for module in MODULES},
}
# EDG101 at 3:11, EDG302 (SESSIONS_KV undeclared) at 4:18, kept by each file's own settings.
EXPECTED = {("lib/counter.py", 3, "EDG101"), ("src/entry.py", 4, "EDG302"), ("tools/job.py", 3, "EDG101")}

Found = Set[Tuple[str, int, str]]


def _run(args, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess:
    completed = subprocess.run([sys.executable, "-m", *args], cwd=cwd, input=stdin, capture_output=True, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert completed.returncode in (0, 1), completed.stderr
    return completed


def _from_json(output: str) -> Found:
    return {(Path(f["path"]).as_posix(), f["line"], f["code"]) for f in json.loads(output)}


def _from_lines(output: str) -> Found:
    """`path:line:col: CODE message` lines (edgelint's text format, flake8's default)."""
    found = set()
    for line in output.splitlines():
        parts = line.split(":", 3)
        if len(parts) == 4 and parts[1].isdigit():
            found.add((Path(parts[0]).as_posix(), int(parts[1]), parts[3].split()[0]))
    return found


def directory(project: Path, request) -> Found:
    return _from_json(_run(["edgelint", "check", "--format", "json", "."], project).stdout)


def named_files(project: Path, request) -> Found:
    return _from_json(_run(["edgelint", "check", "--format", "json", *MODULES], project).stdout)


def one_file_at_a_time(project: Path, request) -> Found:
    return set().union(*(_from_json(_run(["edgelint", "check", "--format", "json", module], project).stdout)
                         for module in MODULES))


def stdin(project: Path, request) -> Found:
    return set().union(*(_from_json(_run(["edgelint", "check", "--format", "json", "-", "--stdin-filename", module],
                                         project, (project / module).read_text()).stdout) for module in MODULES))


def flake8(project: Path, request) -> Found:
    return _from_lines(_run(["flake8", "--select", "EDG", "."], project).stdout)


def pre_commit_hook(project: Path, request) -> Found:
    result = pre_commit(project, PROJECT, request.getfixturevalue("hook_repo"),
                        request.getfixturevalue("pre_commit_home"))
    return _from_lines(result.stdout)


FRONT_ENDS: Dict[str, Callable[[Path, pytest.FixtureRequest], Found]] = {
    "directory": directory, "named files": named_files, "one file at a time": one_file_at_a_time,
    "stdin": stdin, "flake8": flake8, "pre-commit": pre_commit_hook,
}


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_every_front_end_lints_each_file_under_its_own_configuration(tmp_path, request, front_end):
    write_project(tmp_path, PROJECT)
    assert FRONT_ENDS[front_end](tmp_path, request) == EXPECTED
