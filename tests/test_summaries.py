"""Function summaries (model.summaries): a helper is interpreted once per abstract input and
instantiated per call, with the findings of interpreting it in place."""
from __future__ import annotations

import textwrap
from typing import List

import pytest

from edgelint.model import analysis
from edgelint.model.project import Project
from tests.helpers import lint_directory, write_project

WRANGLER = 'kv_namespaces = [{ binding = "KV", id = "1" }]\n'


@pytest.fixture
def analysed(monkeypatch):
    """The Project objects the engine analyses during a test, with the summaries their analysis
    kept (freed once it is over)."""
    projects: List[Project] = []
    original = analysis._analyse_all

    def analyse_all(project):
        original(project)
        project.kept_summaries = dict(project.summaries)
        projects.append(project)

    monkeypatch.setattr(analysis, "_analyse_all", analyse_all)
    return projects


def _lint(tmp_path, source):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": textwrap.dedent(source)})
    return lint_directory(tmp_path).findings


def _computed(project: Project, name: str) -> int:
    """How many summaries of `name` the analysis kept (one per abstract input and condition set)."""
    function = project.modules["src.entry"].functions[name]
    return sum(len(found) for key, found in project.kept_summaries.items() if key[0] == id(function))


def test_a_helper_called_with_different_keys_is_interpreted_once(tmp_path, analysed):
    findings = _lint(tmp_path, """
        async def bump(kv, key):
            n = int(await kv.get(key) or 0)
            await kv.put(key, str(n + 1))

        async def on_fetch(request, env):
            await bump(env.KV, "a:" + request.url)
            await bump(env.KV, "b:" + request.url)
            await bump(env.KV, "c:" + request.url)
    """)
    [project] = analysed
    assert _computed(project, "bump") == 1
    assert sorted((f.line, f.code) for f in findings) == [(4, "EDG101")]  # the pattern is in bump: once
    [finding] = findings
    assert [place.line for place in finding.related if place.message.startswith("on_fetch()")] == [7, 8, 9]


def test_a_string_the_helper_branches_on_makes_one_summary_per_value(tmp_path, analysed):
    findings = _lint(tmp_path, """
        async def save(kv, mode, key):
            if mode == "strict":
                await kv.put(key, "1", expirationTtl=30)
            else:
                await kv.put(key, "1", expirationTtl=3600)

        async def on_fetch(request, env):
            await save(env.KV, "lenient", "x:" + request.url)
            await save(env.KV, "lenient", "y:" + request.url)
            await save(env.KV, "strict", "z:" + request.url)
    """)
    [project] = analysed
    assert _computed(project, "save") == 2
    assert [(f.line, f.code) for f in findings] == [(4, "EDG106")]


def test_each_call_is_its_own_activation(tmp_path):
    """Two calls of one summary are two frames: a write in one does not pair with a read in the other."""
    findings = _lint(tmp_path, """
        async def load(kv, key):
            return await kv.get(key)

        async def store(kv, key, value):
            await kv.put(key, value)

        async def on_fetch(request, env):
            first = await load(env.KV, "a:" + request.url)
            await store(env.KV, "b:" + request.url, first)
            return await load(env.KV, "b:" + request.url)
    """)
    assert [(f.line, f.code) for f in findings] == [(11, "EDG102")]


def test_recursive_helpers_terminate_and_keep_their_findings(tmp_path):
    findings = _lint(tmp_path, """
        async def walk(kv, key, depth):
            if depth:
                return await walk(kv, key, depth - 1)
            n = int(await kv.get(key) or 0)
            await kv.put(key, str(n + 1))

        async def ping(kv, key):
            return await pong(kv, key)

        async def pong(kv, key):
            return await ping(kv, key)

        async def on_fetch(request, env):
            await walk(env.KV, "w:" + request.url, int(request.headers.get("x-depth")))
            return await ping(env.KV, "p")
    """)
    assert [(f.line, f.code) for f in findings] == [(6, "EDG101")]
