"""`edgelint model --traffic`: monthly cost per line item against figures computed by hand, the
Free plan's daily allowances, the capacity warnings and the traffic options."""
from __future__ import annotations

import json
import textwrap

import pytest

from tests.helpers import write_project
from tests.test_model import WRANGLER

WORKER = textwrap.dedent("""\
    from workers import DurableObject


    async def on_fetch(request, env):
        user = request.headers.get("x-user")
        await env.KV.get(f"profile:{user}")
        await env.KV.put("last-seen", user)
        if user:
            await env.KV.delete(f"old:{user}")
        return await env.ROOMS.getByName("lobby").post("hi")


    class Room(DurableObject):
        async def post(self, text):
            n = await self.ctx.storage.get("n")
            await self.ctx.storage.put("n", (n or 0) + 1)
    """)
MONTH = 30 * 86_400


@pytest.fixture
def worker(tmp_path):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": WORKER})
    return tmp_path


def estimate(run_cli, *args):
    code, out, err = run_cli("model", "--format", "json", *args)
    assert code == 0, err
    [project] = json.loads(out)["projects"]
    return project["estimate"]


def items(found):
    return {item["item"]: item for item in found["line_items"]}


def test_paid_plan_cost_per_line_item_after_the_allowances(worker, run_cli):
    found = estimate(run_cli, ".", "--traffic", "10")
    per_month = 10 * MONTH  # 25,920,000 invocations
    assert per_month == 25_920_000
    costs = {name: (round(item["cost_min"], 4), round(item["cost_max"], 4)) for name, item in items(found).items()}
    assert costs == {
        "kv_reads": (7.96, 7.96),  # (25.92M - 10M) x $0.50/M
        "kv_writes": (124.6, 124.6),  # (25.92M - 1M) x $5/M
        "kv_deletes": (0.0, 124.6),  # 0..1 per request: up to (25.92M - 1M) x $5/M
        "do_requests": (3.738, 3.738),  # (25.92M - 1M) x $0.15/M
        "do_rows_read": (0.0, 0.0),  # 25.92M of 25 billion included
        "do_rows_written": (0.0, 0.0),  # 25.92M of 50M included
    }
    assert items(found)["kv_deletes"]["monthly_min"] == 0 and items(found)["kv_deletes"]["monthly_max"] == per_month
    assert (round(found["total"]["min"], 3), round(found["total"]["max"], 3)) == (136.298, 260.898)


def test_free_plan_daily_allowances_are_reported_when_exceeded(worker, run_cli):
    found = estimate(run_cli, ".", "--traffic", "1500/day", "--plan", "free")
    assert {name: item["over_free_plan"] for name, item in items(found).items()} == {
        "kv_reads": False, "kv_writes": True, "kv_deletes": True, "do_requests": False,
        "do_rows_read": False, "do_rows_written": False}  # 1,500 a day against 100,000 / 1,000 / 1,000 / 100,000
    assert found["total"] == {"min": 0, "max": 0}
    assert [w["message"] for w in found["warnings"] if w["kind"] == "free-plan"] == [
        "KV writes: 1,500 a day exceed the Free plan's 1,000: operations beyond it fail",
        "KV deletes: 1,500 a day exceed the Free plan's 1,000: operations beyond it fail"]


def test_hot_constant_key_and_single_object_warnings(worker, run_cli):
    calm = estimate(run_cli, ".", "--traffic", "1/s")
    assert calm["warnings"] == []
    busy = estimate(run_cli, ".", "--traffic", "1200")
    assert [(w["kind"], w["message"]) for w in busy["warnings"]] == [
        ("hot-key", 'KV key "last-seen" on KV is written 1,200/s: KV accepts 1 write/s per key (429 beyond)'),
        ("single-object",
         'one object ROOMS("lobby") receives 1,200 requests/s: over the guidance of ~1000/s per object'),
    ]


def test_route_traffic_from_a_file_and_the_rest_of_the_worker_split_evenly(tmp_path, run_cli):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": textwrap.dedent("""\
        async def on_fetch(request, env):
            if request.url.startswith("/views/"):
                await env.KV.get("a")
                return "a"
            if request.url == "/b":
                await env.KV.get("b")
                return "b"
            await env.KV.get("c")
        """), "traffic.toml": '[traffic]\n"GET /views/*" = 200\nworker = "25920000000/month"\n'})
    found = estimate(run_cli, ".", "--traffic-file", "traffic.toml")
    assert [(rate["route"], rate["per_second"], rate["source"]) for rate in found["traffic"]] == [
        ("/views/*", 200, "given"), ("/b", 4900, "share of the Worker's"),
        ("on_fetch (other paths)", 4900, "share of the Worker's")]  # 10,000/s - 200, over two routes
    assert items(found)["kv_reads"]["monthly_max"] == 10_000 * MONTH


def test_unknown_route_and_bad_rate_are_errors(worker, run_cli):
    code, _, err = run_cli("model", ".", "--traffic", "GET /nowhere=5")
    assert code == 2 and "no such route; the routes are: on_fetch" in err
    code, _, err = run_cli("model", ".", "--traffic", "fast")
    assert code == 2 and "expected a rate such as 100" in err


def test_prices_are_dated_and_overridable_from_the_config(worker, run_cli):
    code, out, _ = run_cli("model", ".", "--traffic", "10")
    assert code == 0 and "prices of 2026-12 (prices.toml)" in out
    (worker / "pyproject.toml").write_text("[tool.edgelint.model.prices.paid.kv_reads]\nper_million = 1.0\n")
    found = estimate(run_cli, ".", "--traffic", "10")
    assert round(items(found)["kv_reads"]["cost_max"], 2) == 15.92  # (25.92M - 10M) x $1/M
    (worker / "pyproject.toml").write_text("[tool.edgelint.model.prices.paid]\nkv_readz = 1\n")
    code, _, err = run_cli("model", ".", "--traffic", "10")
    assert code == 2 and "unknown key 'model.prices.paid.kv_readz'" in err


def test_an_alarm_that_re_arms_itself_keeps_each_object_awake(tmp_path, run_cli):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": textwrap.dedent("""\
        from workers import DurableObject


        class Room(DurableObject):
            async def alarm(self):
                await self.ctx.storage.setAlarm(Date.now() + 5000)
        """)})
    found = estimate(run_cli, ".", "--traffic", "1")
    # 2,592,000 s at 0.125 GB-s per second; one alarm every 5 s
    assert [w["message"] for w in found["warnings"]] == [
        "Room.alarm re-arms itself every 5 s: each such object is active all month, 324,000 GB-s and "
        "518,400 alarm requests"]
