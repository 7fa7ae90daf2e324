"""EDG103 kv-check-then-act: a KV read used as a lock, token or de-duplication check."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from edgelint.findings import Report
from edgelint.model.operations import Operation, OpKind
from edgelint.model.project import Project
from edgelint.model.queries import check_then_act
from edgelint.rules.base import Example, Rule, address_hint, key_of, shared_key


class KvCheckThenAct(Rule):
    code = "EDG103"
    name = "kv-check-then-act"
    severity = "error"
    summary = "A KV read gates a write or delete of the same key: locks, one-time tokens, de-duplication."
    what = """
        Reports the KV `get` whose result decides whether the same key is then written with a marker
        value or deleted: locks (`if not await kv.get(lock): await kv.put(lock, "1")`), one-time
        tokens, webhook and idempotency de-duplication, "seen"/"claimed"/"reserved" flags. The
        finding lands on the guarding read, or on the call of a helper that makes it
        (`if await is_used(kv, code):`) in the function that also writes. Cache-aside code, where
        the read value is the data and the write stores freshly computed data, is not reported.
    """
    why = """
        The check and the act are two separate, non-atomic KV operations, and the write takes up to
        a minute to become visible elsewhere. Concurrent requests (and retried webhooks, which arrive
        close together by design) all see "not claimed" and all proceed: tokens are redeemed twice,
        locks are held by several owners, events are processed more than once.
    """
    example = """
        async def on_fetch(request, env):
            event_id = request.headers.get("x-event-id")
            if await env.LOCKS.get(f"event:{event_id}"):
                return Response("duplicate", status=200)
            await env.LOCKS.put(f"event:{event_id}", "1", expirationTtl=86400)
    """
    use_instead = """
        class EventLog(DurableObject):
            async def claim(self, event_id):
                if await self.ctx.storage.get(event_id):
                    return False
                await self.ctx.storage.put(event_id, True)  # same object, serialized: atomic
                return True

        async def on_fetch(request, env):
            event_id = request.headers.get("x-event-id")
            if not await env.EVENTS.getByName(event_id).claim(event_id):
                return Response("duplicate", status=200)
    """
    references = (
        "Workers KV: no compare-and-set or transactions; concurrent writes to a key, last write wins.",
        "Durable Objects: a single instance per id gives a strongly consistent check-and-set.",
    )
    invalid = (
        Example("""
            async def on_fetch(request, env):
                event_id = request.headers.get("x-event-id")
                if await env.LOCKS.get(f"event:{event_id}"):  # expect: EDG103
                    return "duplicate"
                await env.LOCKS.put(f"event:{event_id}", "1", expirationTtl=86400)
        """, messages=(
            'KV check-then-act on key f"event:{event_id}" on binding LOCKS: this read gates a write of the same '
            "key, but KV cannot check and set atomically, so concurrent requests all pass the check; claim it in "
            "a Durable Object addressed by event_id (write in on_fetch() at line 6)",
        )),
        Example("""
            async def on_fetch(request, env):
                token = request.headers.get("token")
                stored = await env.TOKENS.get(f"token:{token}")  # expect: EDG103
                if stored is None:
                    return "invalid"
                await env.TOKENS.delete(f"token:{token}")
                return stored
        """, messages=(
            'KV check-then-act on key f"token:{token}" on binding TOKENS: this read gates a delete of the same '
            "key, but KV cannot check and set atomically, so concurrent requests all pass the check; claim it in "
            "a Durable Object addressed by token (delete in on_fetch() at line 7)",
        )),
        Example("""
            import time

            async def acquire(env, name):
                held = await env.LOCKS.get(name)  # expect: EDG103
                if not held:
                    await env.LOCKS.put(name, str(time.time()), expirationTtl=60)
                    return True
                return False

            async def on_fetch(request, env):
                return await acquire(env, "rebuild")
        """, messages=(
            'KV check-then-act on key "rebuild" on binding LOCKS: this read gates a write of the same key, but '
            "KV cannot check and set atomically, so concurrent requests all pass the check; claim it in one "
            "Durable Object for this lock and list its name in [tool.edgelint.rules.EDG201] allow-names (every "
            "claim goes through that object) (write in acquire() at line 7; reached from on_fetch())",
        )),
        Example("""
            import json

            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    seat = request.url
                    if await self.env.LOCKS.get("seat:" + seat) is not None:  # expect: EDG103
                        return "taken"
                    await self.env.LOCKS.put("seat:" + seat, json.dumps({"status": "reserved"}))
        """, messages=(
            'KV check-then-act on key "seat:" + seat on binding LOCKS: this read gates a write of the same key, '
            "but KV cannot check and set atomically, so concurrent requests all pass the check; claim it in a "
            "Durable Object addressed by the natural unit of the data (user, room, tenant) (write in "
            "Default.fetch() at line 9)",
        )),
        Example("""
            async def is_claimed(kv, token):
                return await kv.get(f"claim:{token}") is not None

            async def claim(kv, token):
                await kv.put(f"claim:{token}", "1", expirationTtl=3600)

            async def on_fetch(request, env):
                token = request.headers.get("x-token")
                if await is_claimed(env.TOKENS, token):  # expect: EDG103
                    return "already used"
                await claim(env.TOKENS, token)
        """, messages=(
            'KV check-then-act on key f"claim:{request.headers.get(\'x-token\')}" on binding TOKENS: this read '
            "gates a write of the same key, but KV cannot check and set atomically, so concurrent requests all "
            "pass the check; claim it in a Durable Object addressed by request.headers.get('x-token') (read in "
            "is_claimed() at line 3; write in claim() at line 6)",
        )),
        Example("""
            async def on_fetch(request, env):
                uid = request.headers.get("x-user")
                if await env.SESSIONS.get(f"welcome:{uid}") == "sent":  # expect: EDG103
                    return "ok"
                await send_welcome_email(uid)
                await env.SESSIONS.put(f"welcome:{uid}", "sent")
        """, messages=(
            'KV check-then-act on key f"welcome:{uid}" on binding SESSIONS: this read gates a write of the same '
            "key, but KV cannot check and set atomically, so concurrent requests all pass the check; claim it in "
            "a Durable Object addressed by uid (write in on_fetch() at line 7)",
        )),
    )
    valid = (
        Example("""
            async def on_fetch(request, env):
                uid = request.headers.get("x-user")
                legacy = await env.SESSIONS.get(f"v1:{uid}")
                if legacy is not None:
                    await env.SESSIONS.put(f"v2:{uid}", legacy)
                    await env.SESSIONS.delete(f"v1:{uid}")
                return legacy or ""
        """),
        Example("""
            async def on_fetch(request, env):
                cached = await env.CACHE.get("page:home")
                if cached:
                    return cached
                page = await render_home()
                await env.CACHE.put("page:home", page, expirationTtl=300)
                return page
        """),
        Example("""
            import json

            async def on_fetch(request, env):
                key = f"echo:{request.url}"
                cached = await env.CACHE.get(key)
                if cached:
                    return cached
                body = json.dumps({"url": request.url, "agent": request.headers.get("user-agent")})
                await env.CACHE.put(key, body, expirationTtl=600)
                return body
        """),
        Example("""
            async def on_fetch(request, env):
                if await env.LOCKS.get("lock:a"):
                    return "busy"
                await env.LOCKS.put("lock:b", "1")  # expect: EDG105
        """),
        Example("""
            async def on_fetch(request, env):
                if await env.FILES.get("lock"):
                    return "busy"
                await env.FILES.put("lock", "1")
        """),
        Example("""
            async def on_fetch(request, env):
                seen = {}
                if seen.get("x"):
                    return "dup"
                seen["x"] = 1
        """),
        Example("""
            from workers import DurableObject

            class Room(DurableObject):
                async def claim(self, seat):
                    if await self.ctx.storage.get(seat):
                        return False
                    await self.ctx.storage.put(seat, True)
                    return True
        """),
    )

    def check(self, project: Project, options: Mapping[str, Any]) -> Iterable[Report]:
        for read, write in check_then_act(project):
            action = "delete" if write.kind is OpKind.KV_DELETE else "write"
            yield self.report_pattern(
                read, "read", write, action,
                f"KV check-then-act on key {key_of(read)} on binding {read.binding}: this read gates a {action} "
                f"of the same key, but KV cannot check and set atomically, so concurrent requests all pass "
                f"the check; {_advice(read)}",
            )


def _advice(read: Operation) -> str:
    if shared_key(read) is not None:  # one global lock: its object is a singleton by design
        return ("claim it in one Durable Object for this lock and list its name in "
                "[tool.edgelint.rules.EDG201] allow-names (every claim goes through that object)")
    return f"claim it in a Durable Object addressed by {address_hint(read)}"
