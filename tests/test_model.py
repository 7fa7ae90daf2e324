"""`edgelint model`: each route's operations per invocation, through the real CLI."""
from __future__ import annotations

import json
import textwrap

from tests.helpers import FIXTURES, write_project

WRANGLER = """\
kv_namespaces = [{ binding = "KV", id = "1" }]
[[durable_objects.bindings]]
name = "ROOMS"
class_name = "Room"
"""

ROUTED = textwrap.dedent("""\
    from workers import DurableObject, WorkerEntrypoint


    async def touch(env, key):
        if key.startswith("tmp:"):
            return
        await env.KV.put(key, "1")


    class Default(WorkerEntrypoint):
        async def fetch(self, request):
            path = request.url
            user = request.headers.get("x-user")
            await self.env.KV.get(f"seen:{user}")
            if path == "/branches":
                if user:
                    await self.env.KV.put(f"a:{user}", "1")
                elif path.endswith("x"):
                    await self.env.KV.delete(f"a:{user}")
                    await self.env.KV.delete(f"b:{user}")
                else:
                    await self.env.KV.get("config")
                return "ok"
            if path.startswith("/loop/"):
                for item in await self.env.KV.list(prefix="i:"):
                    await self.env.KV.get(f"i:{item}")
                await self.env.KV.put("last-loop", "1")
                return "ok"
            if path == "/helpers":
                await touch(self.env, f"one:{user}")
                await touch(self.env, f"two:{user}")
                try:
                    await self.env.KV.get(f"maybe:{user}")
                except KeyError:
                    await self.env.KV.delete(f"maybe:{user}")
                return "ok"
            if path.startswith("/rooms/"):
                room = self.env.ROOMS.getByName(user)
                return await room.post("hi")
            return "not found"


    class Room(DurableObject):
        async def post(self, text):
            count = await self.ctx.storage.get("count") or 0
            for word in text.split():
                await self.ctx.storage.put(f"word:{word}", count)
            await self.ctx.storage.put("count", count + 1)
    """)


def model_of(run_cli, *args):
    code, out, err = run_cli("model", "--format", "json", *args)
    assert code == 0, err
    [project] = json.loads(out)["projects"]
    return project


def counts(route):
    """(action, binding, key, key kind) -> the count text."""
    return {(op["action"], op["binding"], op["key"], op["key_kind"]): op["count"]["text"] for op in route["operations"]}


def routed(tmp_path, run_cli, entry: str = ROUTED):
    """The model's routes of a project whose entry module is `entry` (dedented), by label."""
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": textwrap.dedent(entry)})
    return {route["label"]: route for route in model_of(run_cli, ".")["routes"]}


def test_each_route_of_a_fetch_handler_is_modelled_apart(tmp_path, run_cli):
    routes = routed(tmp_path, run_cli)
    assert ["/branches", "/loop/*", "/helpers", "/rooms/*", "Default.fetch (other paths)",
            "Room.post"] == list(routes)
    assert counts(routes["Default.fetch (other paths)"]) == {("read", "KV", 'f"seen:{user}"', "per-entity"): "1"}


def test_branches_give_ranges(tmp_path, run_cli):
    assert counts(routed(tmp_path, run_cli)["/branches"]) == {
        ("read", "KV", 'f"seen:{user}"', "per-entity"): "1",
        ("write", "KV", 'f"a:{user}"', "per-entity"): "0..1",
        ("delete", "KV", 'f"a:{user}"', "per-entity"): "0..1",
        ("delete", "KV", 'f"b:{user}"', "per-entity"): "0..1",
        ("read", "KV", '"config"', "constant"): "0..1",
    }


def test_the_right_operand_of_and_or_is_a_branch(tmp_path, run_cli):
    [route] = routed(tmp_path, run_cli, """\
        async def on_fetch(request, env):
            user = request.headers.get("x-user")
            cached = request.headers.get("x-cached") or await env.KV.get(f"profile:{user}")
            if user and await env.KV.get(f"banned:{user}"):
                return "banned"
            await env.KV.put(f"seen:{user}", "1")
            return cached
        """).values()
    assert counts(route) == {
        ("read", "KV", 'f"profile:{user}"', "per-entity"): "0..1",
        ("read", "KV", 'f"banned:{user}"', "per-entity"): "0..1",
        ("write", "KV", 'f"seen:{user}"', "per-entity"): "0..1",  # after `if ...: return`
    }


