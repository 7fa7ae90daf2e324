"""EDG101 kv-read-modify-write: a KV value read, changed and written back to the same key."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from edgelint.findings import Report
from edgelint.model.project import Project
from edgelint.model.queries import read_modify_writes
from edgelint.model.operations import Operation
from edgelint.rules.base import Example, Rule, address_hint, key_of, shared_key


class KvReadModifyWrite(Rule):
    code = "EDG101"
    name = "kv-read-modify-write"
    severity = "error"
    summary = "A KV value is read, changed and written back to the same key (counter, list, merged JSON)."
    what = """
        Reports a KV `put` whose value was derived from a `get` of the same key on the same
        binding: counters, appended lists, merged JSON documents. The read and the write may sit in
        one function or be split over helpers, wrapper methods and modules; the finding lands in the
        innermost function that holds both, on its write or on its call that leads to the write
        (`await store.put_json(key, cart)` in the caller, never inside a generic wrapper).
    """
    why = """
        KV has no atomic increment and no compare-and-set. Two requests that read the same value
        both write back their own update, and one is lost. KV also accepts only about one write per
        second to a key, and a write takes up to a minute to reach other locations, so a busy
        counter both loses updates and starts failing with 429s. Local `wrangler dev` is
        immediately consistent, so tests pass.
    """
    example = """
        async def on_fetch(request, env):
            slug = request.url.split("/")[-1]
            views = int(await env.VIEWS.get(f"views:{slug}") or 0)
            await env.VIEWS.put(f"views:{slug}", str(views + 1))
    """
    use_instead = """
        class ViewCounter(DurableObject):
            async def increment(self):
                views = (await self.ctx.storage.get("views") or 0) + 1
                await self.ctx.storage.put("views", views)  # serialized: no lost updates
                return views

        async def on_fetch(request, env):
            slug = request.url.split("/")[-1]
            views = await env.VIEW_COUNTER.getByName(slug).increment()
    """
    supersedes = ("EDG105",)  # the write of a read-modify-write of a constant key is reported here
    references = (
        "Workers KV: eventually consistent, last write wins, no atomic operations.",
        "Workers KV limits: about 1 write per second to the same key.",
        "Durable Objects: one instance per id, storage operations serialized by input gates.",
    )
    invalid = (
        Example("""
            async def on_fetch(request, env):
                slug = request.url.split("/")[-1]
                views = int(await env.VIEWS.get(f"views:{slug}") or 0)
                await env.VIEWS.put(f"views:{slug}", str(views + 1))  # expect: EDG101
        """, messages=(
            'KV read-modify-write of key f"views:{slug}" on binding VIEWS: concurrent requests lose updates and '
            "KV accepts ~1 write/s per key; keep the value in a Durable Object addressed by slug (read in "
            "on_fetch() at line 4)",
        )),
        Example("""
            import json
            from workers import WorkerEntrypoint

            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    key = "recent"
                    items = json.loads(await self.env.CACHE.get(key) or "[]")
                    items.append(request.url)
                    await self.env.CACHE.put(key, json.dumps(items[-50:]))  # expect: EDG101
        """, messages=(
            'KV read-modify-write of constant key "recent" on binding CACHE: concurrent requests lose updates '
            "and KV accepts ~1 write/s per key; every request adds to this one total: count the events in "
            "Workers Analytics Engine, or shard the counter over several Durable Objects and sum them when read "
            "(read in Default.fetch() at line 8)",
        )),
        Example("""
            import json

            async def get_stats(kv):
                return json.loads(await kv.get("stats") or "{}")

            async def save_stats(kv, stats):
                await kv.put("stats", json.dumps(stats))

            async def on_fetch(request, env):
                stats = await get_stats(env.STATS)
                stats["joins"] = stats.get("joins", 0) + 1
                await save_stats(env.STATS, stats)  # expect: EDG101
        """, messages=(
            'KV read-modify-write of constant key "stats" on binding STATS: concurrent requests lose updates and '
            "KV accepts ~1 write/s per key; every request adds to this one total: count the events in Workers "
            "Analytics Engine, or shard the counter over several Durable Objects and sum them when read (read in "
            "get_stats() at line 5; write in save_stats() at line 8)",
        )),
        Example("""
            async def on_fetch(request, env):
                kv = getattr(env, "VIEWS", None)
                user = request.headers.get("x-user")
                count = await kv.get(user)
                count = int(count or 0)
                count += 1
                await kv.put(user, str(count))  # expect: EDG101
        """, messages=(
            'KV read-modify-write of key request.headers.get("x-user") on binding VIEWS: concurrent requests '
            "lose updates and KV accepts ~1 write/s per key; keep the value in a Durable Object addressed by "
            'request.headers.get("x-user") (read in on_fetch() at line 5)',
        )),
        Example("""
            import json

            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    doc = json.loads(await self.env.SESSIONS.get("profile:" + request.url) or "{}")
                    doc.update({"last": request.url})
                    await self.env.SESSIONS.put("profile:" + request.url, json.dumps(doc))  # expect: EDG101
        """, messages=(
            'KV read-modify-write of key "profile:" + request.url on binding SESSIONS: concurrent requests lose '
            "updates and KV accepts ~1 write/s per key; keep the value in a Durable Object addressed by the "
            "natural unit of the data (user, room, tenant) (read in Default.fetch() at line 6)",
        )),
    )
    valid = (
        Example("""
            async def on_fetch(request, env):
                page = await env.CACHE.get("page:home")
                if page is None:
                    page = await render_home()
                    await env.CACHE.put("page:home", page, expirationTtl=300)
                return page
        """),
        Example("""
            async def on_fetch(request, env):
                views = int(await env.VIEWS.get("views:a") or 0)
                await env.VIEWS.put("views:b", str(views + 1))  # expect: EDG105
        """),
        Example("""
            async def on_fetch(request, env):
                data = await env.FILES.get("report.json")
                await env.FILES.put("report.json", data + b"\\n")
        """),
        Example("""
            async def on_fetch(request, env):
                cache = {}
                n = cache.get("n", 0)
                cache["n"] = n + 1
                return await env.VIEWS.get("views:home")
        """),
        Example("""
            from workers import DurableObject

            class Counter(DurableObject):
                async def increment(self):
                    n = await self.ctx.storage.get("n") or 0
                    await self.ctx.storage.put("n", n + 1)
                    return n + 1
        """),
    )

    def check(self, project: Project, options: Mapping[str, Any]) -> Iterable[Report]:
        for read, write in read_modify_writes(project):
            yield self.report_pattern(
                write, "write", read, "read",
                f"KV read-modify-write of {_key(write)} on binding {write.binding}: concurrent requests lose "
                f"updates and KV accepts ~1 write/s per key; {_advice(write)}",
            )


def _key(write: Operation) -> str:
    scope = shared_key(write)
    return f"{scope} key {key_of(write)}" if scope is not None else f"key {key_of(write)}"


def _advice(write: Operation) -> str:
    if shared_key(write) is not None:  # one object for a global total would be EDG201's bottleneck
        return ("every request adds to this one total: count the events in Workers Analytics Engine, or "
                "shard the counter over several Durable Objects and sum them when read")
    return f"keep the value in a Durable Object addressed by {address_hint(write)}"
