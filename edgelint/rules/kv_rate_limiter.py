"""EDG104 kv-rate-limiter: a request counter kept in KV and compared with a limit."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from edgelint.findings import Report
from edgelint.model.project import Project
from edgelint.model.queries import rate_limiter_pairs
from edgelint.model.operations import Operation
from edgelint.rules.base import Example, Rule, address_hint, key_of, shared_key


class KvRateLimiter(Rule):
    code = "EDG104"
    name = "kv-rate-limiter"
    severity = "error"
    summary = "A count read from KV is compared with a limit and the new count written back."
    what = """
        Reports the write of the new count in a fixed-window or sliding-window rate limiter built on
        KV: the count (or list of timestamps) is read, compared with a limit in an `if` that rejects
        the request on one side (returns early, raises, answers 429) and goes on on the other, and an
        updated value is written back to the same key. A count compared to pick a status, a value
        compared in an expression or a comprehension, and a time compared with the clock (a
        freshness check) limit nothing: such a read-modify-write is EDG101's. It supersedes EDG101, EDG103 and EDG105: the same operations
        are reported only here while EDG104 is selected (ignore it and they are reported as those).
    """
    why = """
        Concurrent requests read the same count, all pass the comparison and all write count + 1:
        the limiter undercounts exactly when traffic is heavy. A key also takes at most about one
        write per second, so a busy client's counter starts failing, and other locations keep seeing
        the old count for up to a minute.
    """
    example = """
        async def on_fetch(request, env):
            ip = request.headers.get("cf-connecting-ip")
            count = int(await env.RATE.get(f"rl:{ip}") or 0)
            if count >= 100:
                return Response("slow down", status=429)
            await env.RATE.put(f"rl:{ip}", str(count + 1), expirationTtl=60)
    """
    use_instead = """
        async def on_fetch(request, env):
            ip = request.headers.get("cf-connecting-ip")
            outcome = await env.LIMITER.limit(key=ip)  # the Rate Limiting binding
            if not outcome.success:
                return Response("slow down", status=429)
    """
    supersedes = ("EDG101", "EDG103", "EDG105")
    references = (
        "Workers Rate Limiting binding: `limit({key})` counts per key at the edge.",
        "Workers KV limits: about 1 write per second to the same key; eventual consistency.",
    )
    invalid = (
        Example("""
            async def on_fetch(request, env):
                ip = request.headers.get("cf-connecting-ip")
                count = int(await env.RATE.get(f"rl:{ip}") or 0)
                if count >= 100:
                    return "slow down"
                await env.RATE.put(f"rl:{ip}", str(count + 1), expirationTtl=60)  # expect: EDG104
        """, messages=(
            'KV rate limiter on key f"rl:{ip}" on binding RATE: the count is read, compared and written back '
            "without atomicity, so concurrent requests undercount and the key takes ~1 write/s; use the Rate "
            "Limiting binding or a Durable Object per ip (read in on_fetch() at line 4)",
        )),
        Example("""
            import json, time

            async def on_fetch(request, env):
                user = request.headers.get("x-user")
                now = time.time()
                stamps = json.loads(await env.RATE.get(f"win:{user}") or "[]")
                recent = [t for t in stamps if t > now - 60]
                if len(recent) >= 10:
                    return "too many"
                recent.append(now)
                await env.RATE.put(f"win:{user}", json.dumps(recent), expirationTtl=120)  # expect: EDG104
        """, messages=(
            'KV rate limiter on key f"win:{user}" on binding RATE: the count is read, compared and written back '
            "without atomicity, so concurrent requests undercount and the key takes ~1 write/s; use the Rate "
            "Limiting binding or a Durable Object per user (read in on_fetch() at line 7)",
        )),
        Example("""
            LIMIT = 50

            async def hit(kv, key):
                used = int(await kv.get(key) or 0)
                if used < LIMIT:
                    await kv.put(key, str(used + 1))  # expect: EDG104
                    return True
                return False

            async def on_fetch(request, env):
                return await hit(env.RATE, "quota:" + request.url)
        """, messages=(
            'KV rate limiter on key f"quota:{request.url}" on binding RATE: the count is read, compared and '
            "written back without atomicity, so concurrent requests undercount and the key takes ~1 write/s; use "
            "the Rate Limiting binding or a Durable Object per request.url (read in hit() at line 5; reached "
            "from on_fetch())",
        )),
        Example("""
            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    key = f"quota:{request.headers.get('x-api-key')}"
                    quota = await self.env.RATE.get(key)
                    remaining = int(quota) if quota else 1000
                    if remaining <= 0:
                        return "quota exceeded"
                    await self.env.RATE.put(key, str(remaining - 1))  # expect: EDG104
        """, messages=(
            'KV rate limiter on key f"quota:{request.headers.get(\'x-api-key\')}" on binding RATE: the count is '
            "read, compared and written back without atomicity, so concurrent requests undercount and the key "
            "takes ~1 write/s; use the Rate Limiting binding or a Durable Object per "
            "request.headers.get('x-api-key') (read in Default.fetch() at line 5)",
        )),
        Example("""
            import json

            async def on_fetch(request, env):
                ip = request.headers.get("cf-connecting-ip")
                state = json.loads(await env.RATE.get(ip) or '{"n": 0}')
                state["n"] += 1
                if state["n"] > 20:
                    return "blocked"
                await env.RATE.put(ip, json.dumps(state), expirationTtl=60)  # expect: EDG104
        """, messages=(
            'KV rate limiter on key request.headers.get("cf-connecting-ip") on binding RATE: the count is read, '
            "compared and written back without atomicity, so concurrent requests undercount and the key takes ~1 "
            "write/s; use the Rate Limiting binding or a Durable Object per "
            'request.headers.get("cf-connecting-ip") (read in on_fetch() at line 6)',
        )),
    )
    valid = (
        Example("""
            async def on_fetch(request, env):
                ip = request.headers.get("cf-connecting-ip")
                outcome = await env.LIMITER.limit(key=ip)
                if not outcome.success:
                    return "slow down"
        """),
        Example("""
            from workers import DurableObject

            class Counter(DurableObject):
                async def hit(self, limit):
                    n = await self.ctx.storage.get("n") or 0
                    if n >= limit:
                        return False
                    await self.ctx.storage.put("n", n + 1)
                    return True
        """),
        Example("""
            async def on_fetch(request, env):
                limit = int(await env.FLAGS.get("limit") or 100)
                if limit > 10:
                    return "ok"
        """),
        Example("""
            async def on_fetch(request, env):
                count = int(await env.RATE.get("a") or 0)
                if count >= 100:
                    return "slow down"
                await env.RATE.put("b", str(count + 1))  # expect: EDG105
        """),
    )

    def check(self, project: Project, options: Mapping[str, Any]) -> Iterable[Report]:
        for read, write in rate_limiter_pairs(project):
            yield self.report_pattern(
                write, "write", read, "read",
                f"KV rate limiter on key {key_of(write)} on binding {write.binding}: the count is read, compared "
                f"and written back without atomicity, so concurrent requests undercount and the key takes "
                f"~1 write/s; {_advice(write)}",
            )


def _advice(write: Operation) -> str:
    if shared_key(write) is not None:  # a global budget in one object would be EDG201's bottleneck
        return ("use the Rate Limiting binding keyed by client, or shard a global budget over several "
                "Durable Objects")
    return f"use the Rate Limiting binding or a Durable Object per {address_hint(write)}"
