"""EDG301 unawaited-binding-call: an async KV, storage or stub call whose promise is dropped."""
from __future__ import annotations

from typing import Any, Dict, Iterable, Iterator, Mapping, Set, Tuple

from edgelint.findings import Report
from edgelint.fixes import INSERT_AWAIT, awaitable_statement_calls
from edgelint.model.operations import KV_KINDS, Operation, OpKind
from edgelint.model.placement import frame_depth, innermost, landing
from edgelint.model.project import Project
from edgelint.rules.base import Example, Rule, key_of

KEYED_KINDS = frozenset({OpKind.KV_GET, OpKind.KV_PUT, OpKind.KV_DELETE, OpKind.STORAGE_GET, OpKind.STORAGE_PUT,
                         OpKind.STORAGE_DELETE})


class UnawaitedBindingCall(Rule):
    code = "EDG301"
    name = "unawaited-binding-call"
    severity = "error"
    summary = "An async KV, Durable Object storage or stub call is neither awaited nor handed to waitUntil."
    fixable = True
    what = """
        Reports a KV call (`get`, `put`, `delete`, `list`), an asynchronous Durable Object storage
        call (`storage.get/put/delete/list`, `setAlarm`, ...) or a call on a Durable Object stub that
        stands alone as a statement without `await`: its result is dropped. Calls that are awaited,
        returned, assigned (to be awaited later), gathered or passed to `ctx.waitUntil()` /
        `wait_until()` are fine, and so are the synchronous APIs: `storage.sql.exec`, `storage.kv.*`,
        `storage.transactionSync`, and addressing (`idFromName`, `get(id)`, `getByName`). Calls in
        helpers and wrapper classes are reported where they are written.
    """
    why = """
        In Python Workers these calls return a JavaScript promise. Nobody awaits it, so the request
        can finish (and the isolate move on) before the write has happened; when it fails, the error
        is never raised anywhere. The code reads as if the write was done, tests with local bindings
        usually pass, and production silently loses writes.
    """
    example = """
        async def on_fetch(request, env):
            session = request.headers.get("x-session")
            env.SESSIONS.put(f"seen:{session}", "1")
            return Response("ok")
    """
    use_instead = """
        async def on_fetch(request, env, ctx):
            session = request.headers.get("x-session")
            await env.SESSIONS.put(f"seen:{session}", "1")
            # or, to finish after the response is sent:
            ctx.waitUntil(env.SESSIONS.put(f"seen:{session}", "1"))
            return Response("ok")
    """
    fix_safety = """
        The fix inserts `await ` in front of the call. It is offered, as a safe fix, only where the
        call is a whole expression statement and the innermost enclosing function is an
        `async def`; inside a synchronous function, a nested `def` or a class body, `await` would
        not compile, so there is no automatic fix and the message says what to do instead.
        Awaiting adds the call's latency to the request; use `ctx.waitUntil()` instead when the
        work may finish after the response.
    """
    references = (
        "Python Workers: JavaScript promises returned by bindings are awaitables in Python.",
        "Workers runtime: `ctx.waitUntil()` keeps work running after the response is returned.",
        "Workers KV: `put` and `delete` return promises that reject on failure (e.g. 429 rate limits).",
    )
    invalid = (
        Example("""
            async def on_fetch(request, env):
                session = request.headers.get("x-session")
                env.SESSIONS.put(f"seen:{session}", "1")  # expect: EDG301
                return "ok"
        """, messages=(
            'KV call SESSIONS.put(f"seen:{session}", ...) is never awaited: the call may never complete and its '
            "errors vanish; await it, or pass it to ctx.waitUntil() to finish after the response",
        ), fixed="""
            async def on_fetch(request, env):
                session = request.headers.get("x-session")
                await env.SESSIONS.put(f"seen:{session}", "1")  # expect: EDG301
                return "ok"
        """),
        Example("""
            from workers import DurableObject

            class Counter(DurableObject):
                async def reset(self, name):
                    self.ctx.storage.delete(name)  # expect: EDG301
                    self.ctx.storage.setAlarm(60_000)  # expect: EDG301
        """, messages=(
            "Durable Object storage call storage.delete(name) is never awaited: the call may never complete and "
            "its errors vanish; await it, or pass it to ctx.waitUntil() to finish after the response",
            "Durable Object storage call storage.setAlarm(...) is never awaited: the call may never complete and "
            "its errors vanish; await it, or pass it to ctx.waitUntil() to finish after the response",
        ), fixed="""
            from workers import DurableObject

            class Counter(DurableObject):
                async def reset(self, name):
                    await self.ctx.storage.delete(name)  # expect: EDG301
                    await self.ctx.storage.setAlarm(60_000)  # expect: EDG301
        """),
        Example("""
            async def on_fetch(request, env):
                room = request.headers.get("x-room")
                env.ROOMS.getByName(room).post(await request.text())  # expect: EDG301
                return "sent"
        """, messages=(
            "Durable Object stub call post(...) on binding ROOMS is never awaited: the call may never complete "
            "and its errors vanish; await it, or pass it to ctx.waitUntil() to finish after the response",
        ), fixed="""
            async def on_fetch(request, env):
                room = request.headers.get("x-room")
                await env.ROOMS.getByName(room).post(await request.text())  # expect: EDG301
                return "sent"
        """),
        Example("""
            class SessionStore:
                def __init__(self, kv):
                    self.kv = kv

                def forget(self, key):
                    self.kv.delete(key)  # expect: EDG301

            async def on_fetch(request, env):
                SessionStore(env.SESSIONS).forget(request.headers.get("x-session"))
        """, messages=(
            "KV call SESSIONS.delete(request.headers.get('x-session')) is never awaited: the call may never "
            "complete and its errors vanish; await it (from an async function), or pass it to ctx.waitUntil() to "
            "finish after the response (reached from on_fetch())",
        ), fixed=None),
        Example("""
            async def on_fetch(request, env):
                def remember(key):
                    env.SESSIONS.put(key, "1")  # expect: EDG301

                remember(request.headers.get("x-session"))
                return "ok"
        """, messages=(
            "KV call SESSIONS.put(request.headers.get('x-session'), ...) is never awaited: the call may never "
            "complete and its errors vanish; await it (from an async function), or pass it to ctx.waitUntil() to "
            "finish after the response (reached from on_fetch())",
        ), fixed=None),
        Example("""
            from workers import WorkerEntrypoint

            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    user = request.headers.get("x-user")
                    (self.env.CACHE  # expect: EDG301
                        .delete(f"profile:{user}"))
                    return "ok"
        """, messages=(
            'KV call CACHE.delete(f"profile:{user}") is never awaited: the call may never complete and its '
            "errors vanish; await it, or pass it to ctx.waitUntil() to finish after the response",
        ), fixed="""
            from workers import WorkerEntrypoint

            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    user = request.headers.get("x-user")
                    (await self.env.CACHE  # expect: EDG301
                        .delete(f"profile:{user}"))
                    return "ok"
        """),
    )
    valid = (
        Example("""
            import asyncio

            async def on_fetch(request, env):
                user = request.headers.get("x-user")
                await env.CACHE.put(f"a:{user}", "1")
                pending = env.CACHE.put(f"b:{user}", "2")
                await asyncio.gather(env.CACHE.delete(f"c:{user}"), pending)
                return env.CACHE.get(f"d:{user}")
        """),
        Example("""
            from workers import WorkerEntrypoint

            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    user = request.headers.get("x-user")
                    self.ctx.waitUntil(self.env.SESSIONS.put(f"seen:{user}", "1"))
                    self.ctx.wait_until(self.env.SESSIONS.delete(f"old:{user}"))
                    return "ok"
        """),
        Example("""
            from workers import DurableObject

            class Counter(DurableObject):
                async def add(self, name, amount):
                    self.ctx.storage.sql.exec("UPDATE counts SET n = n + ? WHERE name = ?", amount, name)
                    self.ctx.storage.kv.put(name, amount)
                    self.ctx.storage.kv.delete("stale")
        """),
        Example("""
            async def on_fetch(request, env):
                room = request.headers.get("x-room")
                env.ROOMS.idFromName(room)
                env.ROOMS.getByName(room)
                return await env.ROOMS.get(env.ROOMS.idFromName(room)).fetch(request)
        """),
        Example("""
            class FakeKV:
                def put(self, key, value):
                    pass

            async def on_fetch(request, env):
                kv = FakeKV()
                kv.put("k", request.url)
                return "ok"
        """),
    )

    def check(self, project: Project, options: Mapping[str, Any]) -> Iterable[Report]:
        awaitable: Dict[str, Set[int]] = {}
        for op, depth in _dropped(project):
            site = landing(op, depth)
            if site.module.path not in awaitable:
                awaitable[site.module.path] = awaitable_statement_calls(site.module.tree)
            fixable = id(site.node) in awaitable[site.module.path]
            yield self.report(op, _message(project, op, fixable), depth=depth, role="call",
                              fix_edit=INSERT_AWAIT if fixable else None)


