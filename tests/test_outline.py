"""Outlines and late parsing: libcst parses only the statements the analysis needs (model.chunks).

That the findings do not change is proven on every fixture project (test_fixture_projects runs
each one outlined and, with the filter off, parsed whole) and by the fuzz tests (both ways).
"""
from __future__ import annotations

import textwrap

import sys
from pathlib import Path

from edgelint.config import Settings
from edgelint.discovery import discover
from edgelint.engine import ProjectRun, group_projects, read_source
from edgelint.model.bindings import BindingTable
from edgelint.model.chunks import chunks_of, whole_module
from edgelint.model.outline import CLASS, CODE, FUNCTION, imports_of, outline
from edgelint.model.parsing import parse_module
from edgelint.model.project import ModuleInfo, index_module
from edgelint.parallel import COMPUTE, SharedWork, process_pool
from edgelint.textio import StoredText, compact, contains, expand
from tests.helpers import FIXTURES, lint_directory, write_project

UNREACHED = FIXTURES / "projects" / "unreached-helper-factored"


def test_outline_kinds_lines_and_what_is_parsed_up_front():
    source = ('"""Doc."""\nimport json\n\n\n@app.get("/a")\nasync def route(request):\n    return 1\n\n\n'
              "def helper(x):\n    return x\n\n\nclass Plain:\n    pass\n\n\nclass Store(DurableObject):\n"
              "    pass\n\n\nx = 1; y = 2\nLIMIT: int = 10\nif DEBUG:\n    import pdb\na = b = 1\n")
    shape = outline(source)
    assert [(s.start, s.end, s.kind, s.name, s.eager) for s in shape] == [
        (1, 1, CODE, "", False),  # a docstring: never parsed
        (2, 2, CODE, "", False),  # an import: read from `ast`
        (5, 7, FUNCTION, "route", False),  # its route is read from `ast`: parsed when analysed
        (10, 11, FUNCTION, "helper", False),
        (14, 15, CLASS, "Plain", False),
        (18, 19, CLASS, "Store", False),  # its bases too
        (22, 22, CODE, "", True),
        (23, 23, CODE, "LIMIT", False),  # a constant: parsed when its value is asked for
        (24, 25, CODE, "", True),
        (26, 26, CODE, "", True),
    ]


def test_imports_are_read_from_the_outline_as_libcst_would_read_them():
    source = ("import a.b.c\nimport d.e as f, g\nfrom .h import i as j, k\nfrom .. import m\n"
              "from workers import env as e\nfrom n import *\n")
    lazy = lint_module(source, outline(source))
    whole = lint_module(source, None)
    assert lazy.imports == whole.imports == {
        "a": ("a", None), "f": ("d.e", None), "g": ("g", None), "j": (".h", "i"), "k": (".h", "k"),
        "m": ("..", "m"), "e": ("workers", "env")}
    assert lazy.env_names == whole.env_names == {"e"}


def test_a_statement_ending_with_a_backslash_keeps_the_lines_it_joins():
    source = ('async def f(env):\n    env.KV.delete("a") \\\n        # joined\n'
              'x = 1  # C:\\\n\ny = 2 \\\n\\\n# joined too\n')
    shape = outline(source)
    assert [(s.start, s.end) for s in shape] == [(1, 3), (4, 4), (6, 8)]  # a comment's backslash joins nothing
    for chunk in chunks_of(source, shape):
        parse_module(chunk.text)


def test_the_last_import_of_a_name_wins_as_in_python():
    """Imports the outline read and imports libcst finds in `try`/`if` blocks, in source order."""
    source = ("try:\n    from .fake_kv import store\nexcept ImportError:\n    pass\nfrom .kv import store\n"
              "from .a import cache\nif DEBUG:\n    from .b import cache\n")
    lazy, whole = lint_module(source, outline(source)), lint_module(source, None)
    assert list(lazy.imports.items()) == list(whole.imports.items()) == [
        ("store", (".kv", "store")), ("cache", (".b", "cache"))]


def test_a_constant_is_parsed_when_its_value_is_asked_for_and_the_first_assignment_counts():
    source = 'PREFIX = "a"\nOTHER = 1\nPREFIX = "b"\n'
    module = lint_module(source, outline(source))
    assert all(chunk.tree is None for chunk in module.chunks)
    assert module.constant("PREFIX").value == '"a"'
    assert [chunk.tree is not None for chunk in module.chunks] == [True, False, False]
    assert module.constant("MISSING") is None


def lint_module(source: StoredText, shape) -> ModuleInfo:
    chunks = chunks_of(source, shape) if shape is not None else whole_module(source, parse_module(source), [])
    module = ModuleInfo("m.py", "m", source, BindingTable(), chunks)
    index_module(module, imports_of(shape) if shape is not None else ())
    return module


def test_the_outline_indexes_classes_and_routes_as_libcst_would_without_parsing_them():
    source = textwrap.dedent('''\
        import workers

        @app.post("/a")
        async def create(request):
            return 1

        @router.route("/b", methods=["GET", "PUT"])
        def update():
            pass

        class Room(workers.DurableObject, Mixin, Generic[T]):
            async def fetch(self, request):
                pass

            @app.get("/c")
            def read(self):
                pass

            def fetch(self):
                return 2

        class Plain:
            x = 1
    ''')
    lazy, whole = lint_module(source, outline(source)), lint_module(source, None)
    assert not any(chunk.tree for chunk in lazy.chunks)  # nothing parsed to index it
    for module in (lazy, whole):
        assert {name: f.route for name, f in module.functions.items()} == {
            "create": ("post", "/a"), "update": ("put", "/b")}
        room = module.classes["Room"]
        assert room.bases == ("DurableObject", "Mixin")
        assert {name: f.route for name, f in room.methods.items()} == {"fetch": None, "read": ("get", "/c")}
        assert module.classes["Plain"].methods == {}
    fetch = lazy.classes["Room"].methods["fetch"]
    assert fetch.parse().body.body[0].body[0].value.value == "2"  # parsed when asked: the last definition


