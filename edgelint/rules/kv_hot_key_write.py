"""EDG105 kv-hot-key-write: every request writes the same KV key."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from edgelint.findings import Report
from edgelint.model.operations import Operation, OpKind
from edgelint.model.project import Project
from edgelint.model.queries import guard_reads, in_durable_object, kv_ops
from edgelint.model.values import is_constant
from edgelint.rules.base import Example, Rule, key_of, shared_key


class KvHotKeyWrite(Rule):
    code = "EDG105"
    name = "kv-hot-key-write"
    severity = "warning"
    summary = "A constant KV key is written on the request path: every request writes the same key."
    what = """
        Reports a KV `put` on the request path whose key is constant: built only from literals,
        module constants, env vars and the clock (`time.time()`, `datetime.now()`), so every request
        (in the same second, minute or day) writes the same key: "last seen", "latest", heartbeats,
        per-minute samples, newest-item pointers. Not reported: writes on administrative routes and
        functions; cache-miss and stale-entry refills (the write is gated by a read of the same key
        that came back empty or stale); background handlers (`scheduled`, `queue`, `alarm`);
        writes made inside a Durable Object, which serializes them (projecting its state to KV is
        the recommended combined pattern); keys that differ per request. A constant-key
        read-modify-write is reported as EDG101 and a rate limiter as EDG104 (they supersede this
        rule: ignore them and the write is reported here).
    """
    why = """
        KV accepts about one write per second to the same key; a key written by every request
        starts failing with 429 errors as soon as traffic exceeds that, and each write is billed
        (writes cost far more than reads, and the free plan allows 1,000 a day). Concurrent writes
        race (last write wins) and take up to a minute to reach other locations, so the value is
        neither reliable nor fresh. Local development enforces none of this.
    """
    example = """
        import time

        async def on_fetch(request, env):
            await env.STATS.put("last_seen", str(time.time()))
            return Response("ok")
    """
    use_instead = """
        class Stats(DurableObject):                      # one writer, serialized, no per-key limit
            async def seen(self, when):
                await self.ctx.storage.put("last_seen", when)
                await self.env.STATS.put("last_seen", str(when))  # project to KV for cheap reads

        async def on_fetch(request, env, ctx):
            ctx.waitUntil(env.STATS_DO.getByName("stats").seen(time.time()))

        # or write it from a scheduled handler, or key it per request (f"seen:{user}")
    """
    references = (
        "Workers KV limits: about 1 write per second to the same key (more returns 429).",
        "Workers KV pricing: writes are billed per operation; the free plan allows 1,000 writes a day.",
        "Durable Objects: serialize writes; use KV to serve the reads.",
    )
    invalid = (
        Example("""
            import time

            async def on_fetch(request, env):
                await env.STATS.put("last_seen", str(time.time()))  # expect: EDG105
                return "ok"
        """, messages=(
            'KV write to constant key "last_seen" on binding STATS on the request path: every request writes the '
            "same key, KV takes ~1 write/s per key (429 beyond) and bills each write; key it per request (user, "
            "item), write it from a scheduled handler, or record the events in Workers Analytics Engine",
        )),
        Example("""
            import json
            from workers import WorkerEntrypoint

            LATEST = "posts:latest"

            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    post = await request.json()
                    await self.env.CACHE.put(LATEST, json.dumps(post))  # expect: EDG105
                    return "stored"
        """, messages=(
            'KV write to constant key "posts:latest" on binding CACHE on the request path: every request writes '
            "the same key, KV takes ~1 write/s per key (429 beyond) and bills each write; key it per request "
            "(user, item), write it from a scheduled handler, or record the events in Workers Analytics Engine",
        )),
        Example("""
            import time

            async def on_fetch(request, env):
                minute = int(time.time() // 60)
                await env.STATS.put(f"sample:{minute}", request.url, expirationTtl=3600)  # expect: EDG105
                return "ok"
        """, messages=(
            'KV write to per-minute key f"sample:{minute}" on binding STATS on the request path: every request '
            "writes the same key, KV takes ~1 write/s per key (429 beyond) and bills each write; key it per "
            "request (user, item), write it from a scheduled handler, or record the events in Workers Analytics "
            "Engine",
        )),
        Example("""
            from metrics import heartbeat

            async def on_fetch(request, env):
                await heartbeat(env.STATS)
                return "ok"
        """, files={"src/metrics.py": """\
import time


async def heartbeat(kv):
    await kv.put("heartbeat", str(time.time()))  # expect: EDG105
"""}, messages=(
    'KV write to constant key "heartbeat" on binding STATS on the request path: every request writes the '
    "same key, KV takes ~1 write/s per key (429 beyond) and bills each write; key it per request (user, "
    "item), write it from a scheduled handler, or record the events in Workers Analytics Engine (reached "
    "from on_fetch())",
)),
        Example("""
            from datetime import datetime
            from workers import WorkerEntrypoint

            class Default(WorkerEntrypoint):
                async def track(self, item):
                    day = datetime.now().strftime("%Y-%m-%d")
                    await self.env.STATS.put("newest:" + day, item)  # expect: EDG105
        """, messages=(
            'KV write to per-day key "newest:" + day on binding STATS on the request path: every request writes '
            "the same key, KV takes ~1 write/s per key (429 beyond) and bills each write; key it per request "
            "(user, item), write it from a scheduled handler, or record the events in Workers Analytics Engine",
        )),
        Example("""
            async def on_fetch(request, env):
                if await env.FLAGS.get("maintenance"):
                    return "down"
                await env.CACHE.put("last_request", request.url)  # expect: EDG105
                return "ok"
        """, messages=(
            'KV write to constant key "last_request" on binding CACHE on the request path: every request writes '
            "the same key, KV takes ~1 write/s per key (429 beyond) and bills each write; key it per request "
            "(user, item), write it from a scheduled handler, or record the events in Workers Analytics Engine",
        )),
    )
    valid = (
        Example("""
            async def on_fetch(request, env):
                if request.url.endswith("/admin/publish"):
                    await env.CACHE.put("posts:latest", await request.text())
                return "ok"

            async def publish_post(env, post):
                await env.CACHE.put("posts:latest", post)
        """),
        Example("""
            import json, time

            async def home(env):
                cached = await env.CACHE.get("page:home")
                if cached is not None:
                    return cached
                html = await render_home()
                await env.CACHE.put("page:home", html, expirationTtl=300)
                return html

            async def on_fetch(request, env):
                entry = json.loads(await env.CACHE.get("rates") or "null")
                if entry and entry["at"] > time.time() - 60:
                    return entry["rates"]
                rates = await fetch_rates()
                await env.CACHE.put("rates", json.dumps({"at": time.time(), "rates": rates}))
                return await home(env)
        """),
        Example("""
            import time
            from workers import WorkerEntrypoint

            class Default(WorkerEntrypoint):
                async def scheduled(self, controller, env, ctx):
                    await env.STATS.put("heartbeat", str(time.time()))

                async def queue(self, batch, env, ctx):
                    await env.STATS.put("last_batch", str(time.time()))
        """),
        Example("""
            import json
            from workers import DurableObject

            class Leaderboard(DurableObject):
                async def submit(self, name, score):
                    await self.ctx.storage.put(name, score)
                    top = await self.ctx.storage.list(limit=10)
                    await self.env.CACHE.put("leaderboard", json.dumps(top))
        """),
        Example("""
            import uuid

            async def on_fetch(request, env):
                user = request.headers.get("x-user")
                await env.SESSIONS.put(f"seen:{user}", "1")
                await env.STATS.put(f"visit:{uuid.uuid4()}", request.url)
                return "ok"
        """),
        Example("""
            import nanoid
            from js import crypto
            from ulid import ULID

            async def on_fetch(request, env):
                body = await request.text()
                await env.STATS.put(f"upload:{crypto.randomUUID()}", body, expirationTtl=3600)
                await env.STATS.put(f"draft:{nanoid.generate(size=12)}", body, expirationTtl=3600)
                await env.STATS.put(f"log:{ULID()}", request.url, expirationTtl=3600)
                return "ok"
        """),
        Example("""
            async def on_fetch(request, env):
                hits = int(await env.STATS.get("hits") or 0)
                await env.STATS.put("hits", str(hits + 1))  # expect: EDG101
                return "ok"
        """),
        Example("""
            async def on_fetch(request, env):
                used = int(await env.RATE.get("global") or 0)
                if used >= 1000:
                    return "busy"
                await env.RATE.put("global", str(used + 1), expirationTtl=60)  # expect: EDG104
        """),
    )

    def check(self, project: Project, options: Mapping[str, Any]) -> Iterable[Report]:
        yield from self.report_calls(
            kv_ops(project, OpKind.KV_PUT),
            lambda write: _is_hot(project, write),
            lambda write: (
                f"KV write to {shared_key(write)} key {key_of(write)} on binding {write.binding} on the request "
                f"path: every request writes the same key, KV takes ~1 write/s per key (429 beyond) and bills "
                f"each write; key it per request (user, item), write it from a scheduled handler, or record "
                f"the events in Workers Analytics Engine"),
            decisive=lambda write: write.key_value,
        )


def _is_hot(project: Project, write: Operation) -> bool:
    return (
        write.key is not None
        and is_constant(write.key)
        and write.on_request_path
        and not any(guard_reads(project, write))  # a cache refill after a miss or a stale read
        and not in_durable_object(project, write)
    )
