"""EDG302 needs a wrangler config to judge bindings: the rule examples always have one, so the
case without any config, and every binding section of one, are checked here."""
from __future__ import annotations

import textwrap

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
