"""`--fix`, `--diff` and the fix machinery: correct, idempotent, byte-preserving, never invalid."""
from __future__ import annotations

import io
import json
import shutil
import stat
import tempfile
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgelint.findings import Edit, Finding, Fix
from edgelint.fixes import FileFix, apply_edits, awaitable_statement_calls, plan_fixes, write_fix
from edgelint.textio import content_digest
from tests.helpers import lint_directory, write_project

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "unawaited-calls"
WRANGLER = '[[kv_namespaces]]\nbinding = "NOTES"\nid = "1"\n'


def snapshot(root: Path) -> dict:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*.py"))}


@pytest.fixture
def project(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "project")
    return tmp_path / "project"


def test_fix_leaves_no_edg301_valid_code_and_is_idempotent(project, run_cli):
    code, _, err = run_cli("check", "--fix", ".", cwd=project)
    assert code == 0, err
    assert "Fixed 7 problems." in err
    for text in snapshot(project).values():
        cst.parse_module(text.decode("utf-8"))
        compile(text, "fixed", "exec")
    assert not [f for f in lint_directory(project).findings if f.code == "EDG301"]
    entry = (project / "src/entry.py").read_text()
    assert '            await self.env.NOTES.delete(f"note:{note_id}")  # expect: EDG301\n' in entry
    assert "        (await self.env.NOTES  # expect: EDG301\n            .put(" in entry
    fixed = snapshot(project)
    assert run_cli("check", "--fix", ".", cwd=project)[0] == 0
    assert snapshot(project) == fixed


def test_diff_prints_the_change_and_writes_nothing(project, run_cli):
    before = snapshot(project)
    code, out, err = run_cli("check", "--diff", ".", cwd=project)
    assert code == 1
    assert snapshot(project) == before
    assert "--- src/notebook.py\n+++ src/notebook.py\n" in out
    assert '-        self.ctx.storage.setAlarm(86_400_000)  # expect: EDG301\n' in out
    assert '+        await self.ctx.storage.setAlarm(86_400_000)  # expect: EDG301\n' in out
    assert "EDG301" not in out.replace("# expect: EDG301", "")  # the diff only, no report lines
    assert "Would fix 7 problems." in err


def test_json_report_carries_the_fix(project, run_cli):
    _, out, _ = run_cli("check", "--format", "json", "src/notebook.py", cwd=project)
    fixes = [finding["fix"] for finding in json.loads(out)]
    assert fixes[0] == {"applicability": "safe", "message": "Insert `await`",
                        "edits": [{"line": 9, "column": 9, "end_line": 9, "end_column": 9, "content": "await "}]}


ASYNC_BODY = "async def on_fetch(request, env):\n    env.NOTES.put(request.url, 'x')  # café\n    return 'ok'\n"


@pytest.mark.parametrize("encoding, prefix, newline", [
    ("utf-8-sig", b"", "\r\n"),
    ("latin-1", b"# -*- coding: latin-1 -*-\r\n", "\r\n"),
    ("latin-1", b"# -*- coding: latin-1 -*-\n", "\n"),
])
def test_fix_keeps_encoding_bom_cookie_and_line_endings(tmp_path, run_cli, encoding, prefix, newline):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": ""})
    entry = tmp_path / "src" / "entry.py"
    entry.write_bytes(prefix + ASYNC_BODY.replace("\n", newline).encode(encoding))
    assert run_cli("check", "--fix", ".")[0] == 0
    expected = prefix + ASYNC_BODY.replace("    env.", "    await env.").replace("\n", newline).encode(encoding)
    assert entry.read_bytes() == expected


def test_fix_lands_on_the_call_or_nowhere(tmp_path, run_cli):
    """Form feeds and U+2028 are not line ends for Python: the fix lands exactly on the call."""
    source = ('async def on_fetch(request, env):\n    s = "a\u2028b"\n    x = 1\x0c\n'
              '    t = "é"; env.NOTES.put(request.url, "é")\n')
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": source})
    assert run_cli("check", "--fix", ".")[0] == 0
    assert (tmp_path / "src/entry.py").read_text(encoding="utf-8") == source.replace("; env.", "; await env.")


