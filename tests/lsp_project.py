"""The small Workers project the language server tests open: an EDG101 whose read and write sit in
a helper module, an EDG301 with its fix, and a binding (CACHE) to remove for EDG302."""

WRANGLER = """\
name = "shop"
main = "src/entry.py"
compatibility_flags = ["python_workers"]
kv_namespaces = [{ binding = "STATS", id = "1" }, { binding = "CACHE", id = "2" }]
"""
HELPER = """\
import json


async def get_stats(kv):
    return json.loads(await kv.get("stats") or "{}")


async def save_stats(kv, stats):
    await kv.put("stats", json.dumps(stats))
"""
ENTRY = """\
from kv_store import get_stats, save_stats


async def on_fetch(request, env):
    stats = await get_stats(env.STATS)
    stats["hits"] = stats.get("hits", 0) + 1
    await save_stats(env.STATS, stats)
    env.CACHE.delete("recent")
"""
PROJECT = {"wrangler.toml": WRANGLER, "src/kv_store.py": HELPER, "src/entry.py": ENTRY}
