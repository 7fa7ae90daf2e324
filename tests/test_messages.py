"""What messages say is true, and following their advice does not trigger another rule."""
from __future__ import annotations

import textwrap

from edgelint.rules.base import EXAMPLE_WRANGLER
from tests.helpers import lint_directory, write_project


def messages(tmp_path, code):
    write_project(tmp_path, {"wrangler.toml": EXAMPLE_WRANGLER, "src/entry.py": textwrap.dedent(code)})
    return {finding.code: finding.message for finding in lint_directory(tmp_path).findings}


CONSTANT_COUNTER = """
    async def on_fetch(request, env):
        hits = int(await env.STATS.get("hits") or 0)
        await env.STATS.put("hits", str(hits + 1))
"""

DAILY_COUNTER = """
    from datetime import date, datetime

    async def on_fetch(request, env):
        key = f"visits:{date.today().isoformat()}"
        hits = int(await env.STATS.get(key) or 0)
        await env.STATS.put(key, str(hits + 1))
        await env.STATS.put(f"last:{datetime.now().strftime('%H:%M')}", request.url)
"""

FOLLOWED_ADVICE = """
    from workers import DurableObject

    class Counter(DurableObject):
        async def increment(self):
            n = (await self.ctx.storage.get("n") or 0) + 1
            await self.ctx.storage.put("n", n)
            return n

    async def on_fetch(request, env):
        return await env.COUNTER.getByName("hits").increment()
"""


def test_a_global_counter_is_not_advised_into_a_global_object(tmp_path):
    message = messages(tmp_path, CONSTANT_COUNTER)["EDG101"]
    assert 'constant key "hits"' in message
    assert "Analytics Engine" in message and "shard" in message
    assert "addressed by" not in message


def test_the_advice_a_constant_key_used_to_get_is_edg201(tmp_path):
    """Why the advice changed: one object addressed by the constant name is a global singleton."""
    assert "EDG201" in messages(tmp_path, FOLLOWED_ADVICE)


def test_a_key_built_from_the_day_is_per_day_not_constant(tmp_path):
    found = messages(tmp_path, DAILY_COUNTER)
    assert "per-day key" in found["EDG101"] and "constant" not in found["EDG101"]
    assert "per-minute key" in found["EDG105"]


def test_a_per_request_counter_keeps_its_durable_object_advice(tmp_path):
    message = messages(tmp_path, CONSTANT_COUNTER.replace('"hits"', 'f"hits:{request.url}"'))["EDG101"]
    assert "Durable Object addressed by request.url" in message


def test_a_global_lock_is_advised_into_one_allowed_object(tmp_path):
    message = messages(tmp_path, """
        async def on_fetch(request, env):
            if await env.LOCKS.get("lock:rebuild"):
                return "busy"
            await env.LOCKS.put("lock:rebuild", "1", expirationTtl=60)
            return "started"
    """)["EDG103"]
    assert "allow-names" in message


def test_read_after_write_of_a_new_key_may_see_nothing(tmp_path):
    message = messages(tmp_path, """
        async def on_fetch(request, env):
            await env.SESSIONS.put(f"session:{request.url}", "x")
            return await env.SESSIONS.get(f"session:{request.url}")
    """)["EDG102"]
    assert "missing or old value" in message and "old value may be served" not in message
