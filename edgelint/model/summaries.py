"""Function summaries: each project function is interpreted once per distinct abstract input.

A call into project code is described by its *abstract input*: for every argument (and `self`,
and the attributes of the objects passed in) what the callee's interpretation can depend on — a
literal's value (a caller's constant selects branches), a binding handle's kind and name, the
class and shape of an object, which callable it is — and for plain data only flags (derived from
a read, computed, changed, a yes/no answer, a pending promise). The callee is interpreted once
for that input with *slots* standing for the data (`("slot", i)` terms, negative read ids), and
everything it does is recorded: operations, flow effects, facts, attribute writes, what it
returns (`Recorder`, `Summary`). Each call then *instantiates* the summary: slots become the
caller's values, ids made while computing it become fresh ones, and the operations land in the
caller's flow with its guards, earlier writes and awaits, path and call chain (`instantiate`).

So a helper that every route uses is interpreted once per distinct input rather than once per
route, and the findings are those of interpreting it in place: the fixture projects and the rule
examples pin that down.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, Hashable, List, Optional, Set, Tuple

import libcst as cst

from edgelint.model.callables import Args, BoundMethod, LocalFunction, ModuleRef, Partial
from edgelint.model.operations import Context, Frame, Operation
from edgelint.model.values import (
    NO_READS,
    Handle,
    Instance,
    Term,
    Value,
    concat,
    lit,
    merge,
    reserve_uids,
    uid_mark,
)

if TYPE_CHECKING:
    from edgelint.model.interpreter import Interpreter
    from edgelint.model.project import FunctionInfo, Project

# Terms that say what a value *is* (part of the abstract input), not data flowing through.
STRUCTURAL_TERMS = frozenset({"lit", "clock", "env", "ctx", "storage", "ext", "module", "func", "class"})
MAX_SUMMARY_OPERATIONS = 5_000  # a pathological fan-out of calls stops recording here
# Summaries kept for reuse, the least recently used dropped beyond: helpers that many routes share
# stay; a big project's one-off calls do not hold their templates to the end (memory).
MAX_KEPT = 256


NOT_TEXT = object()  # a condition: the slot was not a string literal


class NotSummarizable(Exception):
    """The call depends on something a summary cannot stand for (a nested function's scope, a
    module global set at runtime): it is interpreted in place instead."""


@dataclass(frozen=True)
class Slot:
    """Stands for the caller's `origin` or binding `access` node of slot `index`."""

    index: int


