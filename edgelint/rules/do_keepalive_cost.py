"""EDG205 do-keepalive-cost: a Durable Object kept awake (and billed) when it could sleep."""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Optional

import libcst as cst

from edgelint.findings import Report
from edgelint.model.project import ClassInfo, ModuleInfo, Project, RootKey, class_root
from edgelint.model.queries import unconditional_method_calls
from edgelint.model.syntax import Scope, calls_in_while_loops, last_name, linear, websocket_accepts
from edgelint.rules.base import Example, Rule

ALARM_HANDLERS = ("alarm", "on_alarm")
SHORT_INTERVAL_MS = 60_000


class DoKeepaliveCost(Rule):
    code = "EDG205"
    name = "do-keepalive-cost"
    severity = "warning"
    summary = "A Durable Object is kept awake without need: ws.accept(), a short self-re-arming alarm, a sleep loop."
    what = """
        Reports, inside a Durable Object class, three ways of keeping the object active (and billed
        for wall-clock duration) when it could hibernate or be evicted:
        `ws.accept()` on a WebSocket (from a `WebSocketPair`, or a receiver named like a socket)
        instead of `self.ctx.acceptWebSocket(ws)`; an `alarm` handler that on every run (outside
        any branch, loop or early return, directly or in a `self.helper()` it always calls) re-arms
        itself with `setAlarm` less than 60 seconds ahead (`time.time() * 1000 + 5000`,
        `Date.now() + 1000`, module constants included); `asyncio.sleep` inside a `while` loop
        (polling). Not reported: hibernatable WebSockets (`ctx.acceptWebSocket`); alarms re-armed
        conditionally (inside an `if`, or after a possible early `return`) or 60 seconds or more
        ahead; `setAlarm` outside the alarm handler (one-shot timers); bounded `for` retry loops
        with backoff; sleeps and sockets outside Durable Objects.
    """
    why = """
        A Durable Object is billed for wall-clock duration while it is active, and for every
        request, including each alarm invocation. A WebSocket accepted with `ws.accept()` pins the
        object in memory for as long as the socket is open, idle or not; the Hibernation API
        (`ctx.acceptWebSocket` plus `webSocketMessage`) lets it sleep between messages. An alarm
        that always re-arms a few seconds ahead wakes the object forever, even with nothing to do,
        and a polling loop with `asyncio.sleep` keeps it running continuously.
    """
    example = """
        class Room(DurableObject):
            async def fetch(self, request):
                client, server = WebSocketPair.new().object_values()
                server.accept()
                return Response(None, status=101, web_socket=client)

            async def alarm(self):
                await self.flush()
                await self.ctx.storage.setAlarm(time.time() * 1000 + 5000)
    """
    use_instead = """
        class Room(DurableObject):
            async def fetch(self, request):
                client, server = WebSocketPair.new().object_values()
                self.ctx.acceptWebSocket(server)  # hibernates between messages
                return Response(None, status=101, web_socket=client)

            async def webSocketMessage(self, ws, message):
                ...

            async def alarm(self):
                if await self.flush():  # more work queued: check again later
                    await self.ctx.storage.setAlarm(time.time() * 1000 + 60_000)
    """
    fix_safety = """
        There is no automatic fix: moving to the Hibernation API means handling messages in
        `webSocketMessage`/`webSocketClose`, and changing an alarm's schedule changes behaviour.
    """
    references = (
        "Durable Objects pricing: requests (alarms and WebSocket messages included) plus duration while active.",
        "Durable Objects WebSocket Hibernation API: ctx.acceptWebSocket lets the object sleep between messages.",
        "Durable Objects alarms: storage.setAlarm(ms) schedules one wake-up; each invocation is billed.",
    )
    invalid = (
        Example("""
            from workers import DurableObject, Response
            from js import WebSocketPair

            class Room(DurableObject):
                async def fetch(self, request):
                    client, server = WebSocketPair.new().object_values()
                    server.accept()  # expect: EDG205
                    return Response(None, status=101, web_socket=client)
        """, messages=(
            "WebSocket server.accept() in Durable Object Room.fetch(): the object stays active and billed for "
            "duration as long as the socket is open, idle or not; use self.ctx.acceptWebSocket(server) and "
            "handle webSocketMessage() so it can hibernate",
        )),
        Example("""
            import time
            from workers import DurableObject

            class Counter(DurableObject):
                async def alarm(self):
                    n = await self.ctx.storage.get("n") or 0
                    await self.ctx.storage.put("n", n + 1)
                    await self.ctx.storage.setAlarm(time.time() * 1000 + 5000)  # expect: EDG205
        """, messages=(
            "alarm() of Durable Object Counter always re-arms itself 5 s ahead with setAlarm: the object wakes "
            "(a billed request plus duration) every 5 s forever, even with nothing to do; re-arm only while work "
            "is pending, or at least 60 s ahead",
        )),
        Example("""
            import time
            from workers import DurableObject

            FLUSH_EVERY_MS = 10_000

            class Room(DurableObject):
                async def alarm(self):
                    try:
                        await self.flush()
                    except Exception as exc:
                        print(exc)
                    await self.schedule()

                async def flush(self):
                    await self.ctx.storage.delete("buffer")

                async def schedule(self):
                    next_run = int(time.time() * 1000) + FLUSH_EVERY_MS
                    await self.ctx.storage.setAlarm(next_run)  # expect: EDG205
        """, messages=(
            "alarm() of Durable Object Room always re-arms itself 10 s ahead with setAlarm: the object wakes (a "
            "billed request plus duration) every 10 s forever, even with nothing to do; re-arm only while work "
            "is pending, or at least 60 s ahead",
        )),
        Example("""
            import asyncio
            from workers import DurableObject

            class Counter(DurableObject):
                async def watch(self):
                    while True:
                        if await self.ctx.storage.get("done"):
                            return "done"
                        await asyncio.sleep(1)  # expect: EDG205

                async def wait_for_export(self):
                    checks = 0
                    while checks < 600:
                        if await self.ctx.storage.get("exported"):
                            return True
                        checks += 1
                        await asyncio.sleep(1)  # expect: EDG205
        """, messages=(
            "asyncio.sleep() polling loop in Durable Object Counter.watch(): the object stays active and billed "
            "for duration for the whole loop; schedule the next check with self.ctx.storage.setAlarm(...) and do "
            "the work in alarm()",
            "asyncio.sleep() polling loop in Durable Object Counter.wait_for_export(): the object stays active "
            "and billed for duration for the whole loop; schedule the next check with "
            "self.ctx.storage.setAlarm(...) and do the work in alarm()",
        )),
        Example("""
            from asyncio import sleep
            from js import Date, WebSocketPair
            from workers import DurableObject, Response

            class Room(DurableObject):
                def __init__(self, state, env):
                    self.state = state
                    self.peer = None

                async def fetch(self, request):
                    client, server = WebSocketPair.new().object_values()
                    self.peer = server
                    self.peer.accept()  # expect: EDG205
                    return Response(None, status=101, web_socket=client)

                async def pump(self):
                    while self.peer is not None:
                        await sleep(0.5)  # expect: EDG205

                async def on_alarm(self):
                    await self.state.storage.setAlarm(Date.now() + 1000)  # expect: EDG205
        """, messages=(
            "WebSocket self.peer.accept() in Durable Object Room.fetch(): the object stays active and billed for "
            "duration as long as the socket is open, idle or not; use self.ctx.acceptWebSocket(self.peer) and "
            "handle webSocketMessage() so it can hibernate",
            "asyncio.sleep() polling loop in Durable Object Room.pump(): the object stays active and billed for "
            "duration for the whole loop; schedule the next check with self.ctx.storage.setAlarm(...) and do the "
            "work in alarm()",
            "on_alarm() of Durable Object Room always re-arms itself 1 s ahead with setAlarm: the object wakes "
            "(a billed request plus duration) every 1 s forever, even with nothing to do; re-arm only while work "
            "is pending, or at least 60 s ahead",
        )),
        Example("""
            from workers import DurableObject
            import js

            class BaseRoom(DurableObject):
                pass

            class ChatRoom(BaseRoom):
                async def fetch(self, request):
                    pair = js.WebSocketPair.new()
                    server = pair[1]
                    server.accept()  # expect: EDG205
                    return pair[0]
        """, messages=(
            "WebSocket server.accept() in Durable Object ChatRoom.fetch(): the object stays active and billed "
            "for duration as long as the socket is open, idle or not; use self.ctx.acceptWebSocket(server) and "
            "handle webSocketMessage() so it can hibernate",
        )),
    )
    valid = (
        Example("""
            from workers import DurableObject, Response
            from js import WebSocketPair

            class Room(DurableObject):
                async def fetch(self, request):
                    client, server = WebSocketPair.new().object_values()
                    self.ctx.acceptWebSocket(server)
                    return Response(None, status=101, web_socket=client)

                async def webSocketMessage(self, ws, message):
                    ws.send(message)
        """),
        Example("""
            from workers import DurableObject, fetch

            class Relay(DurableObject):
                async def connect_upstream(self, url):
                    response = await fetch(url, headers={"Upgrade": "websocket"})
                    ws = response.webSocket
                    ws.accept()  # an outgoing socket cannot hibernate: accept() is the only way
                    self.upstream = ws
        """),
        Example("""
            import time
            from workers import DurableObject

            class Queue(DurableObject):
                async def alarm(self):
                    pending = await self.ctx.storage.get("pending")
                    if not pending:
                        return
                    await self.ctx.storage.delete("pending")
                    await self.ctx.storage.setAlarm(time.time() * 1000 + 5000)

                async def flush_later(self):
                    if await self.ctx.storage.get("pending"):
                        await self.ctx.storage.setAlarm(time.time() * 1000 + 5000)
        """),
        Example("""
            import time
            from workers import DurableObject

            HOUR_MS = 3600 * 1000

            class Report(DurableObject):
                async def alarm(self):
                    await self.ctx.storage.put("last", time.time())
                    await self.ctx.storage.setAlarm(time.time() * 1000 + HOUR_MS)

                async def fetch(self, request):
                    await self.ctx.storage.setAlarm(time.time() * 1000 + 1000)
                    return "scheduled"
        """),
        Example("""
            import asyncio
            from workers import DurableObject, WorkerEntrypoint

            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    while not await self.env.CACHE.get(request.url):
                        await asyncio.sleep(1)
                    return "ready"

            class Mailer(DurableObject):
                async def send(self, message):
                    for attempt in range(3):
                        try:
                            return await self.env.MAIL.send(message)
                        except Exception:
                            await asyncio.sleep(2 ** attempt)

                async def send_later(self, message):
                    attempt = 0
                    while attempt < 3:
                        if await self.env.MAIL.send(message):
                            return True
                        attempt += 1
                        await asyncio.sleep(0.2 * 2 ** attempt)
        """),
        Example("""
            import socket
            from workers import DurableObject

            def serve(listener):
                conn, _ = listener.accept()
                return conn

            class Room(DurableObject):
                async def post(self, offer):
                    await self.ctx.storage.put("offer", offer)
                    return offer.accept()
        """),
    )

    def check(self, project: Project, options: Mapping[str, Any]) -> Iterable[Report]:
        # Plain-text checks first: most objects never mention these calls, and walking every method
        # of every Durable Object would cost more than the rest of the rule.
        for cls in project.durable_object_classes():
            root = class_root(cls.key)
            if cls.module.mentions_text(".accept("):
                yield from self._websockets(cls, root)
            if cls.module.mentions_text("sleep"):
                yield from self._polling(cls, root)
            if any(ancestor.module.mentions_text("setAlarm") for ancestor in project.lineage(cls)):
                yield from self._rearming_alarms(project, cls, root)

    def _websockets(self, cls: ClassInfo, root: RootKey) -> Iterator[Report]:
        for method in cls.methods.values():
            for call in websocket_accepts(method.parse()):
                socket = cls.module.tree.code_for_node(call.func.value)
                yield Report(self.code, cls.module.path, call, root=root, part=cls.chunk.first, message=
                             f"WebSocket {socket}.accept() in Durable Object {cls.name}.{method.name}(): the object "
                             f"stays active and billed for duration as long as the socket is open, idle or not; "
                             f"use self.ctx.acceptWebSocket({socket}) and handle webSocketMessage() so it can "
                             f"hibernate")

    def _polling(self, cls: ClassInfo, root: RootKey) -> Iterator[Report]:
        for method in cls.methods.values():
            for call in calls_in_while_loops(method.parse(), cls.module, "asyncio.sleep"):
                yield Report(self.code, cls.module.path, call, root=root, part=cls.chunk.first, message=
                             f"asyncio.sleep() polling loop in Durable Object {cls.name}.{method.name}(): the object "
                             f"stays active and billed for duration for the whole loop; schedule the next check "
                             f"with self.ctx.storage.setAlarm(...) and do the work in alarm()")

    def _rearming_alarms(self, project: Project, cls: ClassInfo, root: RootKey) -> Iterator[Report]:
        for handler in (cls.methods[name] for name in ALARM_HANDLERS if name in cls.methods):
            for function, call in unconditional_method_calls(project, handler):
                seconds = _short_rearm_seconds(function.module, function.parse(), call)
                if seconds is not None:
                    yield Report(self.code, function.module.path, call, root=root, part=function.chunk.first, message=
                                 f"{handler.name}() of Durable Object {cls.name} always re-arms itself {seconds:g} s "
                                 f"ahead with setAlarm: the object wakes (a billed request plus duration) every "
                                 f"{seconds:g} s forever, even with nothing to do; re-arm only while work is "
                                 f"pending, or at least 60 s ahead")


def _short_rearm_seconds(module: ModuleInfo, function: cst.FunctionDef, call: cst.Call) -> Optional[float]:
    """Seconds ahead a `setAlarm(now_ms + delay)` call schedules, when provably under a minute."""
    if last_name(call.func) != "setAlarm" or not call.args:
        return None
    when = linear(call.args[0].value, Scope(module, function, call))
    if when.clock == 1000 and when.hi is not None and when.hi < SHORT_INTERVAL_MS:
        return max(when.hi, 0) / 1000  # a time in the past fires at once
    return None
