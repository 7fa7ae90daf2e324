"""EDG204 do-rmw-across-io: a Durable Object read-modify-write with foreign I/O in the middle."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import libcst as cst

from edgelint.findings import Report
from edgelint.model.operations import Operation
from edgelint.model.project import Project
from edgelint.model.queries import read_modify_writes
from edgelint.rules.base import Example, Rule, key_of


class DoRmwAcrossIo(Rule):
    code = "EDG204"
    name = "do-rmw-across-io"
    severity = "error"
    summary = "Inside a Durable Object, a storage value is read, other I/O is awaited, then the value is written back."
    what = """
        Reports the storage write of a read-modify-write inside a Durable Object when an `await` on
        something other than the object's own storage (`fetch`, another object's stub, KV, AI, a
        queue, ...) happens between the read and the write of the derived value. The read, the I/O
        and the write may be split over methods and helpers. Not reported: sequences with only
        storage awaits (or none) in between, which the input gate makes atomic; sequences running
        inside `ctx.blockConcurrencyWhile()`; synchronous `storage.kv` / `storage.sql` code with no
        await in between. Applies on every path, `alarm` included. SQL statements are not paired:
        edgelint does not know which rows a query reads or writes.
    """
    why = """
        A Durable Object processes one event at a time only while it awaits its own storage: the
        input gate holds other requests back. Awaiting anything else opens the gate, so another
        request can run, read the same old value and write its own update. When the first request
        resumes, it writes a value computed from stale data and the other update is lost, the very
        race the object was meant to prevent.
    """
    example = """
        class Account(DurableObject):
            async def charge(self, amount):
                balance = await self.ctx.storage.get("balance") or 0
                receipt = await fetch(PAYMENTS_URL, method="POST")   # the input gate opens here
                await self.ctx.storage.put("balance", balance - amount)
    """
    use_instead = """
        class Account(DurableObject):
            async def charge(self, amount):
                receipt = await fetch(PAYMENTS_URL, method="POST")   # I/O first
                balance = await self.ctx.storage.get("balance") or 0
                await self.ctx.storage.put("balance", balance - amount)  # read and write back to back

        # or, when the I/O must sit in the middle, hold every other event back while it runs:
        #     await self.ctx.blockConcurrencyWhile(lambda: self._charge(amount))
    """
    references = (
        "Durable Objects input gates: storage operations do not let other events in; other I/O does.",
        "Durable Objects `blockConcurrencyWhile()`: no other event is delivered until the callback finishes.",
    )
    invalid = (
        Example("""
            from js import fetch
            from workers import DurableObject

            class Account(DurableObject):
                async def charge(self, amount):
                    balance = await self.ctx.storage.get("balance") or 0
                    await fetch("https://payments.example/charge", method="POST")
                    await self.ctx.storage.put("balance", balance - amount)  # expect: EDG204
        """, messages=(
            'Durable Object storage read-modify-write of key "balance" in Account spans `await fetch(...)`: the '
            "input gate opens during that I/O, another request can update the key and its write is lost; do the "
            "I/O before the read, or run the sequence in ctx.blockConcurrencyWhile() (read in Account.charge() "
            "at line 7)",
        )),
        Example("""
            from workers import DurableObject

            class Room(DurableObject):
                async def fetch(self, request):
                    members = await self.ctx.storage.get("members") or []
                    members.append(request.headers.get("x-user"))
                    await self.env.ROOMS.getByName(request.headers.get("x-lobby")).announce(len(members))
                    await self.ctx.storage.put("members", members)  # expect: EDG204
        """, messages=(
            'Durable Object storage read-modify-write of key "members" in Room spans `await '
            "self.env.ROOMS.getByName(...).announce(...)`: the input gate opens during that I/O, another request "
            "can update the key and its write is lost; do the I/O before the read, or run the sequence in "
            "ctx.blockConcurrencyWhile() (read in Room.fetch() at line 6)",
        )),
        Example("""
            from workers import DurableObject

            class Counter(DurableObject):
                async def alarm(self):
                    total = await self.ctx.storage.get("total") or 0
                    extra = int(await self.env.STATS.get("pending") or 0)
                    await self.ctx.storage.put("total", total + extra)  # expect: EDG204
        """, messages=(
            'Durable Object storage read-modify-write of key "total" in Counter spans `await '
            "self.env.STATS.get(...)`: the input gate opens during that I/O, another request can update the key "
            "and its write is lost; do the I/O before the read, or run the sequence in "
            "ctx.blockConcurrencyWhile() (read in Counter.alarm() at line 6)",
        )),
        Example("""
            from workers import DurableObject

            class Summary(DurableObject):
                async def add(self, text):
                    count = self.ctx.storage.kv.get("count") or 0
                    await self.env.AI.run("@cf/meta/llama", {"prompt": text})
                    self.ctx.storage.kv.put("count", count + 1)  # expect: EDG204
        """, messages=(
            'Durable Object storage read-modify-write of key "count" in Summary spans `await '
            "self.env.AI.run(...)`: the input gate opens during that I/O, another request can update the key and "
            "its write is lost; do the I/O before the read, or run the sequence in ctx.blockConcurrencyWhile() "
            "(read in Summary.add() at line 6)",
        )),
        Example("""
            from workers import DurableObject

            class Inbox(DurableObject):
                async def _load(self):
                    return await self.ctx.storage.get("inbox") or []

                async def _save(self, items):
                    await self.ctx.storage.put("inbox", items)

                async def webSocketMessage(self, ws, message):
                    items = await self._load()
                    items.append(message)
                    await self.env.QUEUE.send(message)
                    await self._save(items)  # expect: EDG204
        """, messages=(
            'Durable Object storage read-modify-write of key "inbox" in Inbox spans `await '
            "self.env.QUEUE.send(...)`: the input gate opens during that I/O, another request can update the key "
            "and its write is lost; do the I/O before the read, or run the sequence in "
            "ctx.blockConcurrencyWhile() (read in Inbox._load() at line 6; write in Inbox._save() at line 9)",
        )),
    )
    valid = (
        Example("""
            from workers import DurableObject

            class Counter(DurableObject):
                async def increment(self):
                    n = await self.ctx.storage.get("n") or 0
                    await self.ctx.storage.put("n", n + 1)
                    await self.env.QUEUE.send(n + 1)
                    return n + 1
        """),
        Example("""
            from js import fetch
            from workers import DurableObject

            class Account(DurableObject):
                async def charge(self, amount):
                    await fetch("https://payments.example/charge", method="POST")
                    balance = await self.ctx.storage.get("balance") or 0
                    await self.ctx.storage.put("balance", balance - amount)
        """),
        Example("""
            import functools
            from js import fetch
            from workers import DurableObject

            class Account(DurableObject):
                async def _charge(self, amount):
                    balance = await self.ctx.storage.get("balance") or 0
                    await fetch("https://payments.example/charge", method="POST")
                    await self.ctx.storage.put("balance", balance - amount)

                async def charge(self, amount):
                    await self.ctx.blockConcurrencyWhile(lambda: self._charge(amount))

                async def refund(self, amount):
                    await self.ctx.blockConcurrencyWhile(functools.partial(self._charge, -amount))
        """),
        Example("""
            from workers import DurableObject

            class Counter(DurableObject):
                async def add(self, amount):
                    n = self.ctx.storage.kv.get("n") or 0
                    self.ctx.storage.kv.put("n", n + amount)
                    rows = self.ctx.storage.sql.exec("SELECT total FROM sums").one()
                    self.ctx.storage.sql.exec("UPDATE sums SET total = ?", rows["total"] + amount)
                    await self.env.QUEUE.send(n + amount)
        """),
        Example("""
            from js import fetch
            from workers import DurableObject

            class Profile(DurableObject):
                async def profile(self, url):
                    cached = await self.ctx.storage.get("profile")
                    if cached is None:
                        cached = await (await fetch(url)).text()
                        await self.ctx.storage.put("profile", cached)
                    seen = await self.ctx.storage.get("seen") or 0
                    await self.env.QUEUE.send(url)
                    await self.ctx.storage.put("last_url", url + str(seen))
                    return cached
        """),
    )

    def check(self, project: Project, options: Mapping[str, Any]) -> Iterable[Report]:
        for read, write in read_modify_writes(project, storage=True):
            if read.in_block_concurrency and write.in_block_concurrency:
                continue  # no other event is delivered until the callback finishes
            if not set(write.foreign_awaits) - set(read.foreign_awaits):
                continue  # only storage awaits (or none) in between: the input gate stays closed
            yield self.report_pattern(
                write, "write", read, "read",
                f"Durable Object storage read-modify-write of key {key_of(write)}{_owner(write)} spans "
                f"{_io_between(project, read, write)}: the input gate opens during that I/O, another request "
                f"can update the key and its write is lost; do the I/O before the read, or run the sequence "
                f"in ctx.blockConcurrencyWhile()",
            )


def _owner(op: Operation) -> str:
    cls = op.function.cls if op.function is not None else None
    return f" in {cls.name}" if cls is not None else ""


def _io_between(project: Project, read: Operation, write: Operation) -> str:
    """The first non-storage `await` between the read and the write (the model records each one)."""
    between = sorted(set(write.foreign_awaits) - set(read.foreign_awaits))
    await_node = project.await_nodes.get(between[0]) if between else None
    return f"`await {_shape(await_node.expression)}`" if await_node is not None else "a non-storage await"


def _shape(node: cst.BaseExpression) -> str:
    """`self.env.ROOMS.getByName(...).announce(...)`: the called path, arguments elided."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_shape(node.value)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return f"{_shape(node.func)}(...)"
    return "..."
