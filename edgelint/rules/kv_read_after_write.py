"""EDG102 kv-read-after-write: reading a KV key right after writing it and trusting the result."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from edgelint.findings import Report
from edgelint.model.project import Project
from edgelint.model.queries import in_test_file, read_after_writes
from edgelint.rules.base import Example, Rule, key_of


class KvReadAfterWrite(Rule):
    code = "EDG102"
    name = "kv-read-after-write"
    severity = "error"
    summary = "A KV key is read back after being written in the same flow and the result is used."
    what = """
        Reports a KV `get` of a key that the same flow wrote earlier (directly or in a helper it
        called), when the result is used: returned, compared, branched on or passed on.
    """
    why = """
        KV does not promise read-your-writes. The read may be served from a cache that still holds
        the old value, or no value for a new key, in this location or another, for up to about a
        minute. Logic gated on the
        re-read (confirmation checks, "did it save?" branches) works in local development, where KV
        is immediately consistent, and misbehaves in production.
    """
    example = """
        async def on_fetch(request, env):
            await env.SESSIONS.put("session:abc", "active")
            state = await env.SESSIONS.get("session:abc")
            if state != "active":
                return Response("retry", status=503)
    """
    use_instead = """
        async def on_fetch(request, env):
            state = "active"
            await env.SESSIONS.put("session:abc", state)
            # use the value you wrote; if other requests must see it at once, keep it in a Durable Object
    """
    references = (
        "Workers KV: changes may take up to 60 seconds or more to be visible in other locations.",
    )
    invalid = (
        Example("""
            async def on_fetch(request, env):
                await env.SESSIONS.put("session:abc", "active")  # expect: EDG105
                state = await env.SESSIONS.get("session:abc")  # expect: EDG102
                if state != "active":
                    return "retry"
        """, messages=(
            'KV read of key "session:abc" on binding SESSIONS right after writing it: KV does not guarantee '
            "read-after-write (the value written may not be visible yet: KV can serve a missing or old value for "
            "~60 s); use the value you wrote, or keep it in a Durable Object if others must see it at once "
            "(write in on_fetch() at line 3)",
        )),
        Example("""
            async def on_fetch(request, env):
                key = f"user:{request.url}"
                await env.SESSIONS.put(key, "1")
                return await env.SESSIONS.get(key)  # expect: EDG102
        """, messages=(
            'KV read of key f"user:{request.url}" on binding SESSIONS right after writing it: KV does not '
            "guarantee read-after-write (the value written may not be visible yet: KV can serve a missing or old "
            "value for ~60 s); use the value you wrote, or keep it in a Durable Object if others must see it at "
            "once (write in on_fetch() at line 4)",
        )),
        Example("""
            async def save(env, key, value):
                await env.CACHE.put(key, value)

            async def on_fetch(request, env):
                await save(env, "latest", request.url)  # expect: EDG105
                check = await env.CACHE.get("latest")  # expect: EDG102
                return check == request.url
        """, messages=(
            'KV read of key "latest" on binding CACHE right after writing it: KV does not guarantee '
            "read-after-write (the value written may not be visible yet: KV can serve a missing or old value for "
            "~60 s); use the value you wrote, or keep it in a Durable Object if others must see it at once "
            "(write in save() at line 3)",
        )),
        Example("""
            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    kv = self.env.SESSIONS
                    await kv.put("config", "v2")  # expect: EDG105
                    if await kv.get("config") is None:  # expect: EDG102
                        return "missing"
        """, messages=(
            'KV read of key "config" on binding SESSIONS right after writing it: KV does not guarantee '
            "read-after-write (the value written may not be visible yet: KV can serve a missing or old value for "
            "~60 s); use the value you wrote, or keep it in a Durable Object if others must see it at once "
            "(write in Default.fetch() at line 5)",
        )),
        Example("""
            async def on_fetch(request, env):
                await env.CACHE.delete("x")
                await env.CACHE.put("y", "1")  # expect: EDG105
                value = await env.CACHE.get("y")  # expect: EDG102
                return value
        """, messages=(
            'KV read of key "y" on binding CACHE right after writing it: KV does not guarantee read-after-write '
            "(the value written may not be visible yet: KV can serve a missing or old value for ~60 s); use the "
            "value you wrote, or keep it in a Durable Object if others must see it at once (write in on_fetch() "
            "at line 4)",
        )),
    )
    valid = (
        Example("""
            async def on_fetch(request, env):
                return await env.CACHE.get(f"page:{request.url}")
        """, files={"tests/test_entry.py": (
            "from entry import on_fetch\n\n\n"
            "async def test_cached_page(env, request):\n"
            "    await env.CACHE.put(f\"page:{request.url}\", \"<html>\")\n"
            "    assert await on_fetch(request, env) == \"<html>\"\n"
        )}),
        Example("""
            async def on_fetch(request, env):
                await env.SESSIONS.put("session:abc", "active")  # expect: EDG105
                other = await env.SESSIONS.get("session:def")
                return other
        """),
        Example("""
            async def on_fetch(request, env):
                old = await env.SESSIONS.get("session:abc")
                await env.SESSIONS.put("session:abc", "active")  # expect: EDG105
                return old
        """),
        Example("""
            async def on_fetch(request, env):
                await env.FILES.put("a", b"1")
                return await env.FILES.get("a")
        """),
        Example("""
            async def on_fetch(request, env):
                key = f"warm:{request.url}"
                await env.CACHE.put(key, await request.text())
                _ = await env.CACHE.get(key)  # touched, never used
                return "ok"
        """),
        Example("""
            async def on_fetch(request, env):
                if request.method == "POST":
                    await env.CACHE.put("k", "v")  # expect: EDG105
                else:
                    return await env.CACHE.get("k")
        """),
    )

    def check(self, project: Project, options: Mapping[str, Any]) -> Iterable[Report]:
        for write, read in read_after_writes(project):
            if in_test_file(project, read):
                continue  # EDG401 covers tests
            yield self.report_pattern(
                read, "read", write, "write",
                f"KV read of key {key_of(read)} on binding {read.binding} right after writing it: KV does not "
                f"guarantee read-after-write (the value written may not be visible yet: KV can serve a missing or "
                f"old value for ~60 s); use the value you wrote, "
                f"or keep it in a Durable Object if others must see it at once",
            )