class Inputs:
    """One call's abstract input (`key`) and the caller's values behind its slots.

    A string literal is not part of the key: most are keys and names the callee only passes on. It
    gets a *soft* slot whose text the summary being computed may still ask for (`use_literal`: a
    branch on it, `getattr(env, name)`); the summary then holds only for callers passing that text,
    and one that asked a data slot only for callers that do not pass a string there
    (`Recorder.conditions`).
    """

    def __init__(self, function: "FunctionInfo", self_value: Optional[Value], args: Args, caller_sink: Any):
        self.slots: List[Value] = []
        self.instances: List[Instance] = []
        self.soft: Dict[int, SoftLiteral] = {}
        self._caller_sink = caller_sink
        self._instance_index: Dict[int, int] = {}
        parts: List[Hashable] = [id(function), self._shape(self_value) if self_value is not None else None]
        parts.append(tuple(self._shape(value) for value in args.positional))
        parts.append(tuple((name, self._shape(value)) for name, value in sorted(args.keywords.items())))
        parts.append(tuple(self._shape(value) for value in args.extra))
        self.key: Tuple[Hashable, ...] = tuple(parts)

    def _shape(self, value: Value) -> Hashable:
        index = len(self.slots)
        self.slots.append(value)
        term = value.term
        handle = value.handle
        soft = self._soft(index, term)
        if soft is not None:
            self.soft[index] = soft
        return (
            term if term[0] in STRUCTURAL_TERMS and soft is None else None,
            (handle.kind, handle.binding, handle.address, handle.probe) if handle is not None else None,
            bool(value.reads), value.computed, value.transformed, value.predicate, bool(value.promises),
            self._instance_shape(value.instance) if value.instance is not None else None,
            self._callable_shape(value.callable) if value.callable is not None else None,
            index,
        )

    def _soft(self, index: int, term: Term) -> Optional["SoftLiteral"]:
        if term[0] == "lit" and isinstance(term[1], (str, bytes)):
            return SoftLiteral(term[1])
        parent = self._caller_sink
        if term[0] == "slot" and isinstance(parent, Recorder) and term[1] in parent.soft:
            return SoftLiteral(parent.soft[term[1]].text, parent, term[1])  # a caller's own soft slot
        return None

    def _instance_shape(self, instance: Instance) -> Hashable:
        seen = self._instance_index.get(id(instance))
        if seen is not None:
            return ("same", seen)  # the same object twice (`self` passed as an argument)
        self._instance_index[id(instance)] = len(self.instances)
        self.instances.append(instance)
        attrs = tuple((name, self._shape(value)) for name, value in sorted(instance.attrs.items()))
        return (instance.class_key, attrs)

    def _callable_shape(self, target: Any) -> Hashable:
        if isinstance(target, (LocalFunction, Partial)):
            raise NotSummarizable("a nested function or partial is passed in")
        if isinstance(target, BoundMethod):
            return ("bound", id(target.function), self._shape(target.self_value))
        if isinstance(target, ModuleRef):
            return ("module", target.module.name)
        return ("code", id(target))

    # ---- the values the callee is interpreted with

    def placeholders(self, self_value: Optional[Value], args: Args) -> Tuple[Optional[Value], Args]:
        """`self` and the arguments with slots for their data, in the order `key` was built."""
        builder = _Placeholders(self)
        placeholder_self = builder.value(self_value) if self_value is not None else None
        positional = [builder.value(value) for value in args.positional]
        keywords = {name: builder.value(args.keywords[name]) for name in sorted(args.keywords)}
        extra = [builder.value(value) for value in args.extra]
        self.placeholder_instances = builder.instances
        return placeholder_self, Args(positional, keywords, extra)


class _Placeholders:
    """Builds the slot values, walking the arguments as `Inputs` did."""

    def __init__(self, inputs: Inputs):
        self.inputs = inputs
        self.next_slot = 0
        self.instances: List[Instance] = []

    def value(self, actual: Value) -> Value:
        index = self.next_slot
        self.next_slot += 1
        marker = frozenset({-(index + 1)})
        handle = actual.handle
        if handle is not None:
            handle = Handle(handle.kind, handle.binding, handle.address, handle.probe, Slot(index))
        instance = self.instance(actual.instance) if actual.instance is not None else None
        target = actual.callable
        if isinstance(target, BoundMethod):
            target = BoundMethod(target.function, self.value(target.self_value))
        structural = actual.term[0] in STRUCTURAL_TERMS and index not in self.inputs.soft
        return Value(
            actual.term if structural else ("slot", index), handle,
            marker if actual.reads else NO_READS, actual.computed, actual.transformed, instance, target,
            actual.predicate, Slot(index), marker if actual.via else NO_READS, marker if actual.promises else NO_READS,
        )

    def instance(self, actual: Instance) -> Instance:
        index = self.inputs._instance_index[id(actual)]
        if index < len(self.instances):
            return self.instances[index]
        placeholder = Instance(actual.class_key)
        self.instances.append(placeholder)
        for name in sorted(actual.attrs):
            placeholder.attrs[name] = self.value(actual.attrs[name])
        return placeholder


@dataclass(frozen=True)
class SoftLiteral:
    """A string passed in a soft slot; `parent` and `index`: the caller's soft slot it came from,
    when the caller is a summary being computed too (its conditions then follow)."""

    text: Any
    parent: Optional["Recorder"] = None
    index: int = -1


