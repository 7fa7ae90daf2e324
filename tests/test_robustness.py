"""Bad input through the real CLI (issue 6, robustness): one clear line each, the rest linted.

Exit codes, as decided here: a file that cannot be read (unreadable, not a regular file, a broken
link) is reported on stderr as one line `edgelint: error: PATH: PROBLEM`, every other file is still
linted and reported, and the run exits 2 (like a missing path). A file that is read but is not
Python source is the finding EDG999 at the position of the problem, and the run exits 1 as for any
finding (interfaces.md: "a file that cannot be parsed or decoded is reported as a finding EDG999"):
one that does not decode (invalid encoding, binary data) where decoding fails, one that does not
parse where Python's own parser says. A symbolic link loop is a warning line: every file below it is
still linted exactly once, so the exit code is unchanged.

Each test puts the known KV read-modify-write of `tests.test_cli.COUNTER` in `src/entry.py` beside
the bad input and checks that it is still reported.
"""
from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest

from edgelint import engine
from tests.conftest import ROOT
from tests.helpers import lint_directory, write_project
from tests.test_cli import COUNTER, counter_project

ENTRY_FINDING = "src/entry.py:3:11: EDG101"
HANDLER = COUNTER.format(comment="")


def bad_project(tmp_path: Path, name: str, data: bytes) -> Path:
    counter_project(tmp_path)
    target = tmp_path / "src" / name
    target.write_bytes(data)
    return target


def problem_lines(err: str) -> List[str]:
    """stderr without the summary line."""
    assert "Traceback" not in err, err
    return [line for line in err.splitlines() if not line.startswith("Found ")]


def finding_at(text: str, needle: str, path: str) -> str:
    """`path:line:col: EDG101` for the call starting with `needle` (1-based like the report)."""
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if needle in line:
            return f"{path}:{number}:{line.index(needle) + 1}: EDG101"
    raise AssertionError(needle)


@pytest.mark.parametrize("name, data, problem", [
    ("invalid_utf8.py", b'x = "\xff"\n', "1:6: EDG999 cannot decode as utf-8: invalid byte 0xff"),
    ("late_invalid_utf8.py", b'x = 1\ny = 2\nz = "\xc3\xa9\xe9"\n', "3:7: EDG999 cannot decode as utf-8: invalid byte 0xe9"),
    ("ascii_cookie.py", b'# coding: ascii\nname = "caf\xc3\xa9"\n', "2:12: EDG999 cannot decode as ascii: invalid byte 0xc3"),
    ("unknown_cookie.py", b"# -*- coding: klingon -*-\nx = 1\n", "1:1: EDG999 cannot decode: unknown encoding: klingon"),
    ("second_line_cookie.py", b"#!/usr/bin/env python\n# coding: klingon\n", "2:1: EDG999 cannot decode: unknown encoding"),
    ("binary.py", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)), "1:8: EDG999 binary file (contains NUL bytes)"),
    ("nul_in_text.py", b"x = 1\x00\n", "1:6: EDG999 binary file (contains NUL bytes)"),
])
@pytest.mark.parametrize("named", [False, True], ids=["directory", "named"])
def test_undecodable_file_is_edg999_where_decoding_fails_and_exit_1(tmp_path, run_cli, name, data, problem, named):
    bad_project(tmp_path, name, data)
    for _ in range(2):  # the second run is answered from the cache
        code, out, err = run_cli("check", *([f"src/{name}", "src/entry.py"] if named else ["."]))
        assert f"src/{name}:{problem}" in out
        assert ENTRY_FINDING in out
        assert problem_lines(err) == []
        assert code == 1


