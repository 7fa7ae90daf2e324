"""EDG302 judges bindings by the wrangler config that deploys a file: the rule examples always have
one, so the cases around it are checked here — no config, a config that does not deploy the file,
every binding section, environments."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

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


def _not_declared(findings):
    return [f for f in findings if f.code == "EDG302" and "not declared" in f.message]


CALLS_NAME = textwrap.dedent("""
    async def on_fetch(request, env):
        return await env.NAME.get(request.url)
""")
DEPLOYED = 'name = "w"\nmain = "src/entry.py"\n'

# Every wrangler binding section, written as wrangler's documentation writes it.
SECTIONS = [
    ("kv_namespaces", '[[kv_namespaces]]\nbinding = "NAME"\nid = "1"\n'),
    ("durable_objects", '[[durable_objects.bindings]]\nname = "NAME"\nclass_name = "Room"\n'),
    ("r2_buckets", '[[r2_buckets]]\nbinding = "NAME"\nbucket_name = "b"\n'),
    ("d1_databases", '[[d1_databases]]\nbinding = "NAME"\ndatabase_name = "d"\ndatabase_id = "1"\n'),
    ("queues", '[[queues.producers]]\nbinding = "NAME"\nqueue = "q"\n'),
    ("services", '[[services]]\nbinding = "NAME"\nservice = "auth"\n'),
    ("ratelimits", '[[ratelimits]]\nname = "NAME"\nnamespace_id = "1001"\nsimple = { limit = 10, period = 60 }\n'),
    ("vars", '[vars]\nNAME = "value"\n'),
    ("analytics_engine_datasets", '[[analytics_engine_datasets]]\nbinding = "NAME"\ndataset = "events"\n'),
    ("vectorize", '[[vectorize]]\nbinding = "NAME"\nindex_name = "docs"\n'),
    ("hyperdrive", '[[hyperdrive]]\nbinding = "NAME"\nid = "1"\n'),
    ("workflows", '[[workflows]]\nbinding = "NAME"\nname = "flow"\nclass_name = "Flow"\n'),
    ("secrets_store_secrets", '[[secrets_store_secrets]]\nbinding = "NAME"\nstore_id = "1"\nsecret_name = "s"\n'),
    ("pipelines", '[[pipelines]]\nbinding = "NAME"\npipeline = "p"\n'),
    ("dispatch_namespaces", '[[dispatch_namespaces]]\nbinding = "NAME"\nnamespace = "tenants"\n'),
    ("mtls_certificates", '[[mtls_certificates]]\nbinding = "NAME"\ncertificate_id = "1"\n'),
    ("send_email", '[[send_email]]\nname = "NAME"\ndestination_address = "a@example.com"\n'),
    ("unsafe", '[[unsafe.bindings]]\nname = "NAME"\ntype = "ratelimit"\n'),
    ("ai", '[ai]\nbinding = "NAME"\n'),
    ("browser", '[browser]\nbinding = "NAME"\n'),
    ("images", '[images]\nbinding = "NAME"\n'),
    ("version_metadata", '[version_metadata]\nbinding = "NAME"\n'),
    ("assets", '[assets]\ndirectory = "public"\nbinding = "NAME"\n'),
    ("in-an-environment", '[env.staging]\nhyperdrive = [{ binding = "NAME", id = "1" }]\n'),
]


@pytest.mark.parametrize("config", [text for _, text in SECTIONS], ids=[key for key, _ in SECTIONS])
def test_a_name_declared_under_any_binding_section_is_declared(tmp_path, config):
    write_project(tmp_path, {"src/entry.py": CALLS_NAME, "wrangler.toml": DEPLOYED + config})
    assert _not_declared(lint_directory(tmp_path).findings) == []


@pytest.mark.parametrize("config", [
    '[[tail_consumers]]\nservice = "NAME"\n',
    '[[queues.consumers]]\nqueue = "NAME"\n',
    '[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["NAME"]\n',
    '[assets]\ndirectory = "NAME"\n',
], ids=["tail_consumers", "queue-consumer", "migrations", "assets-without-binding"])
def test_a_name_elsewhere_in_the_config_is_not_declared(tmp_path, config):
    write_project(tmp_path, {"src/entry.py": CALLS_NAME, "wrangler.toml": DEPLOYED + config})
    assert len(_not_declared(lint_directory(tmp_path).findings)) == 1


UNDECLARED_IN_HELPER = {
    "src/entry.py": "async def on_fetch(request, env):\n    return await env.CACHE.get(request.url)\n",
    "src/helpers.py": "async def warm(env):\n    await env.WARM_KV.put('k', 'v')\n",
    "wrangler.toml": '[[kv_namespaces]]\nbinding = "CACHE"\nid = "1"\n',
}


@pytest.mark.parametrize("main, reported", [
    ("", True),  # no main: the config governs every file of its project, as before
    ('main = "src/missing.py"\n', True),  # a Python main edgelint does not see: what it imports is unknown
    ('main = "src/entry.py"\n', False),  # helpers.py is not imported by the entry point: not deployed
    ('main = "src/index.js"\n', False),  # a JavaScript Worker deploys no Python file
])
def test_not_declared_needs_a_config_that_deploys_the_file(tmp_path, main, reported):
    files = dict(UNDECLARED_IN_HELPER, **{"wrangler.toml": main + UNDECLARED_IN_HELPER["wrangler.toml"]})
    write_project(tmp_path, files)
    found = [Path(f.path).name for f in _not_declared(lint_directory(tmp_path).findings)]
    assert found == (["helpers.py"] if reported else [])


def test_a_module_imported_by_main_later_is_deployed_on_the_next_cached_run(tmp_path):
    files = dict(UNDECLARED_IN_HELPER, **{"wrangler.toml": 'main = "src/entry.py"\n' + UNDECLARED_IN_HELPER["wrangler.toml"]})
    write_project(tmp_path, files)
    assert _not_declared(_lint_cached(tmp_path)) == []
    entry = tmp_path / "src" / "entry.py"
    entry.write_text("from helpers import warm\n\n" + entry.read_text(encoding="utf-8"), encoding="utf-8")
    assert [Path(f.path).name for f in _not_declared(_lint_cached(tmp_path))] == ["helpers.py"]


def _lint_cached(root):
    return lint_directory(root, use_cache=True).findings


STAGING_ONLY = textwrap.dedent("""
    async def on_fetch(request, env):
        return await env.AUDIT.get(request.url)