@dataclass
class Recorder:
    """The sink of a summary being computed: what the callee does, in its own terms."""

    project: "Project"
    soft: Dict[int, SoftLiteral] = field(default_factory=dict)
    methods: Tuple[str, ...] = ()  # the caller's enclosing route methods
    conditions: Dict[Hashable, Any] = field(default_factory=dict)  # what the summary assumed of its caller
    operations: List[Operation] = field(default_factory=list)
    # What else the callee learnt, in its own terms; empty ones are shared (most callees learn little,
    # and a summary is kept for the whole analysis).
    escaped: FrozenSet[int] = NO_READS
    mutated: FrozenSet[int] = NO_READS
    compared: FrozenSet[int] = NO_READS
    reached: FrozenSet[str] = frozenset()
    new_instances: FrozenSet[int] = NO_READS
    modules: FrozenSet[str] = frozenset()  # modules the callee read (what the summary depends on)
    storage_effects: Tuple[Tuple[Tuple[str, ...], str], ...] = ()
    dropped: Tuple[Tuple[int, int], ...] = ()
    constructions: Tuple[Tuple[str, Dict[str, Value]], ...] = ()
    awaits: Tuple[Tuple[int, cst.Await], ...] = ()

    def record(self, op: Operation) -> Operation:
        if len(self.operations) < MAX_SUMMARY_OPERATIONS:
            self.operations.append(op)
        return op

    def find_op(self, op_id: int) -> Optional[Operation]:
        return next((op for op in self.operations if op.id == op_id), None) or self.project.find_op(op_id)

    def note_storage_effect(self, chain: Tuple[str, ...], effect: Optional[str]) -> None:
        if effect is not None:
            self.storage_effects += ((chain, effect),)

    def note_escaped(self, reads: FrozenSet[int]) -> None:
        self.escaped = self.escaped | reads if reads else self.escaped

    def note_mutated(self, reads: FrozenSet[int]) -> None:
        self.mutated = self.mutated | reads if reads else self.mutated

    def note_compared(self, reads: FrozenSet[int]) -> None:
        self.compared = self.compared | reads if reads else self.compared

    def note_dropped(self, op_id: int, activation: int) -> None:
        self.dropped += ((op_id, activation),)

    def note_construction(self, class_key: str, passed: Dict[str, Value]) -> None:
        self.constructions += ((class_key, passed),)

    def note_await(self, await_id: int, node: cst.Await) -> None:
        self.awaits += ((await_id, node),)

    def note_reached(self, qualname: str) -> None:
        if qualname not in self.reached:
            self.reached = self.reached | {qualname}

    def note_module(self, name: str) -> None:
        if name not in self.modules:
            self.modules = self.modules | {name}

    def note_instance(self, instance: Instance) -> None:
        self.new_instances = self.new_instances | {id(instance)}

    def set_runtime_global(self, key: Tuple[str, str], value: Value) -> None:
        raise NotSummarizable("a module global assigned at runtime")

    def use_literal(self, slot: int) -> Tuple[bool, Any]:
        soft = self.soft.get(slot)
        if soft is None:
            self.conditions[("text", slot)] = NOT_TEXT
            return False, None
        self.conditions[("text", slot)] = soft.text
        if soft.parent is not None:
            soft.parent.use_literal(soft.index)
        return True, soft.text

    def use_methods(self) -> None:
        self.conditions[("methods",)] = self.methods