def test_a_loop_counts_per_item(tmp_path, run_cli):
    assert counts(routed(tmp_path, run_cli)["/loop/*"]) == {
        ("read", "KV", 'f"seen:{user}"', "per-entity"): "1",
        ("list", "KV", "", ""): "1",
        ("read", "KV", 'f"i:{item}"', "per-entity"): "1 per item",
        ("write", "KV", '"last-loop"', "constant"): "1",
    }


def test_each_call_of_a_helper_counts_with_its_early_return(tmp_path, run_cli):
    assert counts(routed(tmp_path, run_cli)["/helpers"]) == {
        ("read", "KV", 'f"seen:{user}"', "per-entity"): "1",
        ("write", "KV", 'f"one:{...}"', "per-entity"): "0..1",
        ("write", "KV", 'f"two:{...}"', "per-entity"): "0..1",
        ("read", "KV", 'f"maybe:{user}"', "per-entity"): "1",
        ("delete", "KV", 'f"maybe:{user}"', "per-entity"): "0..1",
    }


def test_object_requests_name_the_method_and_the_objects_own_storage_is_counted(tmp_path, run_cli):
    routes = routed(tmp_path, run_cli)
    [request] = [op for op in routes["/rooms/*"]["operations"] if op["product"] == "durable_object"]
    assert (request["binding"], request["key"], request["key_kind"], request["target"],
            request["count"]["text"]) == ("ROOMS", "user", "per-entity", "Room.post", "1")
    assert counts(routes["Room.post"]) == {
        ("read", "storage", '"count"', "constant"): "1",
        ("write", "storage", 'f"word:{word}"', "per-entity"): "1 per item",
        ("write", "storage", '"count"', "constant"): "1",
    }


def test_demo_worker_routes_with_their_findings(run_cli):
    routes = {route["label"]: route for route in model_of(run_cli, str(FIXTURES / "demo-worker"))["routes"]}
    views = routes["/views/*"]
    assert counts(views)[("write", "VIEWS", '"stats:daily"', "constant")] == "1"
    assert counts(views)[("write", "RATE", 'f"rl:{...}:{...}"', "per-entity")] == "0..1"
    assert {finding["code"] for finding in views["findings"]} == {"EDG101", "EDG104"}
    assert {finding["code"] for finding in routes["/hits"]["findings"]} == {"EDG104", "EDG201"}
    assert [finding["code"] for finding in routes["ChatRoom.connect"]["findings"]] == ["EDG205"]
    assert counts(routes["Default.scheduled"]) == {("request", "COUNTER", '"nightly"', "constant"): "1"}


def test_text_output_has_a_table_per_route(tmp_path, run_cli):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": ROUTED})
    code, out, _ = run_cli("model", ".")
    assert code == 0
    block = out.split("\n\n")[1]
    assert block.splitlines()[0] == "/loop/*  [request: src.entry:Default.fetch]"
    [row] = [line for line in block.splitlines() if 'f"i:{item}"' in line]
    assert row.split() == ["KV", "read", "KV", 'f"i:{item}"', "per-entity", "1", "per", "item"]


def test_a_file_that_does_not_parse_is_named_and_left_out(tmp_path, run_cli):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": ROUTED,
                             "src/broken.py": "async def on_fetch(request, env):\n    await env.KV.get('a'\n"})
    code, out, err = run_cli("model", ".")
    assert code == 0 and "/loop/*  [request: src.entry:Default.fetch]" in out
    assert "edgelint: warning: src/broken.py:2: EDG999" in err and "(left out of the model)" in err
    assert run_cli("model", "src/nothing-here")[0] == 2


