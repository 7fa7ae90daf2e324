"""KV and Durable Object operations recorded by the interpreter: the facts rules query."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, FrozenSet, Optional, Tuple

import libcst as cst

from edgelint.model import SLOTS
from edgelint.model.values import Term, Value, is_comparable

if TYPE_CHECKING:
    from edgelint.model.project import FunctionInfo, ModuleInfo


class OpKind(enum.Enum):
    KV_GET = "kv_get"  # get / getWithMetadata
    KV_PUT = "kv_put"
    KV_DELETE = "kv_delete"
    KV_LIST = "kv_list"
    DO_ADDRESS = "do_address"  # idFromName / idFromString / newUniqueId / getByName
    DO_STUB = "do_stub"  # namespace.get(id)
    STUB_CALL = "stub_call"  # any method on a stub (RPC or fetch)
    STORAGE_GET = "storage_get"
    STORAGE_PUT = "storage_put"
    STORAGE_DELETE = "storage_delete"
    STORAGE_OTHER = "storage_other"  # list, alarms, transaction, sql, ...
    BINDING_CALL = "binding_call"  # any other call on an env binding (R2, queue, rate limit, ...)


KV_KINDS = frozenset({OpKind.KV_GET, OpKind.KV_PUT, OpKind.KV_DELETE, OpKind.KV_LIST})
STORAGE_KINDS = frozenset({OpKind.STORAGE_GET, OpKind.STORAGE_PUT, OpKind.STORAGE_DELETE, OpKind.STORAGE_OTHER})
# `storage.sql` / `storage.kv` (other binding names) and these methods are synchronous.
SYNC_STORAGE_METHODS = frozenset({"transactionSync"})


class PathKind(enum.Enum):
    REQUEST = "request"
    BACKGROUND = "background"
    UNKNOWN = "unknown"  # not reached from any entry point in the project


@dataclass(frozen=True, **SLOTS)
class Frame:
    """One activation on the way from an analysis root to an operation."""

    qualname: str
    activation: int  # unique per activation: two calls of one helper are two frames
    call: Optional[cst.Call] = None  # the call in the caller's frame that entered this one
    caller: Optional["ModuleInfo"] = None  # the module holding `call`
    part: int = 0  # the first line of the top-level statement holding `call` (0: not known)


@dataclass(frozen=True, **SLOTS)
class Context:
    """How the analysed code was reached: from which kind of entry point, through which calls."""

    path: PathKind = PathKind.UNKNOWN
    admin: bool = False
    frames: Tuple[Frame, ...] = ()

    @property
    def chain(self) -> Tuple[str, ...]:
        return tuple(frame.qualname for frame in self.frames)

    def enter(self, frame: Frame, admin: bool) -> "Context":
        return Context(self.path, self.admin or admin, self.frames + (frame,))


@dataclass(eq=False, **SLOTS)
class Operation:
    """One call on KV, a Durable Object or its storage, with its key, value, options and context."""

    id: int
    kind: OpKind
    method: str
    node: cst.Call
    module: "ModuleInfo"
    function: Optional["FunctionInfo"]
    context: Context
    binding: Optional[str] = None
    key: Optional[Term] = None
    key_node: Optional[cst.BaseExpression] = None
    value: Optional[Value] = None
    args: Tuple[Value, ...] = ()
    awaited: bool = False
    discarded: bool = False  # an expression statement: the result is dropped
    guards: FrozenSet[int] = frozenset()  # read ops whose result gates this operation
    prior_writes: Tuple[int, ...] = ()  # KV writes that happened earlier in the same flow
    address: Optional[int] = None  # for stub/id ops: the op that addressed the object
    admin: bool = False  # inside an administrative route branch or function
    in_block_concurrency: bool = False
    foreign_awaits: Tuple[int, ...] = field(default=())  # ids of non-storage awaits earlier in the flow
    access_node: Optional[cst.CSTNode] = None  # where the binding was taken from env (`env.X`, getattr)
    probe: bool = False  # the binding came from getattr(env, NAME, default)
    key_value: Optional[Value] = None  # the key's value: where it was written (placement, messages)
    keywords: Tuple[Tuple[str, Value], ...] = ()  # keyword arguments (options) with their values
    options: Optional[Value] = None  # a KV call's options argument (`{"expirationTtl": 60}`), when passed

    @property
    def part(self) -> int:
        """The first line of the top-level statement holding the call (positions look only there)."""
        return self.function.chunk.first if self.function is not None else 0

    @property
    def key_origin(self) -> Optional[cst.CSTNode]:
        """The outermost caller's expression for the key (messages)."""
        return self.key_value.origin if self.key_value is not None else None

    @property
    def returns_promise(self) -> bool:
        """An async KV, Durable Object storage or stub call: its result must be awaited."""
        if self.kind in STORAGE_KINDS:
            return self.binding == "storage" and self.method not in SYNC_STORAGE_METHODS
        return self.kind in KV_KINDS or self.kind is OpKind.STUB_CALL

    def keyword(self, name: str) -> Optional[Value]:
        return next((value for keyword, value in self.keywords if keyword == name), None)

    def same_key(self, other: "Operation") -> bool:
        return (
            self.binding is not None
            and self.binding == other.binding
            and is_comparable(self.key)
            and self.key == other.key
        )

    @property
    def on_request_path(self) -> bool:
        return self.context.path is PathKind.REQUEST and not (self.admin or self.context.admin)
