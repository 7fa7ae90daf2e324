"""EDG203 do-unique-id-per-request: a fresh Durable Object for every request, never found again."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from edgelint.findings import Report
from edgelint.model.operations import OpKind
from edgelint.model.project import Project
from edgelint.rules.base import Example, Rule


class DoUniqueIdPerRequest(Rule):
    code = "EDG203"
    name = "do-unique-id-per-request"
    severity = "warning"
    summary = "A new Durable Object id is minted per request and never returned or stored."
    what = """
        Reports `newUniqueId()` on the request path when the new id is only used to reach the object
        in this request: it is not returned to the client, written to storage, KV or D1, sent on,
        or put in a URL. Each request then creates a brand-new object that nobody can address again.
    """
    why = """
        An object created with a random id is only reachable through that id. If the id is thrown
        away, every request pays for creating an object (and its storage) that holds state no later
        request will see, and the coordination the object was meant to provide never happens.
    """
    example = """
        async def on_fetch(request, env):
            stub = env.ROOMS.get(env.ROOMS.newUniqueId())
            return await stub.fetch(request)
    """
    use_instead = """
        async def on_fetch(request, env):
            room_id = env.ROOMS.newUniqueId()
            await env.ROOMS.get(room_id).fetch(request)
            return Response(json.dumps({"room": room_id.toString()}))  # the client can come back

        # or address the object by a natural name: env.ROOMS.getByName(room_name)
    """
    references = (
        "Durable Objects: newUniqueId() creates a new object; idFromString() reaches it again later.",
    )
    invalid = (
        Example("""
            async def on_fetch(request, env):
                stub = env.ROOMS.get(env.ROOMS.newUniqueId())  # expect: EDG203
                return await stub.fetch(request)
        """, messages=(
            "Durable Object ROOMS: newUniqueId() on the request path creates a new object for every request and "
            "the id is never returned or stored, so no later request can reach it; return or persist the id, or "
            "address the object by a natural name with getByName()",
        )),
        Example("""
            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    room_id = self.env.ROOMS.newUniqueId()  # expect: EDG203
                    room = self.env.ROOMS.get(room_id)
                    await room.post(await request.text())
                    return "posted"
        """, messages=(
            "Durable Object ROOMS: newUniqueId() on the request path creates a new object for every request and "
            "the id is never returned or stored, so no later request can reach it; return or persist the id, or "
            "address the object by a natural name with getByName()",
        )),
        Example("""
            async def new_session(env):
                ns = env.ROOMS
                return ns.get(ns.newUniqueId())  # expect: EDG203

            async def on_fetch(request, env):
                session = await new_session(env)
                return await session.fetch(request)
        """, messages=(
            "Durable Object ROOMS: newUniqueId() on the request path creates a new object for every request and "
            "the id is never returned or stored, so no later request can reach it; return or persist the id, or "
            "address the object by a natural name with getByName() (reached from on_fetch())",
        )),
        Example("""
            class Default(WorkerEntrypoint):
                async def upload(self, data):
                    counter = self.env.COUNTER.get(self.env.COUNTER.newUniqueId())  # expect: EDG203
                    await counter.increment()
        """, messages=(
            "Durable Object COUNTER: newUniqueId() on the request path creates a new object for every request "
            "and the id is never returned or stored, so no later request can reach it; return or persist the id, "
            "or address the object by a natural name with getByName()",
        )),
        Example("""
            async def on_fetch(request, env):
                rooms = getattr(env, "ROOMS")
                uid = rooms.newUniqueId()  # expect: EDG203
                stub = rooms.get(uid)
                reply = await stub.fetch(request)
                return reply
        """, messages=(
            "Durable Object ROOMS: newUniqueId() on the request path creates a new object for every request and "
            "the id is never returned or stored, so no later request can reach it; return or persist the id, or "
            "address the object by a natural name with getByName()",
        )),
    )
    valid = (
        Example("""
            async def on_fetch(request, env):
                room_id = env.ROOMS.newUniqueId()
                await env.ROOMS.get(room_id).fetch(request)
                return Response(room_id.toString())
        """),
        Example("""
            import json

            async def on_fetch(request, env):
                room = env.ROOMS.get(env.ROOMS.newUniqueId())
                await room.init()
                return Response(json.dumps({"room": room.id.toString()}))
        """),
        Example("""
            async def on_fetch(request, env):
                room_id = env.ROOMS.newUniqueId()
                await env.SESSIONS.put(f"room:{request.url}", room_id.toString())
                return await env.ROOMS.get(room_id).fetch(request)
        """),
        Example("""
            async def on_fetch(request, env):
                room = env.ROOMS.get(env.ROOMS.idFromString(request.headers.get("x-room")))
                return await room.fetch(request)
        """),
        Example("""
            class Default(WorkerEntrypoint):
                async def scheduled(self, controller, env, ctx):
                    await env.ROOMS.get(env.ROOMS.newUniqueId()).fetch("https://rooms/cleanup")
        """),
        Example("""
            async def create_room(env):
                room_id = env.ROOMS.newUniqueId()
                return f"https://chat.example.com/rooms/{room_id.toString()}"

            async def on_fetch(request, env):
                return Response(await create_room(env))
        """),
    )

    def check(self, project: Project, options: Mapping[str, Any]) -> Iterable[Report]:
        escaped = project.facts.escaped
        yield from self.report_calls(
            [op for op in project.ops(OpKind.DO_ADDRESS) if op.method == "newUniqueId"],
            lambda op: op.on_request_path and not op.module.is_test and op.id not in escaped,
            lambda op: (
                f"Durable Object {op.binding}: newUniqueId() on the request path creates a new object for every "
                f"request and the id is never returned or stored, so no later request can reach it; return or "
                f"persist the id, or address the object by a natural name with getByName()"),
        )