@pytest.mark.parametrize("text, expected", [
    ("async def on_fetch(request, env):\n    return env.VIEWS.get(\n",
     "src/broken.py:2:25: EDG999 syntax error: '(' was never closed"),
    # libcst gives up a line later, at `pass`; Python points at the colon.
    ("x = env.VIEWS\ndef f(:\n    pass\n", "src/broken.py:2:7: EDG999 syntax error: invalid syntax"),
    ("async def on_fetch(request, env):\nreturn env.VIEWS\n",
     "src/broken.py:2:1: EDG999 syntax error: expected an indented block after function definition on line 1"),
    # Valid Python that libcst does not support: the finding must not blame the code. (Two statements
    # on a line are parsed up front; `(name): int = 1` alone is a constant, parsed only if asked for.)
    ("x = env.VIEWS\n(name): int = 1; y = 2\n",
     "src/broken.py:2:9: EDG999 unsupported syntax: Python accepts this code but libcst, edgelint's parser, "
     "does not: parser error: error at 2:8: expected one of"),
])
def test_syntax_error_is_edg999_at_pythons_position(tmp_path, run_cli, text, expected):
    bad_project(tmp_path, "broken.py", text.encode())
    code, out, err = run_cli("check", ".")
    [reported] = [line for line in out.splitlines() if "EDG999" in line]
    assert reported.startswith(expected)
    assert ENTRY_FINDING in out
    assert problem_lines(err) == []
    assert code == 1


LATIN1_HANDLER = (
    "# -*- coding: latin-1 -*-\n"
    "async def on_fetch(request, env):\n"
    "    views = int(await env.VIEWS.get('caf\u00e9') or 0)\n"
    "    note = '\u00e9t\u00e9 d\u00e9j\u00e0'; await env.VIEWS.put('caf\u00e9', str(views + 1))\n"
)
DOCSTRING_HANDLER = (
    "async def on_fetch(request, env):\n"
    '    """Count views.\n\n    Two more lines.\n    """\n'
    + HANDLER.split("\n", 1)[1]
)
FORM_FEED_HANDLER = "# page one\n\x0c\n# page two\n" + LATIN1_HANDLER.split("\n", 1)[1]


@pytest.mark.parametrize("name, data, text", [
    ("latin1.py", LATIN1_HANDLER.encode("latin-1"), LATIN1_HANDLER),
    ("bom.py", b"\xef\xbb\xbf" + HANDLER.encode(), HANDLER),
    ("crlf.py", DOCSTRING_HANDLER.replace("\n", "\r\n").encode(), DOCSTRING_HANDLER),
    ("cr.py", DOCSTRING_HANDLER.replace("\n", "\r").encode(), DOCSTRING_HANDLER),
    # Python does not end lines at form feeds: neither may the positions.
    ("form_feed.py", FORM_FEED_HANDLER.encode(), FORM_FEED_HANDLER),
])
def test_encodings_and_line_endings_lint_normally_at_the_right_position(tmp_path, run_cli, name, data, text):
    bad_project(tmp_path, name, data)
    code, out, err = run_cli("check", ".")
    assert finding_at(text, "env.VIEWS.put", f"src/{name}") in out
    assert ENTRY_FINDING in out
    assert problem_lines(err) == []
    assert code == 1


@pytest.mark.parametrize("data", [b"", b"\n", b"\xef\xbb\xbf", b"# only a comment"], ids=repr)
def test_empty_file_is_linted_silently(tmp_path, run_cli, data):
    bad_project(tmp_path, "empty.py", data)
    code, out, err = run_cli("check", ".")
    assert [line.split(' ', 1)[0] for line in out.splitlines()] == [ENTRY_FINDING.split(' ', 1)[0]]
    assert problem_lines(err) == []
    assert code == 1