def _dropped(project: Project) -> Iterator[Tuple[Operation, int]]:
    """Async calls whose promise is thrown away, with the frame that throws it away: the call's
    own statement, or a caller that drops what a helper returned or never reads a variable."""
    for op in project.facts.operations:
        if op.discarded and not op.awaited and op.returns_promise:
            yield op, innermost(op)
    for op_id, activation in project.facts.dropped_promises:
        op = project.ops_by_id.get(op_id)
        depth = frame_depth(op, activation) if op is not None else None
        if depth is not None:
            yield op, depth


def _message(project: Project, op: Operation, fixable: bool) -> str:
    remedy = "await it" if fixable else "await it (from an async function)"
    return (f"{_describe(project, op)} is never awaited: the call may never complete and its errors vanish; "
            f"{remedy}, or pass it to ctx.waitUntil() to finish after the response")


def _describe(project: Project, op: Operation) -> str:
    call = f"{op.method}({_arguments(op)})"
    if op.kind in KV_KINDS:
        # An undeclared name used only with get/put may be an R2 bucket: async all the same.
        return f"{'KV' if project.is_kv(op) else 'Binding'} call {op.binding}.{call}"
    if op.kind is OpKind.STUB_CALL:
        return f"Durable Object stub call {call} on binding {op.binding}"
    return f"Durable Object storage call storage.{call}"


def _arguments(op: Operation) -> str:
    if not op.node.args:
        return ""
    if op.kind in KEYED_KINDS and op.key_node is not None:
        return key_of(op) + (", ..." if len(op.node.args) > 1 else "")
    return "..."