def test_a_finding_sits_on_the_route_that_composes_it_not_on_every_user_of_a_shared_wrapper(tmp_path, run_cli):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": textwrap.dedent("""\
        class Store:
            def __init__(self, kv):
                self.kv = kv

            async def get(self, key):
                return await self.kv.get(f"s:{key}")

            async def put(self, key, value):
                await self.kv.put(f"s:{key}", value)


        async def on_fetch(request, env):
            store = Store(env.KV)
            user = request.headers.get("x-user")
            if request.url == "/count":
                n = int(await store.get(user) or 0)
                await store.put(user, str(n + 1))
                return "ok"
            if request.url == "/show":
                return await store.get(user)
        """)})
    routes = {route["label"]: route for route in model_of(run_cli, ".")["routes"]}
    assert [finding["code"] for finding in routes["/count"]["findings"]] == ["EDG101"]
    assert routes["/show"]["findings"] == []
    assert counts(routes["/show"]) == {("read", "KV", 'f"s:{key}"', "per-entity"): "1"}


def test_match_cases_are_routes_and_the_wildcard_is_the_other_paths(tmp_path, run_cli):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": textwrap.dedent("""\
        async def on_fetch(request, env):
            await env.KV.get("seen")
            match request.url.split("/")[1:]:
                case ["notes", note]:
                    return await env.KV.get(f"note:{note}")
                case ["admin", "reset"]:
                    await env.KV.delete("seen")
                case _:
                    await env.KV.put("misses", "1")
        """)})
    routes = {route["label"]: route for route in model_of(run_cli, ".")["routes"]}
    assert list(routes) == ["/notes", "/admin/reset", "on_fetch (other paths)"]
    assert counts(routes["/notes"]) == {("read", "KV", '"seen"', "constant"): "1",
                                        ("read", "KV", 'f"note:{note}"', "per-entity"): "1"}
    assert counts(routes["on_fetch (other paths)"]) == {("read", "KV", '"seen"', "constant"): "1",
                                                        ("write", "KV", '"misses"', "constant"): "1"}


def test_an_unchanged_project_is_modelled_from_the_cache_whatever_the_spelling(tmp_path, run_cli, monkeypatch, capsys):
    """`edgelint model` keeps its routes beside the check's entry: the next run of the same files
    (spelled another way) analyses nothing and prints what an uncached run prints; an edit is
    analysed again."""
    from edgelint import cli, engine

    project = tmp_path / "shop"
    write_project(project, {"wrangler.toml": WRANGLER, "src/entry.py": ROUTED})
    code, _, err = run_cli("model", "--traffic", "100", ".", cwd=project)  # relative paths
    assert code == 0, err
    assert list((project / ".edgelint_cache").glob("*.model"))
    analyses = []
    real_run = engine.ProjectRun.run
    monkeypatch.setattr(engine.ProjectRun, "run", lambda run: analyses.append(run) or real_run(run))

    def model_in_process() -> str:
        assert cli.main(["model", "--traffic", "100", str(project)]) == 0
        return capsys.readouterr().out

    uncached = run_cli("model", "--no-cache", "--traffic", "100", str(project))[1]
    assert model_in_process() == uncached and analyses == []  # absolute paths, from the cache
    entry = project / "src" / "entry.py"
    entry.write_text(ROUTED.replace('"last-loop"', '"final-loop"'), encoding="utf-8")
    edited = model_in_process()
    assert len(analyses) == 1 and '"final-loop"' in edited
    assert edited == run_cli("model", "--no-cache", "--traffic", "100", str(project))[1]


def test_a_key_is_per_request_only_when_what_it_computes_is_fresh(tmp_path, run_cli):
    [route] = routed(tmp_path, run_cli, """\
        import time
        import uuid


        async def on_fetch(request, env):
            user = request.headers.get("x-user")
            await env.KV.put(f"job:{uuid.uuid4()}", "1")
            await env.KV.put(f"req:{time.time_ns()}", "1")
            await env.KV.put(f"trace:{request.headers['cf-ray']}", "1")
            await env.KV.put(f"token:{user}", "1")
            await env.KV.put(f"timeline:{user}", "1")
            await env.KV.put("stats", "1")
        """).values()
    kinds = {op["key"]: op["key_kind"] for op in route["operations"]}
    assert kinds == {
        'f"job:{uuid.uuid4()}"': "per-request", 'f"req:{time.time_ns()}"': "per-request",
        "f\"trace:{request.headers['cf-ray']}\"": "per-request",
        'f"token:{user}"': "per-entity", 'f"timeline:{user}"': "per-entity", '"stats"': "constant",
    }
