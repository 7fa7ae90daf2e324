"""The `edgelint` command as users run it: output, exit codes, noqa, selection, errors."""
from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, expected_markers, write_project


WRANGLER = '[[kv_namespaces]]\nbinding = "VIEWS"\nid = "1"\n'
COUNTER = textwrap.dedent("""\
    async def on_fetch(request, env):
        views = int(await env.VIEWS.get("views") or 0)
        await env.VIEWS.put("views", str(views + 1)){comment}
""")


def counter_project(tmp_path, comment="", extra=None):
    files = {"wrangler.toml": WRANGLER, "src/entry.py": COUNTER.format(comment=comment)}
    files.update(extra or {})
    write_project(tmp_path, files)
    return tmp_path


def test_findings_exit_1_with_text_lines_and_summary(tmp_path, run_cli):
    counter_project(tmp_path)
    code, out, err = run_cli("check", ".")
    assert code == 1
    assert out.startswith("src/entry.py:3:11: EDG101 KV read-modify-write of constant key \"views\" on binding VIEWS")
    assert "Found 1 problem" in err


def test_the_summary_follows_the_findings_in_one_stream(tmp_path):
    """`edgelint check . 2>&1 | less`: the report is flushed before the summary goes to stderr."""
    import subprocess
    import sys

    counter_project(tmp_path)
    merged = subprocess.run([sys.executable, "-m", "edgelint", "check", "."], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout
    assert merged.splitlines()[-1] == "Found 1 problem (0 fixable with --fix)."
    assert merged.startswith("src/entry.py:3:11: EDG101 ")


@pytest.mark.parametrize("large", [True, False], ids=["large", "small"])
def test_a_report_reaches_a_pipe_whole_before_the_process_leaves(tmp_path, large):
    """The command leaves without tearing the run down (`os._exit`): its output is flushed first,
    whether a large report went out while it was written or a small one waits in the buffer."""
    import subprocess
    import sys

    target = str(FIXTURES) if large else str(counter_project(tmp_path))
    completed = subprocess.run([sys.executable, "-m", "edgelint", "check", "--no-cache", "--format", "json", target],
                               cwd=tmp_path, capture_output=True, text=True, env=_buffered_output())
    assert completed.returncode == 1 and completed.stderr.startswith("Found ")
    assert len(json.loads(completed.stdout)) == (len(expected_markers(FIXTURES)) if large else 1)


def _buffered_output() -> dict:
    """The environment without PYTHONUNBUFFERED: the output waits in Python's buffer, as users' does."""
    import os

    return {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}


@pytest.mark.parametrize("large", [True, False], ids=["written-by-main", "flushed-on-leaving"])
def test_a_reader_that_has_gone_gets_no_traceback_and_exit_2(tmp_path, large):
    """`edgelint check | head -1` once head has left: a large report fails while it is written, a
    small one when the command flushes it on leaving."""
    import os
    import subprocess
    import sys

    target = str(FIXTURES) if large else str(counter_project(tmp_path))  # the summary flushes the report:
    quiet = [] if large else ["--quiet"]  # without it, the report is still buffered when `main` returns
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        completed = subprocess.run([sys.executable, "-m", "edgelint", "check", "--no-cache", "--format", "json",
                                    *quiet, target], cwd=tmp_path, stdout=write_end, stderr=subprocess.PIPE, text=True,
                                   env=_buffered_output())
    finally:
        os.close(write_end)
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr and "Exception ignored" not in completed.stderr


def test_subcommand_is_optional(tmp_path, run_cli):
    counter_project(tmp_path)
    assert run_cli("src")[0] == 1


def test_clean_project_prints_nothing_and_exits_0(tmp_path, run_cli):
    write_project(tmp_path, {"wrangler.toml": WRANGLER,
                             "src/entry.py": "async def on_fetch(request, env):\n    return await env.VIEWS.get('a')\n"})
    assert run_cli("check", ".") == (0, "", "")


@pytest.mark.parametrize("comment, reported", [
    ("  # noqa", False),
    ("  # noqa: EDG101", False),
    ("  # NOQA:EDG101,EDG201", False),
    ("  # noqa: EDG1", False),
    ("  # noqa: EDG201", True),
    ("  # noqa:", False),
    ("", True),
])
def test_noqa_like_flake8(tmp_path, run_cli, comment, reported):
    counter_project(tmp_path, comment)
    code, out, _ = run_cli("check", ".")
    assert ("EDG101" in out) == reported
    assert code == (1 if reported else 0)


def test_file_level_noqa(tmp_path, run_cli):
    counter_project(tmp_path)
    entry = tmp_path / "src/entry.py"
    entry.write_text("# edgelint: noqa\n" + entry.read_text())
    assert run_cli("check", ".")[0] == 0


def test_select_and_ignore(tmp_path, run_cli):
    counter_project(tmp_path)
    assert run_cli("check", ".", "--ignore", "EDG101,EDG105")[0] == 0
    code, out, _ = run_cli("check", ".", "--ignore", "EDG101")  # the constant key's write: EDG105 now
    assert code == 1 and "EDG105" in out and "EDG101" not in out
    assert run_cli("check", ".", "--select", "EDG2")[0] == 0
    assert run_cli("check", ".", "--select", "EDG1")[0] == 1
    code, _, err = run_cli("check", ".", "--select", "EDG777")
    assert code == 2 and "unknown rule code 'EDG777'" in err


def test_syntax_error_is_edg999_and_other_files_still_linted(tmp_path, run_cli):
    counter_project(tmp_path, extra={"src/broken.py": "def on_fetch(request, env):\n    return env.VIEWS.get(\n"})
    code, out, _ = run_cli("check", ".")
    assert code == 1
    assert "src/broken.py:" in out and "EDG999 syntax error" in out
    assert "src/entry.py:3:11: EDG101" in out


@pytest.mark.parametrize("name, text, problem", [
    ("wrangler.toml", "[[kv_namespaces]\nbinding = 1\n", "invalid TOML"),
    ("wrangler.jsonc", '{ "kv_namespaces": [ { "binding": "VIEWS", } ', "invalid JSONC"),
    ("pyproject.toml", "[tool.edgelint]\nselct = ['EDG101']\n", "unknown key 'selct'"),
    ("pyproject.toml", "[tool.edgelint]\nignore = ['EDG555']\n", "unknown rule code 'EDG555'"),
    ("pyproject.toml", "[tool.edgelint]\nselect = 'EDG101'\n", "must be a list of strings"),
    ("pyproject.toml", "[tool.edgelint.bindings]\nVIEWS = 'redis'\n", "unknown kind 'redis'"),
    ("pyproject.toml", "[tool.edgelint.rules.EDG201]\nallow = ['x']\n", "unknown option 'allow'"),
])
def test_broken_config_exits_2_with_one_line(tmp_path, run_cli, name, text, problem):
    files = {"src/entry.py": COUNTER.format(comment="")}
    if not name.startswith("wrangler"):
        files["wrangler.toml"] = WRANGLER
    files[name] = text
    write_project(tmp_path, files)
    code, out, err = run_cli("check", ".")
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and problem in lines[0] and name in lines[0], err
    assert "Traceback" not in err


def test_missing_path_is_an_error_but_others_are_linted(tmp_path, run_cli):
    counter_project(tmp_path)
    code, out, err = run_cli("check", "src", "nope")
    assert code == 2
    assert "EDG101" in out
    assert "nope: no such file or directory" in err


def test_json_format(tmp_path, run_cli):
    counter_project(tmp_path)
    code, out, _ = run_cli("check", ".", "--format", "json")
    [finding] = json.loads(out)
    assert code == 1
    assert finding["code"] == "EDG101" and finding["name"] == "kv-read-modify-write"
    assert (finding["line"], finding["column"], finding["severity"]) == (3, 11, "error")
    assert finding["fix"] is None and finding["url"].endswith("#edg101")


def test_demo_worker_reports_every_marker(run_cli):
    code, out, _ = run_cli("check", str(FIXTURES / "demo-worker"))
    assert code == 1
    assert len(out.strip().splitlines()) == len(expected_markers(FIXTURES / "demo-worker"))


def test_rule_documentation(run_cli):
    code, out, _ = run_cli("rule", "EDG101")
    assert code == 0
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety"):
        assert heading in out
    assert run_cli("rule", "EDG000")[0] == 2
    assert run_cli("rule", "kv-read-modify-write") == (code, out, "")  # a rule's name works as its code


@pytest.mark.parametrize("code, name", [("EDG999", "syntax-error"), ("EDG998", "internal-error")])
def test_engine_codes_document_themselves(run_cli, code, name):
    for spelling in (code, code.lower(), name):
        exit_code, out, _ = run_cli("rule", spelling)
        assert exit_code == 0 and out.startswith(f"# {code} {name}\n") and "## What it does" in out


def test_a_named_file_that_does_not_parse_is_reported_even_where_the_filter_skips_it(tmp_path, run_cli):
    # utils.py names no binding and no Workers API: a directory run does not parse it (README), a
    # named file is checked whole, as pre-commit and editors name the files they care about.
    counter_project(tmp_path, extra={"src/utils.py": "def total(items:\n    return sum(items)\n"})
    for _ in range(2):  # the second runs are answered from the cache
        code, out, _ = run_cli("check", "src/utils.py", "src/entry.py")
        assert code == 1
        assert out.splitlines()[1] == "src/utils.py:1:10: EDG999 syntax error: '(' was never closed"
        assert "src/utils.py" not in run_cli("check", ".")[1]
        assert run_cli("check", "--stdin-filename", "src/new.py", stdin="def f(:\n")[:2] == (
            1, "src/new.py:1:7: EDG999 syntax error: invalid syntax\n")


def test_no_python_files_is_a_warning_and_exit_0_like_ruff(tmp_path, run_cli):
    (tmp_path / "docs").mkdir()
    assert run_cli("check", "docs") == (0, "", "edgelint: warning: No Python files found under the given paths\n")

def test_fixing_a_named_file_reports_and_touches_only_that_file(tmp_path, run_cli):
    """As the pre-commit fix hook runs: the re-lint after the fix is reported like the first lint."""
    project = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo-worker", project)
    before = {path: path.read_bytes() for path in project.rglob("*.py")}
    code, out, err = run_cli("check", "--no-cache", "--fix", "--add-noqa", "src/activity.py", cwd=project)
    assert "Fixed 1 problem." in err and out == ""
    changed = [path.relative_to(project).as_posix() for path, data in before.items() if path.read_bytes() != data]
    assert changed == ["src/activity.py"]
    code, out, _ = run_cli("check", "--no-cache", "--fix", "src/activity.py", cwd=project)
    assert code == 0 and out == ""


def test_a_named_file_is_analysed_with_its_project(run_cli):
    # settings.py is only reached from entry.py's handler: the request path needs the whole project,
    # as pre-commit passes just the changed files.
    code, out, _ = run_cli("check", "--no-cache", "src/settings.py", cwd=FIXTURES / "demo-worker")
    assert code == 1
    assert [line.split(": ")[1].split()[0] for line in out.splitlines()] == ["EDG202", "EDG201"]
    assert all(line.startswith("src/settings.py:") for line in out.splitlines())


@pytest.mark.parametrize("where", ["build/worker", "venv/worker", "build"])
def test_a_project_inside_an_excluded_name_is_linted_when_named(tmp_path, run_cli, where):
    """Default excludes (`build`, `venv`, ...) apply below the paths named, not to where they live."""
    counter_project(tmp_path / where, extra={"src/build/generated.py": COUNTER.format(comment="")})
    code, out, _ = run_cli("check", "--no-cache", str(tmp_path / where))
    assert code == 1
    assert [line.split(":")[0] for line in out.splitlines()] == [str(tmp_path / where / "src/entry.py")]


def test_rule_without_a_code_and_clean_of_a_missing_path_are_one_error_line(run_cli):
    assert run_cli("rule") == (2, "", "edgelint: error: name a rule code (edgelint rule EDG101) or use --all\n")
    assert run_cli("clean", "does/not/exist") == (2, "", "edgelint: error: does/not/exist: no such file or directory\n")


def test_a_key_is_shown_readable_and_on_one_line(tmp_path, run_cli):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": (
        "async def on_fetch(request, env):\n    env.VIEWS.delete('café')\n    env.VIEWS.delete('a\\u2028b\\nc')\n")})
    code, out, _ = run_cli("check", "--no-cache", ".")
    lines = out.splitlines()
    assert code == 1 and len(lines) == 2
    assert 'VIEWS.delete("café")' in lines[0] and 'VIEWS.delete("a\\u2028b\\nc")' in lines[1]


@pytest.mark.parametrize("order", [("p1", "p2"), ("p2", "p1")])
def test_each_path_is_linted_under_its_own_configuration(tmp_path, run_cli, order):
    counter_project(tmp_path / "p1", extra={"pyproject.toml": '[tool.edgelint]\nignore = ["EDG1"]\n'})
    counter_project(tmp_path / "p2")
    code, out, _ = run_cli("check", "--no-cache", *order)
    assert code == 1
    assert [line.split(":")[0] for line in out.splitlines()] == [str(Path("p2/src/entry.py"))]


def test_a_wrangler_config_named_stands_for_its_project(tmp_path, run_cli):
    counter_project(tmp_path / "worker", extra={"src/helpers.py": COUNTER.format(comment="")})
    code, out, _ = run_cli("check", "worker/wrangler.toml")
    assert code == 1
    assert [line.split(":")[0] for line in out.splitlines()] == ["worker/src/entry.py", "worker/src/helpers.py"]