@dataclass
class Summary:
    """What one function does for one abstract input, in terms of its slots."""

    recorder: Recorder
    activation: int  # the callee's own activation (the first frame of its operations' chains)
    result: Value
    writes: Tuple[int, ...]  # KV writes and awaits the caller's flow sees after the call
    awaits: Tuple[int, ...]
    attribute_writes: List[Tuple[int, str, Value]]  # (placeholder instance, attribute, value)
    ids: Tuple[int, int]  # operation / await / activation ids made while computing it: [start, end)
    uids: Tuple[int, int]  # fresh term uids made while computing it
    placeholders: List[Instance]  # the objects passed in, as the callee saw them (by `Inputs` index)

    def holds_for(self, caller: "Interpreter", inputs: Inputs) -> bool:
        """Whether what the summary assumed of its caller (`Recorder.conditions`) holds for this call."""
        for condition, expected in self.recorder.conditions.items():
            if condition[0] == "methods":
                if caller.flow.methods != expected:
                    return False
            elif caller.literal(inputs.slots[condition[1]]) != ((False, None) if expected is NOT_TEXT else (True, expected)):
                return False
        return True


def compute(caller: "Interpreter", function: "FunctionInfo", inputs: Inputs, self_value: Optional[Value],
            args: Args) -> Tuple[Summary, bool]:
    """Interpret `function` once for `inputs`; (summary, whether it may be reused for other calls)."""
    project = caller.project
    placeholder_self, placeholder_args = inputs.placeholders(self_value, args)
    snapshots = [dict(instance.attrs) for instance in inputs.placeholder_instances]
    recorder = Recorder(project, inputs.soft, caller.flow.methods)
    id_start, uid_start = project.id_mark(), uid_mark()
    activation = project.new_op_id()
    context = Context(frames=(Frame(function.qualname, activation),), admin=project.is_admin_name(function.name))
    # The caller's kind of interpreter and flow, fresh: a summary holds whoever calls it.
    callee = type(caller)(project, function.module, function, context, type(caller.flow)({}, methods=caller.flow.methods),
                          budget=caller.fresh_budget(), sink=recorder)
    callee.bind_parameters(function.parse().params, placeholder_args, placeholder_self)
    project.begin_summary(function.qualname)
    reusable = False
    try:
        callee.run_suite(function.parse().body)
        callee.finish()
    finally:
        reusable = project.end_summary()
    finished = callee.flow if not callee.flow.exited else type(caller.flow)({})
    result = callee.returns[0] if callee.returns else Value(lit(None))
    for value in callee.returns[1:]:
        result = merge(result, value)
    writes = tuple(sorted(set(finished.writes) | callee.exit_writes))
    awaits = tuple(sorted(set(finished.awaits) | callee.exit_awaits))
    attribute_writes = [(index, name, value) for index, (instance, before) in
                        enumerate(zip(inputs.placeholder_instances, snapshots))
                        for name, value in instance.attrs.items() if before.get(name) is not value]
    summary = Summary(recorder, activation, result, writes, awaits, attribute_writes,
                      (id_start, project.id_mark()), (uid_start, uid_mark()), inputs.placeholder_instances)
    _check_leaks(summary)
    return summary, reusable


def _check_leaks(summary: Summary) -> None:
    """A nested function returned or stored on an object keeps the callee's scope: not reusable."""
    values = [summary.result] + [value for _, _, value in summary.attribute_writes]
    if any(isinstance(value.callable, (LocalFunction, Partial)) for value in values):
        raise NotSummarizable("a nested function leaves the call")


