"""The `check` options users bring from ruff and flake8 (issue 14): full output with the source
line, colour, --quiet, machine formats kept clean, -j 0/auto, excludes on the command line,
--show-settings, --show-files, --help with examples and exit codes, usage errors."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.helpers import write_project
from tests.test_cli import COUNTER, counter_project

ESCAPE = "\x1b["
FINDING = "src/entry.py:3:11: EDG101"


def run_with(tmp_path, *args, env=None, tty=False):
    """(exit code, stdout, stderr) of the CLI with extra environment variables, stdout on a
    pseudo-terminal when `tty`."""
    environment = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "FORCE_COLOR")}
    environment.update(env or {}, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "edgelint", "check", *args]
    if not tty:
        completed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=environment)
        return completed.returncode, completed.stdout, completed.stderr
    leader, follower = pty.openpty()
    with subprocess.Popen(command, cwd=tmp_path, stdout=follower, stderr=subprocess.PIPE, env=environment) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            chunks.append(chunk)
        err = process.stderr.read().decode()
    os.close(leader)
    return process.returncode, b"".join(chunks).decode().replace("\r\n", "\n"), err


@pytest.mark.parametrize("flags", [("--output-format", "full"), ("--show-source",)])
def test_full_output_shows_the_source_line_a_caret_and_the_related_locations(tmp_path, run_cli, flags):
    counter_project(tmp_path)
    code, out, _ = run_cli("check", *flags)
    assert code == 1
    assert out.splitlines()[:4] == [
        out.splitlines()[0],
        '        await env.VIEWS.put("views", str(views + 1))',
        "              ^",
        "    = read in on_fetch(): src/entry.py:2:23",
    ]
    assert out.startswith(FINDING) and ESCAPE not in out
    assert run_cli("check", "--output-format", "concise")[1] == run_cli("check")[1] == out.splitlines(True)[0]


@pytest.mark.parametrize("env, flags, coloured", [
    ({}, (), True),
    ({"NO_COLOR": "1"}, (), False),
    ({}, ("--color", "never"), False),
    ({}, ("--output-format", "json"), False),
])
def test_colour_on_a_terminal_unless_no_color(tmp_path, env, flags, coloured):
    counter_project(tmp_path)
    code, out, _ = run_with(tmp_path, *flags, env=env, tty=True)
    assert code == 1 and "EDG101" in out
    assert (ESCAPE in out) == coloured


@pytest.mark.parametrize("env, flags, coloured", [
    ({}, (), False),
    ({"FORCE_COLOR": "1"}, (), True),
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, (), False),
    ({}, ("--color", "always"), True),
])
def test_no_colour_when_output_is_not_a_terminal_unless_forced(tmp_path, env, flags, coloured):
    counter_project(tmp_path)
    code, out, _ = run_with(tmp_path, *flags, env=env)
    assert code == 1 and (ESCAPE in out) == coloured
    assert out.replace(ESCAPE, "").count("EDG101") == 1


def test_quiet_prints_the_findings_only(tmp_path, run_cli):
    counter_project(tmp_path, extra={"src/nothing/README.txt": ""})
    assert run_cli("check", "--quiet")[:2] == run_cli("check")[:2]
    code, out, err = run_cli("check", "-q")
    assert (code, err) == (1, "") and out.startswith(FINDING)
    assert run_cli("check", "-q", "src/nothing") == (0, "", "")


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_machine_readable_output_holds_no_summary(tmp_path, run_cli, fmt):
    counter_project(tmp_path)
    code, out, err = run_cli("check", "--format", fmt, "--statistics")
    assert code == 1 and "Found 1 problem" in err and "EDG101" in err  # summary and counts on stderr
    assert "EDG101" in json.dumps(json.loads(out))  # stdout is the document alone


@pytest.mark.parametrize("jobs", ["0", "auto"])
def test_jobs_0_and_auto_mean_one_per_cpu(run_cli, jobs):
    fixtures = ROOT / "fixtures"
    one = run_cli("check", str(fixtures), "-j1", "--no-cache")
    assert one[1] and run_cli("check", str(fixtures), "-j", jobs, "--no-cache") == one


def test_excludes_on_the_command_line_and_force_exclude(tmp_path, run_cli):
    counter = COUNTER.format(comment="")
    counter_project(tmp_path, extra={"src/gen/out.py": counter, "src/legacy.py": counter,
                                     "pyproject.toml": '[tool.edgelint]\nexclude = ["legacy.py"]\n'})

    def reported(*args):
        return sorted({line.split(":")[0] for line in run_cli("check", "--no-cache", *args)[1].splitlines()})

    assert reported() == ["src/entry.py", "src/gen/out.py"]
    assert reported("--extend-exclude", "gen") == ["src/entry.py"]
    assert reported("--exclude", "gen") == ["src/entry.py", "src/legacy.py"]  # replaces the configured exclude
    assert reported("--exclude", "src/gen/*,src/entry.py") == ["src/legacy.py"]  # paths from the current directory
    named = ("src/gen/out.py", "src/legacy.py", "src/entry.py")
    assert reported("--extend-exclude", "gen", *named) == ["src/entry.py", "src/gen/out.py", "src/legacy.py"]
    assert reported("--extend-exclude", "gen", "--force-exclude", *named) == ["src/entry.py"]
    code, out, _ = run_cli("check", "--force-exclude", "--stdin-filename", "src/legacy.py", stdin=counter)
    assert (code, out) == (0, "")


def test_show_settings_names_the_configuration_that_governs_a_file(tmp_path, run_cli):
    write_project(tmp_path, {"pyproject.toml": '[tool.edgelint]\nignore = ["EDG302"]\n',
                             "src/edgelint.toml": 'ignore = ["EDG1"]\n\n[bindings]\nVIEWS = "kv"\n'})
    code, out, err = run_cli("check", "--show-settings", "src/new.py")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"# settings of src/new.py: {tmp_path / 'src' / 'edgelint.toml'}"
    assert 'ignore = ["EDG1"]' in lines and 'bindings = {"VIEWS": "kv"}' in lines
    assert f"# settings of other.py: {tmp_path / 'pyproject.toml'}" in run_cli("check", "--show-settings", "other.py")[1]
    assert run_cli("check", "--show-settings", "x.py", "--ignore", "EDG2")[1].count('ignore = ["EDG2"]') == 1


def test_show_files_lists_what_would_be_linted(tmp_path, run_cli):
    counter_project(tmp_path, extra={"src/helpers.py": "", "build/out.py": "", "notes.txt": ""})
    assert run_cli("check", "--show-files") == (0, "src/entry.py\nsrc/helpers.py\n", "")
    assert run_cli("check", "--show-files", "src/entry.py", "build") == (0, "src/entry.py\nbuild/out.py\n", "")


def test_check_help_shows_examples_and_exit_codes(run_cli):
    code, out, _ = run_cli("check", "--help")
    assert code == 0
    assert "examples:\n  edgelint check" in out
    assert "exit codes:\n  0  no findings" in out and "\n  2  a usage" in out


@pytest.mark.parametrize("args", [("check", "--bogus"), ("--bogus",), ("check", "-j", "many")])
def test_a_bad_check_option_shows_checks_usage(run_cli, args):
    code, out, err = run_cli(*args)
    assert (code, out) == (2, "")
    assert err.startswith("usage: edgelint check ") and "\nedgelint check: error: " in err
