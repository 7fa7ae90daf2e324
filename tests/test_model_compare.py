"""`edgelint model --traffic`: each finding's recommended fix priced against the code as written
(EDG101, EDG202, EDG205), figures computed by hand (30-day month, Paid plan allowances)."""
from __future__ import annotations

import json
import textwrap

from tests.helpers import write_project

MONTH = 30 * 86_400


def comparison(tmp_path, run_cli, wrangler, code, traffic):
    write_project(tmp_path, {"wrangler.toml": wrangler, "src/entry.py": textwrap.dedent(code)})
    status, out, err = run_cli("model", ".", "--format", "json", "--traffic", traffic)
    assert status == 0, err
    [project] = json.loads(out)["projects"]
    [found] = project["comparisons"]
    return found


def rounded(total):
    return round(total["min"], 4), round(total["max"], 4)


def test_edg101_counter_in_kv_against_an_object_per_key(tmp_path, run_cli):
    found = comparison(tmp_path, run_cli, 'kv_namespaces = [{ binding = "VIEWS", id = "1" }]\n', """\
        async def on_fetch(request, env):
            slug = request.url
            views = int(await env.VIEWS.get(f"views:{slug}") or 0)
            await env.VIEWS.put(f"views:{slug}", str(views + 1))
        """, "10")
    assert 10 * MONTH == 25_920_000
    assert found["code"] == "EDG101" and "Durable Object addressed by the key" in found["fix"]
    assert rounded(found["before"]) == (132.56, 132.56)  # reads (25.92M-10M) x $0.50/M + writes (25.92M-1M) x $5/M
    assert rounded(found["after"]) == (3.738, 3.738)  # requests (25.92M-1M) x $0.15/M; rows within the allowances


def test_edg101_on_a_constant_key_moves_the_bottleneck_to_one_object(tmp_path, run_cli):
    found = comparison(tmp_path, run_cli, 'kv_namespaces = [{ binding = "VIEWS", id = "1" }]\n', """\
        async def on_fetch(request, env):
            views = int(await env.VIEWS.get("views") or 0)
            await env.VIEWS.put("views", str(views + 1))
        """, "1200")
    assert found["warnings_gone"] == [
        'KV key "views" on VIEWS is written 1,200/s: KV accepts 1 write/s per key (429 beyond)']
    assert found["warnings_new"] == ['one object (new namespace)("views") receives 1,200 requests/s: '
                                     'over the guidance of ~1000/s per object']


SETTINGS = """\
[[durable_objects.bindings]]
name = "SETTINGS"
class_name = "SettingsStore"
"""


def test_edg202_config_from_one_object_against_kv(tmp_path, run_cli):
    found = comparison(tmp_path, run_cli, SETTINGS, """\
        from workers import DurableObject


        async def on_fetch(request, env):
            store = env.SETTINGS.getByName("global")
            return await store.get_settings()


        class SettingsStore(DurableObject):
            async def get_settings(self):
                return await self.ctx.storage.get("settings")
        """, "1200")
    assert found["code"] == "EDG202"
    # 1,200/s is 3,110.4M a month: object requests (3,110.4M-1M) x $0.15/M, rows read within 25 billion
    assert rounded(found["before"]) == (466.41, 466.41)
    assert rounded(found["after"]) == (1550.2, 1550.2)  # KV reads (3,110.4M-10M) x $0.50/M
    assert found["warnings_gone"] == ['one object SETTINGS("global") receives 1,200 requests/s: '
                                      'over the guidance of ~1000/s per object']


def test_edg205_websocket_kept_awake_against_hibernation(tmp_path, run_cli):
    found = comparison(tmp_path, run_cli, SETTINGS.replace("SETTINGS", "ROOMS").replace("SettingsStore", "Room"), """\
        from js import WebSocketPair
        from workers import DurableObject, Response


        async def on_fetch(request, env):
            return await env.ROOMS.getByName(request.url).connect(request)


        class Room(DurableObject):
            async def connect(self, request):
                pair = WebSocketPair.new()
                ws = pair[1]
                ws.accept()
                return Response(None, status=101, web_socket=pair[0])
        """, "1")
    assert found["code"] == "EDG205"
    # 2.592M requests: (2.592M-1M) x $0.15/M = $0.2388; each keeps its object 300 s at 0.125 GB-s/s:
    # 97.2M GB-s, (97.2M-0.4M) x $12.50/M = $1,210
    assert rounded(found["before"]) == (1210.2388, 1210.2388)
    assert rounded(found["after"]) == (0.2388, 0.2388)
    assert [message.split(":")[0] for message in found["warnings_gone"]] == [
        "Room.connect keeps its object active (ws.accept() without hibernation)"]