@pytest.mark.parametrize("mode", [0o600, 0o644, 0o755])
def test_fix_keeps_the_file_mode(tmp_path, run_cli, mode):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": ASYNC_BODY})
    entry = tmp_path / "src" / "entry.py"
    entry.chmod(mode)
    assert run_cli("check", "--fix", ".")[0] == 0
    assert stat.S_IMODE(entry.stat().st_mode) == mode
    assert "await env.NOTES.put" in entry.read_text()
    assert [p.name for p in entry.parent.iterdir()] == ["entry.py"]  # no temporary file left behind


def test_fix_writes_through_a_symlink(tmp_path, run_cli):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "real/entry.py": ASYNC_BODY})
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").symlink_to(tmp_path / "real" / "entry.py")
    assert run_cli("check", "--fix", "src")[0] == 0
    assert (tmp_path / "src" / "entry.py").is_symlink()
    assert "await env.NOTES.put" in (tmp_path / "real" / "entry.py").read_text()


def test_stdin_fix_prints_the_fixed_source(tmp_path, run_cli):
    write_project(tmp_path, {"wrangler.toml": WRANGLER})
    code, out, _ = run_cli("check", "--fix", "-", "--stdin-filename", "src/entry.py", stdin=ASYNC_BODY)
    assert code == 0
    assert out == ASYNC_BODY.replace("    env.", "    await env.")
    assert not (tmp_path / "src" / "entry.py").exists()


@pytest.mark.parametrize("source, fixable", [
    ("async def on_fetch(request, env):\n    env.NOTES.delete(request.url)\n", True),
    ("def on_fetch(request, env):\n    env.NOTES.delete(request.url)\n", False),
    ("async def on_fetch(request, env):\n    def later():\n        env.NOTES.delete(request.url)\n    later()\n",
     False),
    ("def on_fetch(request, env):\n    async def later():\n        env.NOTES.delete(request.url)\n    return later()\n",
     True),
    ("async def on_fetch(request, env):\n    x = [env.NOTES.delete(request.url)]\n    return x\n", None),
    ("async def on_fetch(request, env):\n    x = [env.NOTES.delete(request.url)]\n    return 1\n", False),
])
def test_fix_only_where_await_compiles(tmp_path, source, fixable):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": source})
    found = [f for f in lint_directory(tmp_path).findings if f.code == "EDG301"]
    if fixable is None:
        assert not found  # stored in a list that is returned: not dropped
        return
    assert len(found) == 1 and (found[0].fix is not None) == fixable
    assert ("; await it," in found[0].message) == fixable
    assert "ctx.waitUntil()" in found[0].message


def test_await_is_offered_only_where_the_innermost_scope_is_async():
    tree = cst.parse_module(textwrap.dedent("""\
        async def a(kv):
            kv.put("a", 1)
            class Inner:
                kv.put("b", 2)
            def sync():
                kv.put("c", 3)
            async def nested():
                kv.put("d", 4)
            fn = lambda: kv.put("e", 5)
            x = kv.put("f", 6)
            (kv.put("g", 7))
    """))
    found = awaitable_statement_calls(tree)
    calls = []
    tree.visit(type("Calls", (cst.CSTVisitor,), {"visit_Call": lambda self, node: calls.append(node)})())
    offered = {cst.Module([]).code_for_node(call.args[0].value) for call in calls if id(call) in found}
    assert offered == {'"a"', '"d"', '"g"'}


def finding(path: str, line: int, column: int, content: str = "await ", applicability: str = "safe") -> Finding:
    edit = Edit(line, column, line, column, content)
    return Finding("EDG301", "m", path, line, column, line, column, fix=Fix("Insert `await`", applicability, (edit,)))


def test_plan_refuses_a_result_that_does_not_compile():
    text = "def handler(env):\n    env.NOTES.delete('k')\n"
    planned, problems = plan_fixes([finding("x.py", 2, 5)], {"x.py": text}, unsafe=False)
    assert planned == [] and "'await' outside async function" in problems[0]
    planned, problems = plan_fixes([finding("x.py", 2, 5, "(")], {"x.py": text}, unsafe=False)
    assert planned == [] and problems


