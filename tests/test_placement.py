"""Where a finding lands (rules.md, "Where a finding lands: where the fix goes"), and the related
locations that travel with it, through the CLI's JSON output."""
from __future__ import annotations

import json
import textwrap

from tests.helpers import write_project

WRANGLER = 'kv_namespaces = [{ binding = "SHOP_KV", id = "1" }]\n'

KVSTORE = textwrap.dedent("""\
    import json


    class KVStore:
        def __init__(self, namespace):
            self.ns = namespace

        async def get_json(self, key):
            raw = await self.ns.get(key)
            return None if raw is None else json.loads(raw)

        async def put_json(self, key, value):
            await self.ns.put(key, json.dumps(value))

        async def incr(self, key):
            n = int(await self.ns.get(key) or 0)
            await self.ns.put(key, str(n + 1))
""")

CART = textwrap.dedent("""\
    async def add_to_cart(store, uid, sku):
        cart = await store.get_json(f"cart:{uid}") or {}
        cart[sku] = cart.get(sku, 0) + 1
        await store.put_json(f"cart:{uid}", cart)
""")

WISHLIST = textwrap.dedent("""\
    async def wish(store, uid, sku):
        wishes = await store.get_json(f"wish:{uid}") or []
        wishes.append(sku)
        await store.put_json(f"wish:{uid}", wishes)
""")

ENTRY = textwrap.dedent("""\
    from workers import WorkerEntrypoint

    from src.cart import add_to_cart
    from src.kvstore import KVStore
    from src.wishlist import wish


    class Default(WorkerEntrypoint):
        async def fetch(self, request):
            store = KVStore(self.env.SHOP_KV)
            uid = request.headers.get("x-user")
            await add_to_cart(store, uid, "sku-1")
            await wish(store, uid, "sku-2")
            await store.incr(f"visits:{uid}")
            return "ok"

        async def ping(self, uid):
            await KVStore(self.env.SHOP_KV).incr(f"visits:{uid}")
""")


def _project(tmp_path):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/__init__.py": "", "src/kvstore.py": KVSTORE,
                             "src/cart.py": CART, "src/wishlist.py": WISHLIST, "src/entry.py": ENTRY})


def _findings(run_cli, *paths):
    code, out, err = run_cli("check", "--no-cache", "--format", "json", *paths)
    assert code == 1, err
    return json.loads(out)


def test_each_caller_that_composes_a_pattern_through_a_wrapper_gets_its_own_finding(tmp_path, run_cli):
    _project(tmp_path)
    findings = _findings(run_cli, ".")
    assert sorted((f["path"], f["line"], f["code"]) for f in findings) == [
        ("src/cart.py", 4, "EDG101"),
        ("src/kvstore.py", 17, "EDG101"),
        ("src/wishlist.py", 4, "EDG101"),
    ]
    cart = next(f for f in findings if f["path"] == "src/cart.py")
    assert [(r["message"], r["path"], r["line"]) for r in cart["related"]] == [
        ("read in KVStore.get_json()", "src/kvstore.py", 9),
        ("write in KVStore.put_json()", "src/kvstore.py", 13),
        ("Default.fetch() calls add_to_cart()", "src/entry.py", 12),
    ]
    assert cart["message"].endswith(
        "(read in KVStore.get_json() at kvstore.py:9; write in KVStore.put_json() at kvstore.py:13; "
        "reached from Default.fetch())")


def test_a_function_holding_the_whole_pattern_reports_once_and_lists_its_callers(tmp_path, run_cli):
    _project(tmp_path)
    [incr] = [f for f in _findings(run_cli, ".") if f["path"] == "src/kvstore.py"]
    assert incr["line"] == 17
    assert [(r["message"], r["line"]) for r in incr["related"]] == [
        ("read in KVStore.incr()", 16),
        ("Default.fetch() calls KVStore.incr()", 14),
        ("Default.ping() calls KVStore.incr()", 18),
    ]


def test_a_changed_caller_alone_gets_its_finding_from_a_named_file(tmp_path, run_cli):
    """pre-commit and editors lint the file that changed: the finding must be in it."""
    _project(tmp_path)
    assert [(f["path"], f["line"]) for f in _findings(run_cli, "src/wishlist.py")] == [("src/wishlist.py", 4)]