def generated_module(size: int) -> str:
    """Ordinary generated code (no binding anywhere) of about `size` bytes."""
    block = ("def helper_{0}(items, factor={0}):\n"
             "    total = sum(item * factor for item in items if item % 3)\n"
             "    return {{'name': 'helper_{0}', 'total': total}}\n\n\n")
    return "".join(block.format(number) for number in range(size // len(block.format(0)) + 1))


# A budget for CLI start-up plus linting both 5 MB files, far above the ~1.5 s this takes on a
# developer machine, so that only a real regression (parsing what the filter should skip, quadratic
# work on the big literal) fails a loaded CI machine.
FIVE_MB_SECONDS = 20.0


def test_five_megabyte_files_lint_quickly(tmp_path, run_cli):
    # A Worker that embeds a 5 MB asset is parsed and analysed; 5 MB of generated code without
    # bindings is skipped by the relevance filter.
    asset = "PAGE = " + repr("<p>hello</p>\n" * (5 * 1024 * 1024 // 14)) + "\n\n"
    bad_project(tmp_path, "asset.py", (asset + HANDLER).encode())
    (tmp_path / "src" / "generated.py").write_text(generated_module(5 * 1024 * 1024))
    assert all(path.stat().st_size > 5_000_000 for path in (tmp_path / "src").glob("[ag]*.py"))
    started = time.perf_counter()
    code, out, err = run_cli("check", "--no-cache", ".")
    elapsed = time.perf_counter() - started
    assert finding_at(asset + HANDLER, "env.VIEWS.put", "src/asset.py") in out
    assert ENTRY_FINDING in out
    assert problem_lines(err) == []
    assert code == 1
    assert elapsed < FIVE_MB_SECONDS


def test_unreadable_file_is_one_error_line_and_exit_2(tmp_path, run_cli):
    target = bad_project(tmp_path, "secret.py", HANDLER.encode())
    target.chmod(0)
    try:
        if os.access(target, os.R_OK):
            pytest.skip("running as root (as CI does): chmod 000 does not prevent reading; "
                        "test_broken_link_and_fifo_are_one_error_line_each covers unreadable files")
        code, out, err = run_cli("check", ".")
    finally:
        target.chmod(0o644)
    assert problem_lines(err) == ["edgelint: error: src/secret.py: cannot read: Permission denied"]
    assert ENTRY_FINDING in out
    assert code == 2


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_broken_link_and_fifo_are_one_error_line_each(tmp_path, run_cli):
    # Files that exist in a listing but cannot be read, whoever runs the test. A FIFO would block
    # the run forever if it were opened.
    counter_project(tmp_path)
    (tmp_path / "src" / "broken_link.py").symlink_to(tmp_path / "gone.py")
    os.mkfifo(tmp_path / "src" / "pipe.py")
    code, out, err = run_cli("check", ".")
    assert problem_lines(err) == ["edgelint: error: src/broken_link.py: cannot read: broken symbolic link",
                                  "edgelint: error: src/pipe.py: cannot read: not a regular file"]
    assert ENTRY_FINDING in out
    assert code == 2
    code, out, err = run_cli("check", "src/pipe.py", "src/entry.py")  # named on the command line
    assert problem_lines(err) == ["edgelint: error: src/pipe.py: cannot read: not a regular file"]
    assert (code, out.count("EDG101")) == (2, 1)


def test_directory_symlink_loop_is_a_warning_and_every_file_is_linted_once(tmp_path, run_cli):
    counter_project(tmp_path)
    (tmp_path / "src" / "nested").mkdir()
    (tmp_path / "src" / "nested" / "loop").symlink_to(tmp_path / "src", target_is_directory=True)
    code, out, err = run_cli("check", ".")
    assert problem_lines(err) == [
        "edgelint: warning: src/nested/loop: symbolic link loop (links to an ancestor), not followed"]
    assert out.count("EDG101") == 1 and ENTRY_FINDING in out
    assert code == 1


def test_path_that_does_not_exist_is_one_error_line_and_exit_2(tmp_path, run_cli):
    counter_project(tmp_path)
    code, out, err = run_cli("check", "src", "missing.py")
    assert problem_lines(err) == ["edgelint: error: missing.py: no such file or directory"]
    assert ENTRY_FINDING in out
    assert code == 2


def test_linted_code_is_never_imported_or_executed(tmp_path, run_cli):
    # Every module, the package __init__, the helper the entry imports and the setup.py that some
    # tools run, would create the marker if anything imported or executed it.
    marker = tmp_path / "executed.txt"
    payload = f"open({str(marker)!r}, 'w').close()\n"
    entry = payload + "from . import helpers\n" + HANDLER
    counter_project(tmp_path, extra={"src/__init__.py": payload, "src/helpers.py": payload,
                                     "src/entry.py": entry, "setup.py": payload})
    expected = finding_at(entry, "env.VIEWS.put", "src/entry.py")
    for flags in ((), ("--no-filter",)):
        code, out, _ = run_cli("check", "--no-cache", *flags, ".")
        assert (code, out.count("EDG101")) == (1, 1) and expected in out
    flake8 = subprocess.run([sys.executable, "-m", "flake8", "--select", "EDG", "."], cwd=tmp_path,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert expected.replace("src/", "./src/") in flake8.stdout, flake8.stderr
    assert not marker.exists()


def test_collector_thresholds_are_tuned_for_a_run_and_restored_after_it(tmp_path, monkeypatch):
    seen = []
    real_run = engine.ProjectRun._index
    monkeypatch.setattr(engine.ProjectRun, "_index",
                        lambda self, *args: seen.append(gc.get_threshold()) or real_run(self, *args))
    before = gc.get_threshold()
    assert lint_directory(counter_project(tmp_path)).findings
    assert seen and seen[0][0] > before[0]
    assert gc.get_threshold() == before


def run_without(package: str, project: Path, *args: str) -> subprocess.CompletedProcess:
    """edgelint's source run by a Python that lacks `package` (a checkout run with another interpreter)."""
    hide = f"import sys; sys.modules[{package!r}] = None; from edgelint.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", hide, *args], cwd=project, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_a_dependency_missing_from_the_environment_is_one_error_line(tmp_path):
    write_project(tmp_path, {"wrangler.jsonc": '{"kv_namespaces": [{"binding": "KV", "id": "1"}]}',
                             "src/entry.py": "async def on_fetch(request, env):\n    await env.KV.get('k')\n"})
    completed = run_without("libcst", tmp_path, "check", "--no-cache", ".")
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    [line] = completed.stderr.splitlines()
    assert line.startswith("edgelint: error: ") and "lacks the package 'libcst'" in line


RMW = "async def on_fetch(request, env):\n    n = int(await env.KV.get('n') or 0)\n    await env.KV.put('n', str(n + 1))\n"


def test_wrangler_jsonc_is_read_without_json5_as_with_it(tmp_path):
    """JSONC (comments, trailing commas) is read by `json` once those are blanked when json5 is
    missing: the same bindings, findings and error lines."""
    config = ('{\n  // the counter\n  "kv_namespaces": [\n    {"binding": "KV", "id": "1", /* prod */},\n  ],\n'
              '  "vars": {"URL": "https://example.com/*not-a-comment*/,"},\n}\n')
    write_project(tmp_path, {"wrangler.jsonc": config, "src/entry.py": RMW})
    with_json5 = subprocess.run([sys.executable, "-m", "edgelint", "check", "--no-cache", "."], cwd=tmp_path,
                                capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    without = run_without("json5", tmp_path, "check", "--no-cache", ".")
    assert without.returncode == with_json5.returncode == 1 and without.stderr == with_json5.stderr
    assert "error" not in without.stderr
    assert without.stdout == with_json5.stdout and "EDG101" in without.stdout
    (tmp_path / "wrangler.jsonc").write_text('{\n  "kv_namespaces": [\n    {"binding": "KV" "id": "1"}\n  ]\n}\n')
    broken = run_without("json5", tmp_path, "check", "--no-cache", ".")
    [line] = broken.stderr.splitlines()
    assert broken.returncode == 2 and "wrangler.jsonc: invalid JSONC" in line and "line 3" in line
