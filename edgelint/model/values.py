"""Abstract values: what an expression is (a binding handle, data read from a key, ...) and its term.

A *term* is a hashable structural description of an expression, used to decide whether two key
expressions name the same key and whether a key or Durable Object name is constant:

    ("lit", value)            a literal or a module constant resolved to its literal
    ("clock",)                the current time, finer than a second (time.time(), datetime.now(), ...)
    ("clock", period)         the current day, hour, ... (date.today(), now.strftime("%Y-%m-%d"))
    ("envvar", NAME)          a plain `env.NAME` (var or secret): fixed per deployment
    ("var", uid)              an unreassigned variable holding something opaque
    ("param", fn, name)       a parameter of a function analysed without a caller
    ("attr", base, name)      attribute of a term
    ("sub", base, index)      subscript of a term
    ("fmt", parts)            an f-string / concatenation, literal parts merged
    ("call", name, args)      a call of a known-pure function over terms
    ("dict", ((key, value), ...))  a dict display with literal keys
    ("opaque", uid)           unknown: equal to nothing else
"""
from __future__ import annotations

import enum
import itertools
import re
from dataclasses import dataclass, field, replace
from typing import Any, Dict, FrozenSet, Iterable, Optional, Tuple

from edgelint.model import SLOTS

Term = Tuple[Any, ...]

_uids = itertools.count(1)


def fresh(kind: str = "opaque") -> Term:
    return (kind, next(_uids))


def uid_mark() -> int:
    """The uid the next fresh term gets (model.summaries: the uids a summary made)."""
    global _uids
    mark = next(_uids)
    _uids = itertools.count(mark)
    return mark


def reserve_uids(count: int) -> int:
    """Set aside `count` consecutive uids; the first of them."""
    global _uids
    first = next(_uids)
    _uids = itertools.count(first + count)
    return first


def lit(value: Any) -> Term:
    return ("lit", value)


CLOCK: Term = ("clock",)
# CPython builds a new (216-byte) object for every empty frozenset; most values derive from no read.
NO_READS: FrozenSet[int] = frozenset()


def union_reads(groups: Iterable[FrozenSet[int]]) -> FrozenSet[int]:
    """The read ids of all `groups`; the one shared empty set when there are none."""
    union = NO_READS.union(*groups)
    return union if union else NO_READS


_CONSTANT_LEAVES = frozenset({"lit", "envvar"})
_VARIABLE_LEAVES = frozenset({"var", "param", "opaque"})
# Calls that cut the current time to whole seconds (`int(time.time())`): a value every request in
# that second shares.
_TRUNCATIONS = frozenset({"int", "round", "math.floor", "math.ceil"})


def is_constant(term: Term) -> bool:
    """Built only from literals, module constants, env vars and the clock cut to a period (a
    second, a day): nothing request-specific. The time itself, finer than a second, differs from
    request to request."""
    head = term[0]
    if head in _CONSTANT_LEAVES:
        return True
    if head in _VARIABLE_LEAVES:
        return False
    if head == "clock":
        return len(term) > 1
    if head == "fmt":
        return all(is_constant(part) for part in term[1])
    if head == "binop":
        if term[1] == "FloorDivide" and term[2] == CLOCK and term[3][0] == "lit":
            return True  # `time.time() // 60`: the current minute
        return is_constant(term[2]) and is_constant(term[3])
    if head == "unary":
        return is_constant(term[2])
    if head == "tuple":
        return all(is_constant(part) for part in term[1])
    if head == "call":
        if term[1] in _TRUNCATIONS and len(term[2]) == 1 and term[2][0] == CLOCK:
            return True
        return all(is_constant(arg) for arg in term[2])
    if head in ("attr", "sub"):
        return is_constant(term[1]) and (head == "attr" or is_constant(term[2]))
    return False


def mentions_clock(term: Term) -> bool:
    """Whether the current time is part of the term (`now - refreshed_at`)."""
    return clock_period(term) is not None


# The period a clock value is cut to, by strftime code and by the seconds it is divided by, finest first.
PERIODS = ("second", "minute", "hour", "day", "week", "month", "year")
STRFTIME_PERIODS = {"S": "second", "s": "second", "f": "second", "M": "minute", "H": "hour", "I": "hour",
                    "d": "day", "j": "day", "a": "day", "A": "day", "w": "day", "u": "day", "U": "week",
                    "W": "week", "V": "week", "m": "month", "b": "month", "B": "month", "Y": "year", "y": "year"}
DIVISOR_PERIODS = {60: "minute", 3600: "hour", 86400: "day", 604800: "week"}


def clock_period(term: Term) -> Optional[str]:
    """The finest period of the current time in the term ("second" for the time itself, "day" for
    `date.today()`, "minute" for `int(time.time() // 60)`); None when the term has no clock."""
    if term[0] == "clock":
        return term[1] if len(term) > 1 else "second"
    if term[0] == "binop" and term[1] in ("FloorDivide", "Divide") and term[3][0] == "lit":
        inner = clock_period(term[2])
        if inner is not None:
            return _coarser(inner, DIVISOR_PERIODS.get(term[3][1], inner))
    periods = [period for period in map(clock_period, _subterms(term[1:])) if period is not None]
    return min(periods, key=PERIODS.index) if periods else None


def _subterms(parts: Tuple[Any, ...]) -> Iterable[Term]:
    """The terms among `parts`, looking into tuples of terms (f-string parts, call arguments)."""
    for part in parts:
        if isinstance(part, tuple) and part:
            if isinstance(part[0], str):
                yield part
            else:
                yield from _subterms(part)


