"""EDG401 local-only-consistency-test: a test that proves KV read-after-write, which only holds locally."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from edgelint.findings import Report
from edgelint.model.project import Project
from edgelint.model.queries import read_after_writes
from edgelint.model.syntax import assertion_on, innermost_function, mocks_method
from edgelint.rules.base import Example, Rule, key_of

KV_READ_METHODS = frozenset({"get", "getWithMetadata"})


class LocalOnlyConsistencyTest(Rule):
    code = "EDG401"
    name = "local-only-consistency-test"
    severity = "warning"
    summary = "A test writes a KV key and asserts on reading it back: true locally, not in production."
    what = """
        In test files (`test_*.py`, `*_test.py`, files under `tests/`, `conftest.py`), reports a KV
        read of a key that the test wrote earlier in the same flow (directly, or through the
        project's own helpers and handlers it calls), when the read's result reaches an assertion
        in the test: an `assert` statement or an `assert*` call (`self.assertEqual`), directly or
        through variables derived from it. It replaces EDG102 in test files. Bindings are found
        as everywhere else: a test parameter named `env`, `from workers import env`, aliases and
        wrappers. Not reported: tests of Durable Object storage or stubs; tests that replace the
        read (`kv.get = AsyncMock(...)`, `monkeypatch.setattr(kv, "get", ...)`,
        `patch.object(env.CACHE, "get")`); test doubles such as `FakeKV()` (not bindings); reads of
        other keys; reads whose result is not asserted on. Not yet seen: bindings handed to the test
        through a pytest fixture other than `env`, and reads made inside a helper whose result the
        test asserts on.
    """
    why = """
        Local KV (`wrangler dev`, Miniflare-style simulators) is immediately consistent, so a test
        that writes a key and reads it back always passes. Production KV is eventually consistent:
        the read may return the old value for up to about a minute. The test documents and
        protects a guarantee the platform does not give, and the code it covers fails under load.
    """
    example = """
        # tests/test_sessions.py
        from app.auth import login

        async def test_login_marks_session_active(env):
            await login(env, "alice")
            assert await env.SESSIONS.get("session:alice") == "active"
    """
    use_instead = """
        # test what the code promises: the value it returns, or its behaviour with a stale read
        async def test_login_returns_active_session(env):
            assert await login(env, "alice") == "active"

        async def test_handler_tolerates_stale_session(env):
            env.SESSIONS.get = AsyncMock(return_value=None)   # simulate a read that lags the write
            assert (await handle(request, env)).status == 503

        # or keep the state in a Durable Object and test its storage, which is strongly consistent
    """
    fix_safety = "There is no automatic fix: the test has to state what the code actually guarantees."
    snippet_path = "tests/test_sessions.py"
    snippet_files = {"app/auth.py": 'async def login(env, user):\n    await env.SESSIONS.put(f"session:{user}", "active")\n'}
    references = (
        "Workers KV: eventually consistent; changes may take up to 60 seconds to be visible in other locations.",
        "Local development with wrangler dev / Miniflare: KV is immediately consistent.",
    )
    invalid = (
        Example("""
            async def test_cache_roundtrip(env):
                await env.CACHE.put("page:home", "<html>")
                assert await env.CACHE.get("page:home") == "<html>"  # expect: EDG401
        """, path="tests/test_cache.py", messages=(
            'test asserts on a KV read of key "page:home" on binding CACHE right after writing it: local KV is '
            "immediately consistent so this passes, but production KV may serve the old value for ~60 s; assert "
            "on what the code returns, simulate a stale read, or keep the data in a Durable Object (write in "
            "test_cache_roundtrip() at line 3)",
        )),
        Example("""
            import json

            async def test_stats_increment(env):
                kv = env.STATS
                await kv.put("stats", json.dumps({"n": 1}))
                data = json.loads(await kv.get("stats"))  # expect: EDG401
                total = data["n"]
                assert total == 1
        """, path="src/stats_test.py", messages=(
            'test asserts on a KV read of key "stats" on binding STATS right after writing it: local KV is '
            "immediately consistent so this passes, but production KV may serve the old value for ~60 s; assert "
            "on what the code returns, simulate a stale read, or keep the data in a Durable Object (write in "
            "test_stats_increment() at line 6)",
        )),
        Example("""
            async def remember(env, user):
                await env.SESSIONS.put(f"user:{user}", "1")
        """, path="src/store.py", files={"tests/test_store.py": '''
from src.store import remember


async def test_remember(env):
    await remember(env, "alice")
    seen = await env.SESSIONS.get("user:alice")  # expect: EDG401
    assert seen is not None
'''}, messages=(
    'test asserts on a KV read of key "user:alice" on binding SESSIONS right after writing it: local KV '
    "is immediately consistent so this passes, but production KV may serve the old value for ~60 s; "
    "assert on what the code returns, simulate a stale read, or keep the data in a Durable Object (write "
    "in remember() at store.py:3)",
)),
        Example("""
            import unittest
            from workers import env

            class TokenTests(unittest.IsolatedAsyncioTestCase):
                async def test_token_saved(self):
                    await env.TOKENS.put("token:1", "abc")
                    self.assertEqual(await env.TOKENS.get("token:1"), "abc")  # expect: EDG401
        """, path="tests/test_tokens.py", messages=(
            'test asserts on a KV read of key "token:1" on binding TOKENS right after writing it: local KV is '
            "immediately consistent so this passes, but production KV may serve the old value for ~60 s; assert "
            "on what the code returns, simulate a stale read, or keep the data in a Durable Object (write in "
            "TokenTests.test_token_saved() at line 7)",
        )),
        Example("""
            import pytest

            @pytest.fixture
            async def warm_cache(env):
                key = "flags"
                await getattr(env, "FLAGS").put(key, "on")
                both = await env.FLAGS.getWithMetadata(key)  # expect: EDG401
                assert both["value"] == "on"
        """, path="conftest.py", messages=(
            'test asserts on a KV read of key "flags" on binding FLAGS right after writing it: local KV is '
            "immediately consistent so this passes, but production KV may serve the old value for ~60 s; assert "
            "on what the code returns, simulate a stale read, or keep the data in a Durable Object (write in "
            "warm_cache() at line 7)",
        )),
    )
    valid = (
        Example("""
            async def test_counter_object(env):
                stub = env.COUNTER.getByName("test")
                await stub.increment()
                assert await stub.count() == 1
        """, path="tests/test_counter.py"),
        Example("""
            from unittest.mock import AsyncMock

            async def test_stale_read(env, monkeypatch):
                await env.CACHE.put("page:home", "<html>")
                env.CACHE.get = AsyncMock(return_value=None)
                assert await env.CACHE.get("page:home") is None

            async def test_patched(env, monkeypatch):
                await env.CACHE.put("k", "v")
                monkeypatch.setattr(env.CACHE, "get", AsyncMock(return_value="old"))
                assert await env.CACHE.get("k") == "old"
        """, path="tests/test_mocked.py"),
        Example("""
            async def test_other_key(env):
                await env.CACHE.put("a", "1")
                assert await env.CACHE.get("b") is None

            async def test_read_before_write(env):
                before = await env.CACHE.get("a")
                await env.CACHE.put("a", "1")
                assert before is None

            async def test_not_asserted(env):
                await env.CACHE.put("a", "1")
                print(await env.CACHE.get("a"))
        """, path="tests/test_keys.py"),
        Example("""
            class FakeKV:
                def __init__(self):
                    self.data = {}

                async def put(self, key, value):
                    self.data[key] = value

                async def get(self, key):
                    return self.data.get(key)

            async def test_with_fake():
                kv = FakeKV()
                await kv.put("k", "v")
                assert await kv.get("k") == "v"
        """, path="tests/test_fake.py"),
        Example("""
            async def on_fetch(request, env):
                await env.SESSIONS.put(f"user:{request.url}", "1")
                seen = await env.SESSIONS.get(f"user:{request.url}")  # expect: EDG102
                assert seen is not None
                return seen
        """),
    )

    def check(self, project: Project, options: Mapping[str, Any]) -> Iterable[Report]:
        for write, read in read_after_writes(project):
            if not read.module.is_test or read.function is None:
                continue
            test = innermost_function(read.function.parse(), read.node)
            if test is None or mocks_method(test, KV_READ_METHODS) or assertion_on(test, read.node) is None:
                continue
            yield self.report_pattern(
                read, "read", write, "write",
                f"test asserts on a KV read of key {key_of(read)} on binding {read.binding} right after writing "
                f"it: local KV is immediately consistent so this passes, but production KV may serve the old "
                f"value for ~60 s; assert on what the code returns, simulate a stale read, or keep the data in "
                f"a Durable Object",
            )