def test_plan_applies_unsafe_fixes_only_when_asked_and_skips_overlaps():
    text = "async def handler(env):\n    env.NOTES.delete('k')\n"
    unsafe = finding("x.py", 2, 5, applicability="unsafe")
    assert plan_fixes([unsafe], {"x.py": text}, unsafe=False) == ([], [])
    planned, _ = plan_fixes([unsafe, finding("x.py", 2, 5)], {"x.py": text}, unsafe=True)
    assert planned[0].after.count("await ") == 1 and planned[0].fixed == 1


def test_write_refuses_a_file_changed_since_it_was_linted(tmp_path):
    target = tmp_path / "entry.py"
    target.write_text("x = 1\n")
    problem = write_fix(FileFix(str(target), "x = 0\n", "x = 2\n", 1), content_digest(b"x = 0\n"))
    assert problem is not None and "changed on disk" in problem
    assert target.read_text() == "x = 1\n"


# ---- property: applying edits never changes anything outside the edited spans

TEXT = st.lists(st.sampled_from(list("ab é\t#()") + ["\n", "\r\n", "\r", "\u2028", "\x0c"]), max_size=60).map("".join)


def lines_of(text: str):
    """Python's own line splitting (\\n, \\r\\n, \\r), independent of edgelint's."""
    return io.StringIO(text, newline="").readlines()


@st.composite
def text_and_edits(draw):
    text = draw(TEXT)
    offsets = sorted(draw(st.lists(st.integers(0, len(text)), max_size=8)))
    spans = []
    for start, end in zip(offsets[::2], offsets[1::2]):
        if text[start - 1:start + 1] == "\r\n" or text[end - 1:end + 1] == "\r\n":
            continue  # a position inside a line ending is not a (line, column)
        if not spans or (start >= spans[-1][1] and start > spans[-1][0]):
            spans.append((start, end))
    contents = [draw(st.text(alphabet="await ()\n", max_size=6)) for _ in spans]
    return text, spans, contents


def position(text: str, offset: int):
    line_start = 0
    for number, line in enumerate(lines_of(text), start=1):
        if offset < line_start + len(line.rstrip("\r\n")) + 1:
            return number, offset - line_start + 1
        line_start += len(line)
    return len(lines_of(text)) + 1, 1  # just after a final line ending


@settings(max_examples=300, deadline=None)
@given(text_and_edits())
def test_apply_edits_changes_only_the_edited_spans(case):
    text, spans, contents = case
    edits = [Edit(*position(text, start), *position(text, end), content)
             for (start, end), content in zip(spans, contents)]
    result = apply_edits(text, reversed(edits))
    cursor = 0
    for (start, end), content in zip(spans, contents):
        kept = text[cursor:start]
        assert result.startswith(kept + content)
        result = result[len(kept) + len(content):]
        cursor = end
    assert result == text[cursor:]


STATEMENTS = [
    "    env.NOTES.put(f'a:{user}', 'x')\n",
    "    await env.NOTES.put(f'b:{user}', 'x')\n",
    "    # café: env.NOTES.put('c', 'x')\n",
    "    note = env.NOTES.get(f'd:{user}')\n",
    "    (env.NOTES\n        .delete(f'e:{user}'))  # tail\n",
    "    s = '''env.NOTES.put(x)\n'''\n",
    "\n",
    "    if user: env.NOTES.delete(user)\n",
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=8), st.sampled_from(["\n", "\r\n"]))
def test_fixing_real_code_only_inserts_await_and_converges(body, newline):
    source = ("async def on_fetch(request, env):\n    user = request.url\n" + "".join(body)).replace("\n", newline)
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        write_project(root, {"wrangler.toml": WRANGLER, "src/entry.py": source})
        result = lint_directory(root)
        planned, problems = plan_fixes(result.findings, {p: s.text for p, s in result.sources.items()}, unsafe=False)
        assert not problems
        fixed = planned[0].after if planned else source
        assert fixed.replace("await env.NOTES", "env.NOTES") == source.replace("await env.NOTES", "env.NOTES")
        assert fixed.count("await ") - source.count("await ") == sum(1 for f in result.findings if f.fix)
        (root / "src" / "entry.py").write_bytes(fixed.encode("utf-8"))
        unfixable = sorted(f.line for f in result.findings if f.code == "EDG301" and f.fix is None)
        assert sorted(f.line for f in lint_directory(root).findings if f.code == "EDG301") == unfixable