def strftime_period(fmt: str) -> Optional[str]:
    """The finest period a strftime format shows ("%Y-%m-%d": day); None when it shows none."""
    periods = [STRFTIME_PERIODS[code] for code in re.findall(r"%([A-Za-z])", fmt) if code in STRFTIME_PERIODS]
    return min(periods, key=PERIODS.index) if periods else None


def _coarser(first: str, second: str) -> str:
    return max(first, second, key=PERIODS.index)


def is_comparable(term: Optional[Term]) -> bool:
    """A term that can equal another one (opaque terms never do)."""
    return term is not None and term[0] != "opaque"


def concat(parts: Tuple[Term, ...]) -> Term:
    """An f-string/concatenation term with adjacent literal parts merged."""
    merged: list = []
    for part in parts:
        pieces = part[1] if part[0] == "fmt" else (part,)
        for piece in pieces:
            if merged and piece[0] == "lit" and merged[-1][0] == "lit":
                merged[-1] = lit(f"{merged[-1][1]}{piece[1]}")
            else:
                merged.append(piece)
    if len(merged) == 1 and merged[0][0] == "lit":
        return merged[0]
    return ("fmt", tuple(merged))


def literal_parts(term: Term) -> Tuple[str, ...]:
    """The literal string pieces of a term (for route and config-name heuristics)."""
    if term[0] == "lit":
        return (str(term[1]),)
    if term[0] == "fmt":
        return tuple(str(part[1]) for part in term[1] if part[0] == "lit")
    return ()


class HandleKind(enum.Enum):
    ENV = "env"
    BINDING = "binding"  # env.X: KV, DO namespace, R2, ... (kind from the binding table)
    DO_ID = "do_id"
    STUB = "stub"
    CTX = "ctx"  # DurableObjectState / ctx
    STORAGE = "storage"
    STORAGE_SQL = "storage_sql"
    STORAGE_KV = "storage_kv"


@dataclass(frozen=True, **SLOTS)
class Handle:
    """What a value gives access to: a binding (KV, Durable Object namespace, ...), a stub, storage."""

    kind: HandleKind
    binding: Optional[str] = None
    address: Optional[int] = None  # op id of the idFromName/getByName/newUniqueId call
    probe: bool = False  # came from getattr(env, NAME, default)
    access: Optional[Any] = field(default=None, compare=False)  # the `env.X` / getattr node (EDG302)


@dataclass(eq=False)
class Instance:
    """An object whose class is in the project (a wrapper around a binding, a DO, ...)."""

    class_key: str
    attrs: Dict[str, "Value"] = field(default_factory=dict)


@dataclass(frozen=True, **SLOTS)
class Value:
    """What the analysis knows of an expression's value: its term, its handle, where it came from."""

    term: Term
    handle: Optional[Handle] = None
    reads: FrozenSet[int] = NO_READS  # ids of read operations this value derives from
    computed: bool = False  # depends on the result of a non-pure call (data, not a marker)
    transformed: bool = False  # changed relative to the raw read (arithmetic, merge, append)
    instance: Optional[Instance] = None
    callable: Optional[Any] = None  # a function/class reference (see model.project)
    predicate: bool = False  # a yes/no answer about data (comparison, `not`), not the data itself
    origin: Optional[Any] = field(default=None, compare=False)  # the caller's argument expression (messages)
    # Activations (model.operations.Frame) whose parameters this value, or a part of it, came in
    # through: the caller wrote it (where a finding about a constant key or a TTL lands).
    via: FrozenSet[int] = field(default=NO_READS, compare=False)
    # Operations whose promise this value is or holds (an async call not awaited yet): dropped
    # unawaited when the value is (EDG301).
    promises: FrozenSet[int] = NO_READS

    def derive(self, term: Optional[Term] = None, **changes: Any) -> "Value":
        """Data computed from this value: keeps provenance, drops handles and references."""
        return Value(term or fresh(), None, self.reads, self.computed, self.transformed, None, None,
                     via=self.via)._with(changes)

    def passed_into(self, activation: int) -> "Value":
        """This value as a parameter of `activation` sees it."""
        return replace(self, via=self.via | {activation})

    def _with(self, changes: Dict[str, Any]) -> "Value":
        return replace(self, **changes) if changes else self


UNKNOWN = Value(("opaque", 0))


def opaque(**changes: Any) -> Value:
    return Value(fresh())._with(changes)


def combine(values: Tuple[Value, ...], term: Optional[Term] = None, transformed: bool = True) -> Value:
    """Data derived from several values (arithmetic, containers, pure calls)."""
    reads = union_reads(value.reads for value in values)
    return Value(
        term or fresh(),
        reads=reads,
        computed=any(value.computed for value in values),
        transformed=transformed or any(value.transformed for value in values),
        via=union_reads(value.via for value in values),
    )


def holding(container: Value, items: Iterable[Value]) -> Value:
    """A list, tuple or set of `items`: it holds their promises (a call taking it consumes them)."""
    promises = union_reads(item.promises for item in items)
    return replace(container, promises=promises) if promises else container


def merge(left: Value, right: Value) -> Value:
    """The value of a variable after two branches assigned it differently."""
    if left is right or left == right:
        return left
    return Value(
        left.term if left.term == right.term else fresh("var"),
        left.handle or right.handle,
        union_reads((left.reads, right.reads)),
        left.computed or right.computed,
        # Only a branch that carries read data can make the merged read data "changed".
        (left.transformed and bool(left.reads)) or (right.transformed and bool(right.reads)),
        left.instance or right.instance,
        left.callable or right.callable,
        via=union_reads((left.via, right.via)),
        promises=union_reads((left.promises, right.promises)),
    )
