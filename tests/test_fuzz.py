"""Generated Python programs (hypothesmith) through the engine and the flake8 plugin: no exception
and no internal error EDG998 (issue 6, robustness).

Examples are derandomized so CI runs the same programs every time; `EDGELINT_FUZZ_EXAMPLES=1000`
runs more of them.
"""
from __future__ import annotations

import ast
import io
import os
import textwrap
from pathlib import Path
from typing import List

import hypothesmith
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from edgelint.flake8_plugin import Plugin
from tests.helpers import lint_directory, write_project

FUZZ = settings(
    max_examples=int(os.environ.get("EDGELINT_FUZZ_EXAMPLES", "30")), deadline=None, derandomize=True,
    database=None,
    # hypothesmith's programs are slow to generate and often large or rejected by `assume`.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
# hypothesmith compiles its programs to score them; Python's warnings about them are noise here.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")
WRANGLER = ('[[kv_namespaces]]\nbinding = "VIEWS"\nid = "1"\n\n'
            '[[durable_objects.bindings]]\nname = "ROOMS"\nclass_name = "Room"\n')
# Binding calls around the generated code, so that the model has Workers state to follow through it.
WORKER_STATEMENTS = (
    "key = request.url",
    "value = await env.VIEWS.get(key)",
    "value = int(value or 0) + 1",
    "await env.VIEWS.put(key, str(value))",
    "stub = env.ROOMS.get(env.ROOMS.idFromName(key))",
    "await stub.fetch(request)",
    "await self.ctx.storage.put(key, value)",
)
# Built once: building hypothesmith's grammar strategy costs seconds.
PROGRAMS = hypothesmith.from_grammar()
SYNTAX_TREES = hypothesmith.from_node()
WORKER_MODULE = """\
from workers import DurableObject, WorkerEntrypoint

{program}

async def on_fetch(request, env):
{handler}

class Room(DurableObject):
    async def fetch(self, request, env=None):
{method}
"""


@st.composite
def worker_modules(draw: st.DrawFn) -> str:
    """A Worker whose handler and Durable Object method run a generated program between binding calls."""
    def body(indent: str) -> str:
        before: List[str] = draw(st.lists(st.sampled_from(WORKER_STATEMENTS), max_size=4))
        after: List[str] = draw(st.lists(st.sampled_from(WORKER_STATEMENTS), min_size=1, max_size=4))
        program = draw(PROGRAMS)
        return textwrap.indent("\n".join(before) + "\n" + program + "\n" + "\n".join(after), indent)

    return WORKER_MODULE.format(program=draw(PROGRAMS), handler=body("    "),
                                method=body("        "))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    write_project(root, {"wrangler.toml": WRANGLER})
    return root


def write_module(project: Path, source: str) -> Path:
    assume(_encodable(source))
    target = project / "src" / "fuzzed.py"
    write_project(project, {"src/fuzzed.py": source})
    return target


def _encodable(source: str) -> bool:
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: no file can hold them
        return False
    return True


def assert_lints_without_internal_error(project: Path, source: str) -> None:
    """Unfiltered (the whole module parsed by libcst) and filtered (the comment makes the module
    relevant, so it is outlined and its statements parsed when needed)."""
    for use_filter, text in ((False, source), (True, "# env.KV\n" + source)):
        write_module(project, text)
        result = lint_directory(project, use_filter=use_filter)
        assert [f for f in result.findings if f.code == "EDG998"] == []


@FUZZ
@given(source=PROGRAMS)
def test_engine_on_generated_programs(project, source):
    assert_lints_without_internal_error(project, source)


@FUZZ
@given(source=SYNTAX_TREES)
def test_engine_on_generated_syntax_trees(project, source):
    assert_lints_without_internal_error(project, source)


@FUZZ
@given(source=worker_modules())
def test_engine_on_workers_running_generated_programs(project, source):
    assert_lints_without_internal_error(project, source)


@FUZZ
@given(source=st.one_of(worker_modules(), SYNTAX_TREES))
def test_flake8_plugin_on_generated_programs(project, source):
    target = write_module(project, source)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        assume(False)  # flake8 reports E999 itself and runs no plugin
    lines = io.StringIO(source, newline=None).readlines()  # as flake8 reads them
    results = list(Plugin(tree, str(target), lines).run())
    assert [message for _, _, message, _ in results if message.startswith("EDG998")] == []
