"""The result cache (`.edgelint_cache/`, `--no-cache`, `edgelint clean`) and `--jobs`: a cached or
parallel run reports exactly what a cold serial run reports."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgelint import engine, parallel
from edgelint.cache import CACHE_DIR
from edgelint.config import Settings
from edgelint.discovery import discover
from edgelint.report import REPORTERS
from tests.conftest import ROOT
from tests.helpers import FIXTURES

NEW_BUG = ('\n\nasync def on_fetch(request, env):\n    n = int(await env.VIEWS.get("n") or 0)\n'
           '    await env.VIEWS.put("n", str(n + 1))\n')


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "demo-worker", tmp_path / "demo", ignore=shutil.ignore_patterns(CACHE_DIR))
    return tmp_path / "demo"


def entries(project: Path) -> list:
    return sorted((project / CACHE_DIR).glob("*.json"))


def test_warm_run_is_byte_identical_to_cold(demo, run_cli):
    cold = run_cli("check", ".", "--format", "json", cwd=demo)
    assert len(entries(demo)) == 1
    warm = run_cli("check", ".", "--format", "json", cwd=demo)
    uncached = run_cli("check", ".", "--format", "json", "--no-cache", cwd=demo)
    assert json.loads(cold[1])
    assert warm == cold == uncached


def test_warm_run_does_not_lint_again(demo, monkeypatch):
    def lint(use_cache: bool):
        files = discover([str(demo)], Settings(), [])
        return engine.lint_files(files, Settings(), demo, use_cache=use_cache).findings

    cold = lint(use_cache=True)

    def fail(self):
        raise AssertionError("linted although nothing changed")

    monkeypatch.setattr(engine.ProjectRun, "run", fail)
    assert lint(use_cache=True) == cold and cold


def test_warm_run_does_not_import_libcst(demo, run_cli):
    """A cache hit parses nothing, so it does not pay for importing libcst (most of its time)."""
    run_cli("check", ".", cwd=demo)
    script = ("import sys; from edgelint.cli import main; code = main(['check', '.']); "
              "print(code, 'libcst._nodes' in sys.modules)")
    completed = subprocess.run([sys.executable, "-c", script], cwd=demo, capture_output=True, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert completed.stdout.splitlines()[-1] == "1 False", completed.stderr


def test_editing_a_file_invalidates_the_cache(demo, run_cli):
    before = run_cli("check", ".", cwd=demo)[1]
    with open(demo / "src" / "pages.py", "a", encoding="utf-8") as handle:
        handle.write(NEW_BUG)
    after = run_cli("check", ".", cwd=demo)[1]
    assert after != before
    assert after == run_cli("check", ".", "--no-cache", cwd=demo)[1]
    assert len(entries(demo)) == 1  # the entry is replaced, not added to


def test_no_cache_writes_nothing(demo, run_cli):
    run_cli("check", ".", "--no-cache", cwd=demo)
    assert not (demo / CACHE_DIR).exists()


def test_corrupt_cache_entry_is_ignored(demo, run_cli):
    cold = run_cli("check", ".", cwd=demo)
    [entry] = entries(demo)
    valid = json.loads(entry.read_text())
    for garbage in ("{not json", '{"format": 1}', "[]", json.dumps(dict(valid, findings=[{"code": "EDG101"}])),
                    json.dumps(dict(valid, files=[["x"]])), json.dumps(dict(valid, governing=7))):
        entry.write_text(garbage, encoding="utf-8")
        assert run_cli("check", ".", cwd=demo) == cold
        assert json.loads(entry.read_text()) == valid  # rewritten whole


def test_clean_removes_the_cache(demo, run_cli):
    run_cli("check", ".", cwd=demo)
    assert (demo / CACHE_DIR).is_dir()
    code, _, err = run_cli("clean", cwd=demo / "src")  # from inside the project, as from its root
    assert code == 0 and "Removed" in err
    assert not (demo / CACHE_DIR).exists()
    assert run_cli("clean", cwd=demo) == (0, "", "")


def fixture_run(paths, jobs: int):
    files = discover([str(path) for path in paths], Settings(), [])
    result = engine.lint_files(files, Settings(), FIXTURES, jobs=jobs)
    return result.findings, REPORTERS["text"](result.findings), REPORTERS["json"](result.findings)


@pytest.mark.parametrize("paths", [[FIXTURES], [FIXTURES / "demo-worker"]], ids=["many-projects", "one-project"])
def test_parallel_run_equals_serial(paths, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_PARALLEL_FILES", 0)  # the fixtures are too small for a pool otherwise
    serial = fixture_run(paths, jobs=1)
    assert serial[0]
    assert fixture_run(paths, jobs=2) == serial


def test_jobs_flag(run_cli):
    one = run_cli("check", str(FIXTURES), "-j1", "--no-cache")
    assert one[1] and one == run_cli("check", str(FIXTURES), "--jobs", "2", "--no-cache")
    code, _, err = run_cli("check", str(FIXTURES), "-j-1")
    assert code == 2 and "expected a number of processes or auto" in err


def test_module_index_answers_like_lookup_module_name(tmp_path):
    from edgelint.model.project import ModuleIndex, lookup_module_name

    relative = ["src/app/__init__.py", "src/app/util.py", "src/app/sub/util.py", "src/app/sub/__init__.py",
                "lib/helpers.py", "__init__.py", "entry.py", "tools/entry.py"]
    paths = [str(tmp_path / path) for path in relative]
    names = {engine.module_name(path, tmp_path): path for path in paths}
    index = ModuleIndex(names)
    queries = ["", "app", "app.util", "util", "sub.util", "app.sub", "sub", "helpers", "lib.helpers", "entry",
               "__init__", "app.__init__", "src.app", "missing", "tools.entry", "app.sub.__init__"]
    for query in queries:
        found = lookup_module_name(names, query)
        assert index.get(query) == (names[found] if found is not None else None), query


def test_a_long_running_process_unpickles_an_unchanged_memory_once(tmp_path, monkeypatch):
    """The resident edgelint keeps what it unpickled while the file stays the same (edgelint.daemon)."""
    from edgelint import cache

    kept: dict = {}
    monkeypatch.setattr(cache, "_kept_values", kept)
    slot = cache.Slot(tmp_path, ["settings"], [], [])
    slot.store_analysis({"roots": [1]}, "bindings")
    first = slot.load_analysis("bindings")
    assert first == {"roots": [1]} and slot.load_analysis("bindings") is first
    assert slot.load_analysis("other bindings") is None
    monkeypatch.setattr(cache, "_kept_values", None)  # another process replaces the file
    slot.store_analysis({"roots": [2]}, "bindings")
    monkeypatch.setattr(cache, "_kept_values", kept)
    assert slot.load_analysis("bindings") == {"roots": [2]}