def instantiate(caller: "Interpreter", summary: Summary, inputs: Inputs, node: Optional[cst.Call],
                function: "FunctionInfo") -> Value:
    """Replay `summary` into `caller` for the call `node` with the caller's values."""
    replay = _Replay(caller, summary, inputs, node)
    recorder = summary.recorder
    sink = caller.sink
    for op in recorder.operations:
        sink.record(replay.operation(op))
    sink.note_escaped(replay.ids(recorder.escaped, "reads"))
    sink.note_mutated(replay.ids(recorder.mutated, "reads"))
    sink.note_compared(replay.ids(recorder.compared, "reads"))
    for chain, effect in recorder.storage_effects:
        sink.note_storage_effect(caller.context.chain + chain, effect)
    for op_id, activation in recorder.dropped:
        for dropped in replay.ids(frozenset({op_id}), "promises"):
            sink.note_dropped(dropped, replay.id(activation))
    for class_key, passed in recorder.constructions:
        sink.note_construction(class_key, {name: replay.value(value) for name, value in passed.items()})
    for await_id, await_node in recorder.awaits:
        sink.note_await(replay.id(await_id), await_node)
    for qualname in recorder.reached:
        sink.note_reached(qualname)
    for name in recorder.modules:
        sink.note_module(name)
    sink.note_reached(function.qualname)
    flow = caller.flow
    flow.writes = tuple(sorted(set(flow.writes) | {replay.id(op_id) for op_id in summary.writes}))
    flow.awaits = tuple(sorted(set(flow.awaits) | {replay.id(await_id) for await_id in summary.awaits}))
    for index, name, value in summary.attribute_writes:
        inputs.instances[index].attrs[name] = replay.value(value)  # after the call, as in place
    return replay.value(summary.result)


