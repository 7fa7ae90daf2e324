"""EDG302 needs a wrangler config to judge bindings: the rule examples always have one, so the
case without any config is checked here."""
from __future__ import annotations

import textwrap

from tests.helpers import lint_directory, write_project

MISUSED = textwrap.dedent("""
    async def on_fetch(request, env):
        stub = env.CACHE.get(env.CACHE.idFromName(request.url))
        await env.SESION.put(request.url, "1", expirationTtl=60)
        return await stub.fetch(request)
""")


def test_binding_mismatch_is_silent_without_a_wrangler_config(tmp_path):
    write_project(tmp_path, {"src/entry.py": MISUSED})
    codes = {finding.code for finding in lint_directory(tmp_path).findings}
    assert "EDG302" not in codes


def test_binding_mismatch_reports_the_same_code_once_a_config_declares_the_bindings(tmp_path):
    write_project(tmp_path, {
        "src/entry.py": MISUSED,
        "wrangler.jsonc": '{ "kv_namespaces": [ { "binding": "CACHE", "id": "1" }, ], // trailing comma\n}',
    })
    lines = sorted(f.line for f in lint_directory(tmp_path).findings if f.code == "EDG302")
    assert lines == [3, 4]