def test_outline_of_code_python_refuses_is_none():
    assert outline("def f(:\n    pass\n") is None


def test_statements_sharing_a_line_become_one_chunk():
    shape = outline("def f(): pass; x = 1\nclass C: pass\n")
    assert [(s.start, s.end, s.kind) for s in shape] == [(1, 1, FUNCTION), (2, 2, CLASS)]  # one statement each
    shape = outline("x = 1; y = 2\n")
    assert [(s.start, s.end, s.kind) for s in shape] == [(1, 1, CODE)]


def project_run(root: Path) -> ProjectRun:
    files = discover([str(root)], Settings(), [])
    [group] = group_projects(files, Settings(), root)
    run = ProjectRun(group)
    run.run()
    return run


def test_functions_are_parsed_when_reached_or_relevant_and_not_otherwise():
    run = project_run(UNREACHED)
    jobs = next(module for module in run.modules.values() if module.name.endswith("jobs"))
    parsed = {chunk.name: chunk.tree is not None for chunk in jobs.chunks if chunk.kind == FUNCTION}
    relevant = {chunk.name: chunk.relevant for chunk in jobs.chunks if chunk.kind == FUNCTION}
    # `record` names `counters`, which store.py defines from a binding; `describe` is reached.
    assert relevant == {"record": True, "describe": False, "summary": False}
    assert parsed == {"record": True, "describe": True, "summary": False}
    assert [(f.code, f.line) for f in run.findings] == [("EDG101", 13)]


def test_statement_libcst_refuses_is_reported_where_it_is_and_the_rest_is_analysed(tmp_path):
    write_project(tmp_path, {
        "wrangler.toml": '[[kv_namespaces]]\nbinding = "VIEWS"\nid = "x"\n',
        "src/entry.py": (
            "from workers import Response, WorkerEntrypoint\n\n\n"
            "def odd(name):\n    (name): int = 1\n    return name\n\n\n"
            "class Default(WorkerEntrypoint):\n"
            "    async def fetch(self, request):\n"
            "        count = await self.env.VIEWS.get(odd('n'))\n"
            "        await self.env.VIEWS.put(odd('n'), str(int(count or 0) + 1))\n"
            "        return Response('ok')\n"),
    })
    result = lint_directory(tmp_path)
    reported = sorted((f.code, f.line, f.column) for f in result.findings)
    assert reported[0] == ("EDG101", 12, 15)
    assert reported[1][:2] == ("EDG999", 5)
    assert len(reported) == 2
    [unsupported] = [f for f in result.findings if f.code == "EDG999"]
    assert unsupported.message.startswith("unsupported syntax") and "error at 5:" in unsupported.message


def test_a_worker_outline_is_used_only_for_the_content_the_parent_read(tmp_path):
    target = tmp_path / "entry.py"
    target.write_text("def first():\n    return 1\n")
    read = read_source(str(target))
    with process_pool(1) as pool:
        work = SharedWork(pool)
        work.start([str(target)])
        shape = work.outline(str(target), read.digest)
        assert shape == outline(read.text or "")
        # Changed on disk after the parent read it: the parent outlines its own text.
        target.write_text("x = 1\n\n\ndef second():\n    return 2\n")
        work.start([str(target)])
        assert work.outline(str(target), read.digest) is COMPUTE
        assert work.outline(str(tmp_path / "never-queued.py"), read.digest) is COMPUTE


def test_the_parent_outlines_the_files_itself_when_no_worker_can_take_them(tmp_path):
    target = tmp_path / "entry.py"
    target.write_text("def first():\n    return 1\n")
    with process_pool(1) as pool:
        pass  # shut down: it refuses work, as a pool whose workers cannot start does
    work = SharedWork(pool)
    work.start([str(target)])
    assert work.outline(str(target), read_source(str(target)).digest) is COMPUTE


def test_a_text_is_kept_in_its_smaller_form_and_read_back_unchanged():
    ascii_text, latin, wide, astral = "x = 1\n", "x = 'é'\n" * 40, "x = 1  # …\n" * 40, "x = '🙂'\n" * 40
    assert compact(ascii_text) is ascii_text and compact(latin) is latin  # one byte per character already
    for text in (wide, astral):
        stored = compact(text)
        assert isinstance(stored, bytes) and sys.getsizeof(stored) < sys.getsizeof(text)
        assert expand(stored) == text and contains(stored, "…" if text is wide else "🙂")
        assert not contains(stored, "sleep")


def test_chunks_of_a_utf8_text_are_the_chunks_of_the_str():
    """Offsets count bytes in a compacted text; lines end where Python ends them (not at U+2028)."""
    source = ('"""Notes… ✓"""\r\nimport json\r\n\r\ndef helper(x):\r\n    s = "a\u2028b🙂"\r\n    return x\r\n'
              '\x0c\nclass Store(DurableObject):\n    label = "☕"; y = 2\n')
    stored = compact(source)
    assert isinstance(stored, bytes)
    as_str, as_bytes = chunks_of(source, outline(source)), chunks_of(stored, outline(source))
    assert [(c.first, c.last, c.text) for c in as_bytes] == [(c.first, c.last, c.text) for c in as_str]
    assert [c.kind for c in as_bytes] == [FUNCTION, CLASS]  # the docstring and the import are not kept
    assert as_bytes[0].text.startswith("def helper") and as_bytes[0].mentions_of({"helper", "nope"}) == {"helper"}
    assert lint_module(stored, outline(source)).text == source
