"""The running interpreter's standard library and site-packages lint without a crash, and deeply
nested code is analysed, not just survived (issue 6, robustness).

The corpus is linted twice: as users run edgelint (the relevance filter skips most files before
parsing) and with the filter off, so that libcst and the model see every file. In CI each run takes
every k-th file of the sorted list (the same sample on every run; the unfiltered run parses and
analyses everything it gets, so its sample is smaller); `EDGELINT_FULL_CORPUS=1` lints every file.
"""
from __future__ import annotations

import ast
import json
import os
import sys
import sysconfig
import warnings
from pathlib import Path
from typing import Dict, List

import pytest

from edgelint.deepstack import call_with_deep_stack
from tests.helpers import lint_directory, write_project
from tests.test_cli import COUNTER, WRANGLER

FULL_CORPUS = os.environ.get("EDGELINT_FULL_CORPUS") == "1"
SAMPLES = {"filtered": ((), 3), "unfiltered": (("--no-filter",), 50)}  # CLI flags, k
TOPICS = Path(sysconfig.get_paths()["stdlib"]) / "pydoc_data" / "topics.py"
PACKAGE_DIRS = ("site-packages", "dist-packages")


def library_roots() -> List[Path]:
    roots: List[Path] = []
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = Path(sysconfig.get_paths()[key]).resolve()
        if path not in roots:
            roots.append(path)
    return roots


def library_files() -> List[str]:
    """Every .py file of the stdlib and of this interpreter's site-packages, sorted.

    A site-packages directory that is not one of the roots belongs to another interpreter (the base
    of this virtual environment) and is left out.
    """
    roots = library_roots()
    files: List[str] = []
    for root in roots:
        for current, dirnames, filenames in os.walk(root):
            dirnames[:] = [name for name in dirnames
                           if name not in PACKAGE_DIRS and Path(current, name).resolve() not in roots]
            files.extend(os.path.join(current, name) for name in filenames if name.endswith(".py"))
    return sorted(set(files))


def python_rejects(path: str) -> bool:
    """Whether Python's own parser refuses the file too (deliberately broken test data)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ast.parse(Path(path).read_bytes())
        except (SyntaxError, ValueError):
            return True
    return False


def per_file_problems(err: str, files: List[str]) -> Dict[str, str]:
    """stderr's `edgelint: error: PATH: PROBLEM` lines by path; anything else fails the test."""
    problems: Dict[str, str] = {}
    for line in err.splitlines():
        if line.startswith("Found "):
            continue
        assert line.startswith("edgelint: error: /"), line
        rest = line[len("edgelint: error: "):]
        path = next((name for name in files if rest.startswith(name + ": ")), None)
        assert path is not None, line
        problems[path] = rest[len(path) + 2:]
    return problems


@pytest.mark.parametrize("flags, every", SAMPLES.values(), ids=SAMPLES.keys())
def test_standard_library_and_site_packages_lint_without_a_crash(run_cli, flags, every):
    files = library_files()[::1 if FULL_CORPUS else every]
    assert len(files) * every > 1000, "the corpus should hold the whole standard library"
    code, out, err = run_cli("check", "--no-cache", "--format", "json", *flags, *files)
    assert "Traceback" not in err
    findings = json.loads(out)
    assert [f for f in findings if f["code"] == "EDG998"] == []
    problems = per_file_problems(err, files)
    # EDG999 on code Python accepts must say that libcst is the one refusing it (a few stdlib
    # tests use parenthesized annotation targets, `(name): int`, that libcst does not parse).
    refused = sorted({f["path"] for f in findings
                      if f["code"] == "EDG999" and not f["message"].startswith("unsupported syntax:")}
                     | set(problems))
    assert [path for path in refused if not python_rejects(path)] == [], problems
    assert code == 2 if problems else code in (0, 1)


needs_topics = pytest.mark.skipif(not TOPICS.is_file(), reason="this Python ships no pydoc_data/topics.py")


@needs_topics
def test_pydoc_topics_lints_clean_even_without_the_relevance_filter(run_cli):
    assert run_cli("check", "--no-cache", "--no-filter", str(TOPICS)) == (0, "", "")


@needs_topics
def test_pydoc_topics_strings_are_analysed_when_used_as_a_key(tmp_path, run_cli):
    # Its concatenations of hundreds of strings nest as deeply in libcst's tree: evaluating one as a
    # KV key must give the finding, not an internal error.
    handler = COUNTER.format(comment="").replace('"views"', 'topics["assert"]')
    source = TOPICS.read_text(encoding="utf-8") + "\n\n" + handler
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/topics.py": source})
    code, out, err = run_cli("check", "--no-cache", ".")
    put_line = source.count("\n", 0, source.index("await env.VIEWS.put")) + 1
    assert [line.split(" ", 2)[:2] for line in out.splitlines()] == [[f"src/topics.py:{put_line}:11:", "EDG101"]]
    assert code == 1 and "EDG998" not in err


HANDLER = COUNTER.format(comment="").replace('"views"', "KEY")
DEEP_MODULES = {
    "implicitly concatenated string of 1,500 parts": "KEY = (\n" + "    'part'\n" * 1500 + ")\n",
    "chain of 1,500 additions": "KEY = " + " + ".join(["'a'"] * 1500) + "\n",
    "attribute chain of 1,500 names": "KEY = str(settings" + ".child" * 1500 + ")\n",
    # Deeper than Python's own parser accepts, so positions come from libcst's recursive provider.
    "250 nested lists": "KEY = str(" + "[" * 250 + "]" * 250 + ")\n",
    "recursive nested function": "def key():\n    def walk(node):\n        return [walk(child) for child in node]\n"
                                 "    return str(walk([]))\n\n\nKEY = key()\n",
}


@pytest.mark.parametrize("use_filter", [True, False], ids=["outlined", "whole"])
@pytest.mark.parametrize("module", DEEP_MODULES.values(), ids=DEEP_MODULES.keys())
def test_deeply_nested_code_is_analysed_without_internal_error(tmp_path, module, use_filter):
    source = module + "\n\n" + HANDLER
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": source})
    result = lint_directory(tmp_path, use_filter=use_filter)
    put_line = source.count("\n", 0, source.index("await env.VIEWS.put")) + 1
    assert [(f.code, f.line, f.column) for f in result.findings] == [("EDG101", put_line, 11)], result.findings


def test_deep_stack_gives_room_passes_results_and_errors_and_restores_the_limit():
    def depth(levels: int) -> int:
        return 0 if levels == 0 else 1 + depth(levels - 1)

    limit = sys.getrecursionlimit()
    assert call_with_deep_stack(lambda: depth(20_000)) == 20_000
    with pytest.raises(KeyError):
        call_with_deep_stack(lambda: {}["missing"])
    assert sys.getrecursionlimit() == limit
