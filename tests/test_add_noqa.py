"""`--add-noqa`: every finding suppressed in one step, only comments changed, flake8 agreeing."""
from __future__ import annotations

import os
import stat
import textwrap

import pytest

from edgelint.add_noqa import insert_noqa
from tests.test_cli import counter_project
from tests.test_flake8_plugin import _run

RMW = textwrap.dedent("""\
    async def on_fetch(request, env):
        views = int(await env.VIEWS.get("views") or 0)
        await env.VIEWS.put("views", str(views + 1)){comment}
""")


def test_add_noqa_then_rerun_reports_nothing(tmp_path, run_cli):
    counter_project(tmp_path)
    entry = tmp_path / "src/entry.py"
    os.chmod(entry, 0o755)
    code, out, err = run_cli("check", ".", "--add-noqa")
    assert (code, out) == (0, "")
    assert "Added 1 noqa suppression in 1 file." in err
    assert entry.read_text().splitlines()[2] == '    await env.VIEWS.put("views", str(views + 1))  # noqa: EDG101'
    assert stat.S_IMODE(entry.stat().st_mode) == 0o755  # the atomic replace keeps the permissions
    assert run_cli("check", ".") == (0, "", "")
    assert "Added 0 noqa suppressions in 0 files." in run_cli("check", ".", "--add-noqa")[2]
    assert not [name for name in os.listdir(entry.parent) if name != "entry.py"]  # no temporary left


def test_add_noqa_keeps_encoding_bom_and_line_endings(tmp_path, run_cli):
    counter_project(tmp_path)
    crlf = b"\xef\xbb\xbf" + RMW.format(comment="").replace("\n", "\r\n").encode("utf-8")
    latin = ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + RMW.format(comment="")).encode("latin-1")
    (tmp_path / "src/crlf.py").write_bytes(crlf)
    (tmp_path / "src/latin.py").write_bytes(latin)
    assert run_cli("check", ".", "--add-noqa")[0] == 0
    assert (tmp_path / "src/crlf.py").read_bytes() == crlf.replace(
        b"+ 1))\r\n", b"+ 1))  # noqa: EDG101\r\n")
    assert (tmp_path / "src/latin.py").read_bytes() == latin.replace(b"+ 1))\n", b"+ 1))  # noqa: EDG101\n")
    assert run_cli("check", ".") == (0, "", "")


def test_multi_line_statement_is_suppressed_for_cli_and_flake8(tmp_path, run_cli):
    counter_project(tmp_path, extra={"src/multi.py": textwrap.dedent('''\
        async def on_fetch(request, env):
            n = await env.VIEWS.get("""a
        b""")
            await env.VIEWS.put("""a
        b""",
                n + "1")
    ''')})
    assert run_cli("check", ".")[1].count("EDG101") == 2
    assert run_cli("check", ".", "--add-noqa")[0] == 0
    # The reported line ends inside the string, so the comment goes on the line where it ends.
    assert (tmp_path / "src/multi.py").read_text().splitlines()[4] == 'b""",  # noqa: EDG101'
    assert run_cli("check", ".") == (0, "", "")
    flake8 = _run(["flake8", "--select", "EDG", "."], tmp_path)
    assert (flake8.returncode, flake8.stdout) == (0, "")


def test_syntax_errors_are_not_suppressed(tmp_path, run_cli):
    counter_project(tmp_path, extra={"src/broken.py": "def on_fetch(request, env):\n    return env.VIEWS.get(\n"})
    code, out, err = run_cli("check", ".", "--add-noqa")
    assert code == 1
    assert "EDG999" in out and "EDG101" not in out
    assert "Added 1 noqa suppression" in err


def test_add_noqa_refuses_stdin(tmp_path, run_cli):
    counter_project(tmp_path)
    code, _, err = run_cli("check", "-", "--stdin-filename", "src/entry.py", "--add-noqa", stdin=RMW.format(comment=""))
    assert code == 2 and "stdin" in err and "Traceback" not in err


@pytest.mark.parametrize("comment, expected", [
    ("  # noqa:E501", "  # noqa:E501, EDG101"),
    ("  # noqa: E501,W291", "  # noqa: E501,W291,EDG101"),
    ("  # noqa: E501 W291  -- long line", "  # noqa: E501 W291 EDG101  -- long line"),
    ("  # type: ignore  # NOQA : E501", "  # type: ignore  # NOQA : E501"),
    ("  # why this is fine", "  # why this is fine  # noqa: EDG101"),
    ("  # noqa", "  # noqa"),
    ("  # noqa: EDG1", "  # noqa: EDG1"),
])
def test_existing_comments_are_merged(comment, expected):
    # For flake8 `# NOQA : E501` is a bare noqa (codes must follow the colon at once): left alone.
    text, _ = insert_noqa(RMW.format(comment=comment), {(3, "EDG101")})
    assert text == RMW.format(comment=expected)


def test_lines_joined_by_a_string_get_one_comment_with_every_code():
    source = 'x = call("""a\nb""", c)\n'
    text, added = insert_noqa(source, {(1, "EDG102"), (2, "EDG101")})
    assert (text, added) == ('x = call("""a\nb""", c)  # noqa: EDG101, EDG102\n', 2)


def test_lines_inside_brackets_stand_alone_like_in_flake8():
    source = "x = call(a,\n         b)\n"
    text, added = insert_noqa(source, {(1, "EDG102"), (2, "EDG101")})
    assert (text, added) == ("x = call(a,  # noqa: EDG102\n         b)  # noqa: EDG101\n", 2)


def test_noqa_text_inside_a_string_is_not_edited():
    source = 'x = call("# noqa: E501")\n'
    assert insert_noqa(source, {(1, "EDG101")}) == (source, 0)


def test_backslash_continuation_gets_the_comment_on_the_last_line():
    source = "x = a + \\\n    b\n"
    assert insert_noqa(source, {(1, "EDG101")}) == ("x = a + \\\n    b  # noqa: EDG101\n", 1)


def test_form_feed_is_not_a_line_break_for_noqa(tmp_path, run_cli):
    # str.splitlines() breaks at \x0c, Python's tokenizer and flake8 do not.
    counter_project(tmp_path)
    (tmp_path / "src/entry.py").write_text("\x0c\n" + RMW.format(comment=""))
    assert run_cli("check", ".", "--add-noqa")[0] == 0
    assert run_cli("check", ".") == (0, "", "")


def test_a_symlinked_file_is_edited_through_the_link(tmp_path, run_cli):
    counter_project(tmp_path)
    real = tmp_path / "shared/entry.py"
    real.parent.mkdir()
    (tmp_path / "src/entry.py").rename(real)
    (tmp_path / "src/entry.py").symlink_to(real)
    assert run_cli("check", "src", "--add-noqa")[0] == 0
    assert (tmp_path / "src/entry.py").is_symlink() and "# noqa: EDG101" in real.read_text()