class _Replay:
    """One instantiation: slots to the caller's values, the summary's ids and fresh terms to new ones."""

    def __init__(self, caller: "Interpreter", summary: Summary, inputs: Inputs, node: Optional[cst.Call]):
        self.caller = caller
        self.summary = summary
        self.inputs = inputs
        self.node = node
        self.id_start, id_end = summary.ids
        self.id_base = caller.project.reserve_ids(id_end - self.id_start)
        self.uid_start, uid_end = summary.uids
        self.uid_base = reserve_uids(uid_end - self.uid_start)
        self.uid_end, self.id_end = uid_end, id_end
        self._values: Dict[int, Value] = {}
        self._terms: Dict[int, Term] = {}
        self._frames: Dict[int, Tuple[Frame, ...]] = {}
        self._instances: Dict[int, Instance] = {}
        flow = caller.flow
        self.guards = flow.guard_reads()

    # ---- ids

    def id(self, value: int) -> int:
        return value - self.id_start + self.id_base if self.id_start <= value < self.id_end else value

    def ids(self, values: FrozenSet[int], field_name: str) -> FrozenSet[int]:
        """Ids of the summary renamed; a slot's marker becomes the caller's ids of that kind."""
        if not values:
            return NO_READS
        mapped: Set[int] = set()
        for value in values:
            if value < 0:
                mapped.update(getattr(self.inputs.slots[-value - 1], field_name))
            else:
                mapped.add(self.id(value))
        return frozenset(mapped) if mapped else NO_READS

    # ---- operations

    def operation(self, op: Operation) -> Operation:
        caller = self.caller
        flow = caller.flow
        context = caller.context
        return Operation(
            id=self.id(op.id), kind=op.kind, method=op.method, node=op.node, module=op.module, function=op.function,
            context=Context(context.path, context.admin or op.context.admin,
                            context.frames + self.frames(op.context.frames)),
            binding=op.binding, key=self.term(op.key) if op.key is not None else None, key_node=op.key_node,
            value=self.value(op.value), args=tuple(self.value(value) for value in op.args), awaited=op.awaited,
            discarded=op.discarded, guards=self.guards | self.ids(op.guards, "reads"),
            prior_writes=flow.writes + tuple(self.id(op_id) for op_id in op.prior_writes),
            address=self.id(op.address) if op.address is not None else None, admin=flow.admin or op.admin,
            in_block_concurrency=flow.in_block_concurrency or op.in_block_concurrency,
            foreign_awaits=flow.awaits + tuple(self.id(await_id) for await_id in op.foreign_awaits),
            access_node=self._access(op.access_node), probe=op.probe, key_value=self.value(op.key_value),
            keywords=tuple((name, self.value(value)) for name, value in op.keywords),
            options=self.value(op.options),
        )

    def frames(self, frames: Tuple[Frame, ...]) -> Tuple[Frame, ...]:
        known = self._frames.get(id(frames))
        if known is None:
            first, rest = frames[0], frames[1:]
            known = (Frame(first.qualname, self.id(first.activation), self.node, self.caller.module, self.caller.part),)
            known += tuple(Frame(frame.qualname, self.id(frame.activation), frame.call, frame.caller, frame.part)
                           for frame in rest)
            self._frames[id(frames)] = known
        return known

    def _access(self, access: Any) -> Any:
        if isinstance(access, Slot):
            handle = self.inputs.slots[access.index].handle
            return handle.access if handle is not None else None
        return access

    # ---- values

    def value(self, value: Optional[Value]) -> Optional[Value]:
        if value is None:
            return None
        known = self._values.get(id(value))
        if known is not None:
            return known
        origin = value.origin
        if isinstance(origin, Slot):
            origin = self.inputs.slots[origin.index].origin
        handle = value.handle
        if handle is not None:
            handle = Handle(handle.kind, handle.binding, self.id(handle.address) if handle.address is not None
                            else None, handle.probe, self._access(handle.access))
        result = Value(
            self.term(value.term), handle, self.ids(value.reads, "reads"), value.computed, value.transformed,
            self.instance(value.instance) if value.instance is not None else None, self._callable(value.callable),
            value.predicate, origin, self.ids(value.via, "via"), self.ids(value.promises, "promises"),
        )
        self._values[id(value)] = result
        return result

    def _callable(self, target: Any) -> Any:
        if isinstance(target, BoundMethod):
            return BoundMethod(target.function, self.value(target.self_value))
        if isinstance(target, Partial):
            bound = target.args
            return Partial(self.value(target.function), Args([self.value(v) for v in bound.positional],
                                                             {k: self.value(v) for k, v in bound.keywords.items()},
                                                             [self.value(v) for v in bound.extra]))
        return target

    def instance(self, instance: Instance) -> Instance:
        """A placeholder object becomes the caller's; one the callee created is copied per call."""
        for index, placeholder in enumerate(self.summary.placeholders):
            if placeholder is instance:
                return self.inputs.instances[index]
        if id(instance) not in self.summary.recorder.new_instances:
            return instance  # a module-level object: shared
        copy = self._instances.get(id(instance))
        if copy is None:
            copy = self._instances[id(instance)] = Instance(instance.class_key)
            for name, value in instance.attrs.items():
                copy.attrs[name] = self.value(value)
        return copy

    def term(self, term: Term) -> Term:
        head = term[0]
        if head == "slot":
            return self.inputs.slots[term[1]].term
        if head in ("opaque", "var"):
            uid = term[1]
            return (head, uid - self.uid_start + self.uid_base) if self.uid_start <= uid < self.uid_end else term
        if head not in _NESTED:
            return term
        known = self._terms.get(id(term))
        if known is None:
            known = self._terms[id(term)] = _rebuild(term, self.term)
        return known


_NESTED = frozenset({"attr", "sub", "fmt", "call", "binop", "unary", "tuple", "dict"})


def _rebuild(term: Term, inner: Any) -> Term:
    """`term` with its parts replaced by `inner(part)`, normalized as the interpreter builds it."""
    head = term[0]
    if head in ("attr", "sub"):
        return (head, inner(term[1]), term[2] if head == "attr" else inner(term[2]))
    if head == "fmt":
        return concat(tuple(inner(part) for part in term[1]))
    if head == "call":
        return (head, term[1], tuple(inner(part) for part in term[2]))
    if head == "binop":
        left, right = inner(term[2]), inner(term[3])
        if term[1] == "Add" and (_is_text(left) or _is_text(right)):
            return concat((left, right))
        return (head, term[1], left, right)
    if head == "unary":
        return (head, term[1], inner(term[2]))
    if head == "tuple":
        return (head, tuple(inner(part) for part in term[1]))
    return (head, tuple((inner(key), inner(value)) for key, value in term[1]))  # dict


def _is_text(term: Term) -> bool:
    return (term[0] == "lit" and isinstance(term[1], str)) or term[0] == "fmt"