""")
WITH_ENVIRONMENTS = (DEPLOYED + '[[kv_namespaces]]\nbinding = "CACHE"\nid = "1"\n\n'
                     '[env.staging]\nkv_namespaces = [{ binding = "AUDIT", id = "2" }]\n\n'
                     '[env.production]\nkv_namespaces = [{ binding = "CACHE", id = "3" }]\n')


def test_a_binding_some_environments_lack_names_them(tmp_path):
    write_project(tmp_path, {"src/entry.py": STAGING_ONLY, "wrangler.toml": WITH_ENVIRONMENTS})
    [finding] = [f for f in lint_directory(tmp_path).findings if f.code == "EDG302"]
    assert finding.line == 3
    assert finding.message.startswith(
        "binding AUDIT is not declared in the top level and [env.production] of wrangler.toml "
        "(bindings are not inherited by environments)")


def test_an_edgelint_override_declares_a_binding_in_every_environment(tmp_path):
    write_project(tmp_path, {"src/entry.py": STAGING_ONLY, "wrangler.toml": WITH_ENVIRONMENTS,
                             "pyproject.toml": '[tool.edgelint.bindings]\nAUDIT = "kv"\n'})
    assert [f for f in lint_directory(tmp_path).findings if f.code == "EDG302"] == []


def test_each_wrangler_config_names_its_own_environments(tmp_path):
    write_project(tmp_path, {
        "src/entry.py": STAGING_ONLY,
        "wrangler.toml": DEPLOYED + '[[kv_namespaces]]\nbinding = "AUDIT"\nid = "1"\n',
        "wrangler.production.toml": DEPLOYED + '[[kv_namespaces]]\nbinding = "CACHE"\nid = "2"\n',
        "pyproject.toml": '[tool.edgelint]\nwrangler-config = ["wrangler.toml", "wrangler.production.toml"]\n',
    })
    [finding] = [f for f in lint_directory(tmp_path).findings if f.code == "EDG302"]
    assert "not declared in the top level of wrangler.production.toml (" in finding.message
