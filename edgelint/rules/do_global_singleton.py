"""EDG201 do-global-singleton: every request addresses the same Durable Object."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from edgelint.findings import Report
from edgelint.model.operations import Operation
from edgelint.model.project import Project
from edgelint.model.queries import (
    address_of,
    addresses_called_per_isolate,
    config_reads_from_singletons,
    constant_addresses,
)
from edgelint.rules.base import Example, Rule, key_of


class DoGlobalSingleton(Rule):
    code = "EDG201"
    name = "do-global-singleton"
    severity = "warning"
    summary = "A Durable Object is addressed by a constant name on the request path: one global instance."
    options = {"allow-names": list}
    what = """
        Reports `idFromName(...)` / `getByName(...)` with a constant name, and `idFromString(...)` with
        a constant id (literals, module constants, env vars, the clock), on the request path: every
        request goes to the same single instance.
        Names built from request data (user, room, tenant, session) are fine, and so are calls made
        only from background handlers (`scheduled`, `queue`, `alarm`) or administrative routes and
        functions, where one coordinating object for rare updates is the recommended design. Names
        listed in `[tool.edgelint.rules.EDG201] allow-names` and test files are not reported.
    """
    why = """
        A Durable Object is one instance in one location, processing its requests one at a time.
        Routing all traffic through one id turns it into a global bottleneck (on the order of 1,000
        requests per second) and adds a network hop for every distant caller.
    """
    example = """
        async def on_fetch(request, env):
            counter = env.COUNTER.getByName("global")
            return await counter.increment()
    """
    use_instead = """
        async def on_fetch(request, env):
            user = request.headers.get("x-user")
            counter = env.COUNTER.getByName(user)  # one object per unit of coordination
            return await counter.increment()
    """
    references = (
        "Durable Objects: a single object handles on the order of 1,000 requests per second.",
        "Durable Objects best practice: address objects by the natural unit of coordination.",
    )
    invalid = (
        Example("""
            async def on_fetch(request, env):
                counter = env.COUNTER.getByName("global")  # expect: EDG201
                return await counter.increment()
        """, messages=(
            'Durable Object COUNTER addressed by constant name "global" on the request path: all requests '
            "serialize through one instance; address it by the unit of coordination (user, room, tenant) or "
            "allow it in [tool.edgelint.rules.EDG201] allow-names",
        )),
        Example("""
            ROOM = "lobby"

            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    stub = self.env.ROOMS.get(self.env.ROOMS.idFromName(ROOM))  # expect: EDG201
                    return await stub.fetch(request)
        """, messages=(
            'Durable Object ROOMS addressed by constant name "lobby" on the request path: all requests serialize '
            "through one instance; address it by the unit of coordination (user, room, tenant) or allow it in "
            "[tool.edgelint.rules.EDG201] allow-names",
        )),
        Example("""
            async def counter_stub(env):
                return env.COUNTER.get(env.COUNTER.idFromName("all"))  # expect: EDG201

            async def on_fetch(request, env):
                stub = await counter_stub(env)
                return await stub.increment()
        """, messages=(
            'Durable Object COUNTER addressed by constant name "all" on the request path: all requests serialize '
            "through one instance; address it by the unit of coordination (user, room, tenant) or allow it in "
            "[tool.edgelint.rules.EDG201] allow-names (reached from on_fetch())",
        )),
        Example("""
            from datetime import datetime

            async def on_fetch(request, env):
                day = datetime.now().strftime("%Y-%m-%d")
                stub = env.COUNTER.getByName(f"day:{day}")  # expect: EDG201
                await stub.increment()
        """, messages=(
            'Durable Object COUNTER addressed by constant name f"day:{day}" on the request path: all requests '
            "serialize through one instance; address it by the unit of coordination (user, room, tenant) or "
            "allow it in [tool.edgelint.rules.EDG201] allow-names",
        )),
        Example("""
            class Default(WorkerEntrypoint):
                async def lookup(self, key):
                    ns = self.env.ROOMS
                    room = ns.get(ns.idFromName("main"))  # expect: EDG201
                    return await room.post(key)
        """, messages=(
            'Durable Object ROOMS addressed by constant name "main" on the request path: all requests serialize '
            "through one instance; address it by the unit of coordination (user, room, tenant) or allow it in "
            "[tool.edgelint.rules.EDG201] allow-names",
        )),
    )
    valid = (
        Example("""
            async def on_fetch(request, env):
                user = request.headers.get("x-user")
                return await env.COUNTER.getByName(user).increment()
        """),
        Example("""
            from js import crypto

            async def on_fetch(request, env):
                room = env.ROOMS.getByName(crypto.randomUUID())
                return await room.create(await request.text())
        """),
        Example("""
            class Default(WorkerEntrypoint):
                async def scheduled(self, controller, env, ctx):
                    await env.COUNTER.getByName("global").reset()
        """),
        Example("""
            async def on_fetch(request, env):
                if request.url.endswith("/admin/reset"):
                    await env.COUNTER.getByName("global").reset()
                return "ok"
        """),
        Example("""
            async def handle_admin(env):
                await env.COUNTER.getByName("global").reset()

            async def on_fetch(request, env):
                room = request.headers.get("room")
                return await env.ROOMS.get(env.ROOMS.idFromName(room)).fetch(request)
        """),
        Example("""
            async def on_fetch(request, env):
                stub = env.COUNTER.get(env.COUNTER.newUniqueId())  # expect: EDG203
                return await stub.increment()
        """),
        Example("""
            async def on_fetch(request, env):
                return await env.COUNTER.getByName("bluesky-consumer").poll()
        """, files={"pyproject.toml": '[tool.edgelint.rules.EDG201]\nallow-names = ["bluesky-consumer"]\n'}),
    )

    def check(self, project: Project, options: Mapping[str, Any]) -> Iterable[Report]:
        allowed = set(options.get("allow-names", ()))
        config_addresses = {address.id for call in config_reads_from_singletons(project)
                            for address in [address_of(project, call)] if address is not None}
        cached = addresses_called_per_isolate(project)

        def offending(op: Operation) -> bool:
            return (op.on_request_path and not op.module.is_test and op.id not in config_addresses
                    and not (op.key[0] == "lit" and op.key[1] in allowed) and op.id not in cached)

        yield from self.report_calls(
            constant_addresses(project), offending,
            lambda op: (
                f"Durable Object {op.binding} addressed by constant {_what(op)} {key_of(op)} on the request path: all "
                f"requests serialize through one instance; address it by the unit of coordination "
                f"(user, room, tenant) or allow it in [tool.edgelint.rules.EDG201] allow-names"),
            decisive=lambda op: op.key_value,
        )


def _what(op: Operation) -> str:
    return "id" if op.method == "idFromString" else "name"
