"""The interpreter: walks a function once, statement by statement, tracking abstract values.

It follows binding handles through names, attributes, `getattr`, wrapper objects and calls into
the project's own functions (run as summaries instantiated with the caller's argument values,
model.summaries, so a read-modify-write split over several helpers is seen as one flow), and
records every KV / Durable Object operation with its key, value, guards and position in the flow.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple, Union

import libcst as cst

from edgelint.model import summaries
from edgelint.model.bindings import BindingKind
from edgelint.model.callables import Args, BoundMethod, LocalFunction, ModuleRef, Partial
from edgelint.model.literals import literal_value, string_value
from edgelint.model.operations import Context, Frame, Operation, OpKind
from edgelint.model.project import (
    ClassInfo,
    FunctionInfo,
    ModuleInfo,
    Project,
    RoutePath,
    index_import,
    submodule_name,
)
from edgelint.model.syntax import OPTION_POSITIONS, fixture_builds_doubles
from edgelint.model.values import (
    CLOCK,
    NO_READS,
    UNKNOWN,
    Handle,
    HandleKind,
    Instance,
    Term,
    Value,
    combine,
    concat,
    fresh,
    holding,
    lit,
    mentions_clock,
    strftime_period,
    merge,
    opaque,
    union_reads,
)

MAX_INLINE_DEPTH = 8
INLINE_BUDGET = 400  # inlined calls per analysis root: bounds pathological call trees

KV_METHODS = {"get": OpKind.KV_GET, "getWithMetadata": OpKind.KV_GET, "put": OpKind.KV_PUT,
              "delete": OpKind.KV_DELETE, "list": OpKind.KV_LIST}
DO_ADDRESS_METHODS = frozenset({"idFromName", "idFromString", "newUniqueId", "getByName"})
STORAGE_METHODS = {"get": OpKind.STORAGE_GET, "put": OpKind.STORAGE_PUT, "delete": OpKind.STORAGE_DELETE}
STORAGE_EFFECTS = {"get": "read", "list": "read", "getAlarm": "read", "put": "write", "delete": "write",
                   "deleteAll": "write", "setAlarm": "write", "deleteAlarm": "write"}
CLOCK_FUNCTIONS = frozenset({
    "time.time", "time.time_ns", "time.monotonic", "datetime.datetime.now", "datetime.datetime.utcnow",
    "datetime.datetime.today", "datetime.date.today", "datetime.now", "datetime.utcnow", "js.Date.now",
})
# Calls that convert a value without changing what it means (a read passed through them is not "modified").
CONVERSIONS = frozenset({"int", "str", "float", "bool", "bytes", "dict", "list", "tuple", "json.loads",
                         "json.dumps", "copy.copy", "copy.deepcopy", "to_py", "to_js"})
PURE_CALLS = CONVERSIONS | frozenset({"len", "min", "max", "abs", "round", "sum", "sorted", "set", "repr",
                                      "math.floor", "math.ceil", "hashlib.sha256", "divmod", "format"})
MUTATING_METHODS = frozenset({"append", "extend", "insert", "update", "pop", "remove", "setdefault", "add",
                              "discard", "clear", "popitem", "sort", "reverse", "__setitem__"})
# Operations whose arguments leave the flow: stored, sent to another object or service.
SINK_KINDS = frozenset({OpKind.KV_PUT, OpKind.STORAGE_PUT, OpKind.BINDING_CALL, OpKind.STUB_CALL})
# Sources of fresh ids: a key built from one is unique per request, not a constant or a shared key.
RANDOM_MODULES = ("uuid.", "secrets.", "random.", "os.urandom", "js.crypto.", "nanoid.", "ulid.", "uuid_utils.",
                  "shortuuid.", "cuid", "ksuid.")
# Methods that return the same data in another shape (reading it back through them is not a change).
PASSTHROUGH_METHODS = frozenset({"get", "strip", "decode", "encode", "lower", "upper", "copy", "to_py", "to_js",
                                 "text", "json"})
ORDERING = (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual)
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
PROBES = frozenset({"hasattr", "isinstance", "callable"})  # questions about an object's shape, not its data


@dataclass
class Flow:
    """The mutable part of the analysis that branches copy and merge."""

    vars: Dict[str, Value]
    guards: Tuple[FrozenSet[int], ...] = ()
    writes: Tuple[int, ...] = ()
    awaits: Tuple[int, ...] = ()  # ids of awaits on something other than DO storage
    admin: bool = False
    methods: Tuple[str, ...] = ()  # HTTP methods named by enclosing route conditions
    in_block_concurrency: bool = False
    exited: bool = False

    def copy(self) -> "Flow":
        return replace(self, vars=dict(self.vars))

    def guard_reads(self) -> FrozenSet[int]:
        return union_reads(self.guards)


def merge_flows(flows: Sequence[Flow], base: Flow) -> Flow:
    """Join branches. Paths that returned, raised, broke or continued do not reach the join point."""
    live = [flow for flow in flows if not flow.exited]
    if not live:
        result = base.copy()
        result.exited = True
        return result
    merged = live[0].copy()
    for other in live[1:]:
        for name, value in other.vars.items():
            merged.vars[name] = merge(merged.vars[name], value) if name in merged.vars else value
    merged.guards = base.guards
    merged.admin = base.admin
    merged.methods = base.methods
    merged.writes = tuple(sorted(set().union(*(f.writes for f in live))))
    merged.awaits = tuple(sorted(set().union(*(f.awaits for f in live))))
    merged.exited = False
    return merged


class Interpreter:
    """One activation of a function (or lambda) under a context."""

    def __init__(self, project: Project, module: ModuleInfo, function: Optional[FunctionInfo],
                 context: Context, flow: Flow, parent: Optional["Interpreter"] = None,
                 budget: Optional[List[int]] = None, sink: Optional[Any] = None):
        self.project = project
        self.sink = sink if sink is not None else project  # where what is learnt goes (Project API)
        self.module = module
        self.function = function
        self.context = context
        self.flow = flow
        self.parent = parent
        self.returns: List[Value] = []
        self.globals_declared: Set[str] = set()
        self.nonlocals_declared: Set[str] = set()  # names of the enclosing function's scope
        self.budget = budget if budget is not None else [INLINE_BUDGET]
        self.self_value: Optional[Value] = None
        self.is_root = False  # the analysis started here: what it returns leaves the project
        # Writes and awaits on paths that left the function (return/raise) or a loop (break/continue):
        # they do not reach the next statement, but they do reach the caller / the code after the loop.
        self.exit_writes: Set[int] = set()
        self.exit_awaits: Set[int] = set()
        self.loop_exits: List[Tuple[Set[int], Set[int]]] = []
        self.unread: Dict[str, Value] = {}  # variables holding promises, not read since they were set
        # Guards in force at the end of an `if hasattr(env, "KV"):` body, by condition: a second
        # `if` on the same probe runs on the same paths (the probe's answer does not change).
        self.passed_conditions: Dict[Term, Tuple[FrozenSet[int], ...]] = {}
        # While an `if` test is evaluated: the reads it orders against something (`count >= limit`,
        # not the clock). None elsewhere.
        self.ordered_reads: Optional[List[FrozenSet[int]]] = None

    # ------------------------------------------------------------------ statements

    def run_block(self, statements: Sequence[cst.CSTNode]) -> None:
        for statement in statements:
            if self.flow.exited:
                return
            self.run_statement(statement)

    def run_suite(self, suite: cst.BaseSuite) -> None:
        self.run_block(suite.body)  # an indented block or `if x: stmt` on one line

    def run_statement(self, node: cst.CSTNode) -> None:
        handler = _STATEMENTS.get(type(node))
        if handler is not None:
            handler(self, node)

    def _simple_line(self, node: Union[cst.SimpleStatementLine, cst.SimpleStatementSuite]) -> None:
        self.run_block(node.body)

    def _expr(self, node: cst.Expr) -> None:
        value = self.eval(node.value, discarded=True)
        if value.promises:
            self.drop(value)  # a helper's promise, or a list of promises, thrown away

    def _assign(self, node: cst.Assign) -> None:
        # `_ = await kv.get(key)`: the conventional name for a value nobody uses.
        thrown_away = all(isinstance(target.target, cst.Name) and target.target.value == "_" for target in node.targets)
        value = self.eval(node.value, discarded=thrown_away)
        if value.origin is None:
            value = replace(value, origin=node.value)  # messages show `f"..."` rather than a variable
        for target in node.targets:
            self.assign(target.target, value)

    def _ann_assign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self.assign(node.target, self.eval(node.value))

    def _aug_assign(self, node: cst.AugAssign) -> None:
        value = self.eval(node.value)
        old = self.eval(node.target)
        combined = combine((old, value), ("binop", type(node.operator).__name__, old.term, value.term))
        if isinstance(node.target, cst.Name):
            self.bind(node.target.value, combined)
        else:
            self._mutate(node.target, combined)

    def _return(self, node: cst.Return) -> None:
        value = self.eval(node.value) if node.value is not None else Value(lit(None))
        if self.is_root:
            self.escape((value,))
        self.returns.append(value)
        self._leave(self.exit_writes, self.exit_awaits)

    def escape(self, values: Sequence[Value]) -> None:
        """These values leave the analysed flow (returned to the client, stored, passed to unknown code)."""
        for value in values:
            if value.reads:
                self.sink.note_escaped(value.reads)

    def _raise(self, node: cst.Raise) -> None:
        if node.exc is not None:
            self.eval(node.exc)
        self._leave(self.exit_writes, self.exit_awaits)

    def _exit_loop_iteration(self, node: cst.CSTNode) -> None:
        if self.loop_exits:
            self._leave(*self.loop_exits[-1])
        else:
            self.flow.exited = True

    def _leave(self, writes: Set[int], awaits: Set[int]) -> None:
        writes.update(self.flow.writes)
        awaits.update(self.flow.awaits)
        self.flow.exited = True

    def _global(self, node: cst.Global) -> None:
        self.globals_declared.update(item.name.value for item in node.names)

    def _nonlocal(self, node: cst.Nonlocal) -> None:
        self.nonlocals_declared.update(item.name.value for item in node.names)

    def _assert(self, node: cst.Assert) -> None:
        self.eval(node.test)

    def _delete(self, node: cst.Del) -> None:
        target = node.target
        if isinstance(target, cst.Subscript):
            self._mutate(target, UNKNOWN)

    def _import(self, node: Union[cst.Import, cst.ImportFrom]) -> None:
        scratch = ModuleInfo(self.module.path, self.module.name, "", self.module.bindings)
        index_import(scratch, node)
        for local, target in scratch.imports.items():
            self.bind(local, self.project_import_value(self.module, target))
        for local in scratch.env_names:
            self.bind(local, Value(("env",), Handle(HandleKind.ENV)))

    def _function_def(self, node: cst.FunctionDef) -> None:
        self.bind(node.name.value, Value(fresh(), callable=LocalFunction(node, self)))

    def _if(self, node: cst.If) -> None:
        outer, self.ordered_reads = self.ordered_reads, []
        test = self.eval(node.test)
        ordered, self.ordered_reads = self.ordered_reads, outer
        known = self.decided(test)
        if known is not None:  # a caller's constant argument picks the branch (`if ttl is None:`)
            if known:
                self.run_suite(node.body)
            else:
                self._run_orelse(node.orelse)
            return
        base = self.flow
        body = self._branch(base, test.reads, self._route_admin(node.test))
        condition = _stable_condition(test)
        if condition is not None:  # the same probe tested again: only paths that passed it before
            body.guards = body.guards + self.passed_conditions.get(condition, ())
        self.flow = body
        self.run_suite(node.body)
        body = self.flow
        if condition is not None and not body.exited:
            self.passed_conditions[condition] = body.guards[len(base.guards):]
        orelse = self._branch(base, test.reads, False)
        self.flow = orelse
        self._run_orelse(node.orelse)
        orelse = self.flow
        if ordered and body.exited != orelse.exited:  # a limit: one side rejects, the other goes on
            self.sink.note_compared(union_reads(ordered))
        if body.exited and not orelse.exited:
            # Code after `if guard: return` runs only when the guard failed: it stays gated.
            self.flow = orelse
            self.flow.admin = base.admin
            self.flow.methods = base.methods
        else:
            self.flow = merge_flows([body, orelse], base)

    def _run_orelse(self, orelse: Union[cst.If, cst.Else, None]) -> None:
        if isinstance(orelse, cst.If):
            self._if(orelse)
        elif isinstance(orelse, cst.Else):
            self.run_suite(orelse.body)

    def _branch(self, base: Flow, guard: FrozenSet[int], admin: bool) -> Flow:
        flow = base.copy()
        if guard:
            flow.guards = base.guards + (guard,)
        flow.admin = base.admin or admin
        return flow

    def _route_admin(self, test: cst.BaseExpression) -> bool:
        paths, methods = route_literals(test)
        self.flow.methods = self.flow.methods + tuple(methods)
        return bool(paths) and self._is_admin_route(paths, self.flow.methods)

    def _while(self, node: cst.While) -> None:
        test = self.eval(node.test)
        base = self.flow
        self.flow = self._branch(base, test.reads, False)
        after = self._loop_body(node.body, base)
        if test.reads:
            after.guards = base.guards + (test.reads,)  # code after the loop runs once the test failed
        self.flow = after
        if node.orelse is not None:
            self.run_suite(node.orelse.body)

    def _for(self, node: cst.For) -> None:
        iterable = self.eval(node.iter)
        self.assign(node.target, iterable.derive(transformed=iterable.transformed))
        base = self.flow
        self.flow = base.copy()
        self.flow = self._loop_body(node.body, base)
        if node.orelse is not None:
            self.run_suite(node.orelse.body)

    def _loop_body(self, body: cst.BaseSuite, base: Flow) -> Flow:
        """Run a loop body once; the code after the loop sees every way out of it (or none taken)."""
        exits: Tuple[Set[int], Set[int]] = (set(), set())
        self.loop_exits.append(exits)
        self.run_suite(body)
        self.loop_exits.pop()
        after = merge_flows([self.flow, base], base)
        after.writes = tuple(sorted(set(after.writes) | exits[0]))
        after.awaits = tuple(sorted(set(after.awaits) | exits[1]))
        after.exited = False
        return after

    def _try(self, node: cst.Try) -> None:
        base = self.flow
        self.flow = base.copy()
        self.run_suite(node.body)
        if node.orelse is not None:
            self.run_suite(node.orelse.body)
        outcomes = [self.flow]
        for handler in node.handlers:
            self.flow = merge_flows([outcomes[0], base], base)
            self.flow.exited = False
            if handler.name is not None:
                self.assign(handler.name.name, opaque())
            self.run_suite(handler.body)
            outcomes.append(self.flow)
        self.flow = merge_flows(outcomes, base)
        if node.finalbody is not None:
            exited = self.flow.exited
            self.flow.exited = False
            self.run_suite(node.finalbody.body)
            self.flow.exited = self.flow.exited or exited

    def _with(self, node: cst.With) -> None:
        for item in node.items:
            value = self.eval(item.item)
            if item.asname is not None:
                self.assign(item.asname.name, value)
        self.run_suite(node.body)

    def _match(self, node: cst.Match) -> None:
        subject = self.eval(node.subject)
        base = self.flow
        outcomes = []
        for case in node.cases:
            paths = pattern_routes(case.pattern)
            self.flow = self._branch(base, subject.reads, bool(paths) and self._is_admin_route(paths, base.methods))
            if case.guard is not None:
                self.eval(case.guard)
            self.run_suite(case.body)
            outcomes.append(self.flow)
        outcomes.append(base.copy())
        self.flow = merge_flows(outcomes, base)

    # ------------------------------------------------------------------ literals

    def literal(self, value: Value) -> Tuple[bool, Any]:
        """(known, what) for a literal value, including a string a caller passed to the summary
        being computed (which then holds only for callers passing the same string)."""
        term = value.term
        if term[0] == "lit":
            return True, term[1]
        if term[0] == "slot":
            return self.sink.use_literal(term[1])
        return False, None

    def truth(self, value: Value) -> Optional[bool]:
        """Whether a literal value is truthy (None: not a literal)."""
        known, what = self.literal(value)
        return bool(what) if known else None

    def decided(self, test: Value) -> Optional[bool]:
        """The outcome of a condition a caller decided: a literal it passed in, or a comparison of
        one with a literal. Module constants and local literals do not decide: code is analysed as
        it may be configured, not as one deployment happens to be."""
        return self.truth(test) if test.via else None

    def _compared(self, node: cst.Comparison, values: Sequence[Value]) -> Optional[bool]:
        """`ttl is None`, `mode == "strict"`: decided when both sides are literals."""
        decide = _DECIDABLE.get(type(node.comparisons[0].operator)) if len(node.comparisons) == 1 else None
        if decide is None:
            return None
        (left_known, left), (right_known, right) = self.literal(values[0]), self.literal(values[1])
        return bool(decide(left, right)) if left_known and right_known else None

    def _storage_effect(self, kind: HandleKind, method: str, args: "Args") -> Optional[str]:
        if kind is HandleKind.STORAGE_SQL:
            known, query = self.literal(args.positional[0]) if args.positional else (False, None)
            text = query if known and isinstance(query, str) else ""
            return "read" if text.lstrip().upper().startswith(("SELECT", "WITH")) else ("write" if text else None)
        return STORAGE_EFFECTS.get(method)

    def _is_admin_route(self, paths: Sequence[RoutePath], methods: Sequence[str]) -> bool:
        self.sink.use_methods()  # the caller's route methods decide (model.summaries)
        return self.project.is_admin_route(paths, methods)

    # ------------------------------------------------------------------ names and assignment

    def bind(self, name: str, value: Value) -> None:
        if value.term[0] == "opaque":
            value = replace(value, term=fresh("var"))
        if name in self.globals_declared:
            key = (self.module.name, name)
            self.sink.set_runtime_global(key, value)
        elif value.promises:
            self.unread[name] = value
        if name in self.nonlocals_declared:
            self._bind_enclosing(name, value)
        self.flow.vars[name] = value

    def _bind_enclosing(self, name: str, value: Value) -> None:
        """`nonlocal name` then `name = value`: the enclosing function's variable changes."""
        scope = self.parent
        while scope is not None and name not in scope.flow.vars:
            scope = scope.parent
        if scope is not None:
            scope.flow.vars[name] = value

    def assign(self, target: cst.BaseExpression, value: Value) -> None:
        if isinstance(target, cst.Name):
            self.bind(target.value, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                inner = element.value.value if isinstance(element, cst.StarredElement) else element.value
                self.assign(inner, value.derive(transformed=value.transformed))
        elif isinstance(target, cst.Attribute):
            base = self.eval(target.value)
            if base.instance is not None:
                base.instance.attrs[target.attr.value] = value
            else:
                self._mutate(target, value)
        elif isinstance(target, cst.Subscript):
            self._mutate(target, value)
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, value)

    def _mutate(self, target: cst.BaseExpression, value: Value) -> None:
        """`data["n"] = v`, `obj.field += 1`: the root variable now holds changed data."""
        root = target
        while isinstance(root, (cst.Subscript, cst.Attribute)):
            if isinstance(root, cst.Subscript):
                for element in root.slice:
                    if isinstance(element.slice, cst.Index):
                        self.eval(element.slice.value)
            root = root.value
        base = self.eval(root)
        self.sink.note_mutated(base.reads)
        if isinstance(root, cst.Name) and base.instance is None and base.handle is None:
            changed = replace(base, reads=union_reads((base.reads, value.reads)), computed=base.computed or value.computed,
                              transformed=True)
            self.flow.vars[root.value] = changed

    def lookup(self, name: str) -> Value:
        scope: Optional[Interpreter] = self
        while scope is not None:
            value = scope.flow.vars.get(name)
            if value is not None:
                scope.unread.pop(name, None)
                return value
            scope = scope.parent
        return self.project_module_value(self.module, name)

    # ------------------------------------------------------------------ module-level values

    def project_module_value(self, module: ModuleInfo, name: str, depth: int = 0) -> Value:
        self.sink.note_module(module.name)
        runtime = self.project.runtime_globals.get((module.name, name))
        if runtime is not None:
            return runtime
        cache = self.project.module_values
        key = (module.name, name)
        if key in cache:
            return cache[key]
        cache[key] = Value(("global", module.name, name))  # guards against cycles while computing
        value = self._compute_module_value(module, name, depth)
        cache[key] = value
        return value

    def _compute_module_value(self, module: ModuleInfo, name: str, depth: int) -> Value:
        if name in module.env_names:
            return Value(("env",), Handle(HandleKind.ENV))
        if name in module.functions:
            return Value(("func", module.name, name), callable=module.functions[name])
        if name in module.classes:
            return Value(("class", module.name, name), callable=module.classes[name])
        if name in module.imports and depth < 10:
            return self.project_import_value(module, module.imports[name], depth + 1)
        expression = module.constant(name)
        if expression is not None:
            scope = Interpreter(self.project, module, None, Context(), Flow({}), budget=[0])
            value = scope.eval(expression)
            if value.term[0] == "opaque" or value.term[0] == "var":
                value = replace(value, term=("global", module.name, name))
            return value
        if name in ("True", "False", "None"):
            return Value(lit({"True": True, "False": False, "None": None}[name]))
        return Value(("ext", name))

    def project_import_value(self, module: ModuleInfo, target: Tuple[str, Optional[str]], depth: int = 0) -> Value:
        source, attr = target
        resolved = self.project.resolve_module(module, source)
        if resolved is None and attr is not None:
            submodule = self.project.resolve_module(module, submodule_name(source, attr))
            if submodule is not None:
                return Value(("module", submodule.name), callable=ModuleRef(submodule))
        if resolved is None:
            if source == "workers" and attr == "env":
                return Value(("env",), Handle(HandleKind.ENV))
            qualified = f"{source}.{attr}" if attr else source
            return Value(("ext", qualified))
        if attr is None:
            return Value(("module", resolved.name), callable=ModuleRef(resolved))
        return self.project_module_value(resolved, attr, depth)

    # ------------------------------------------------------------------ expressions

    def eval(self, node: Optional[cst.BaseExpression], discarded: bool = False) -> Value:
        if node is None:
            return UNKNOWN
        kind = type(node)  # node classes are final: `type` spares isinstance's ABC check (hot)
        if kind is cst.Call:
            return self.call(node, awaited=False, discarded=discarded)
        if kind is cst.Await:
            return self._await(node, discarded)
        handler = _EXPRESSIONS.get(kind)
        if handler is None:
            return opaque()
        return handler(self, node)

    def _await(self, node: cst.Await, discarded: bool) -> Value:
        inner = node.expression
        is_call = isinstance(inner, cst.Call)
        value = self.call(inner, awaited=True, discarded=discarded) if is_call else self.eval(inner)
        if not (is_call and id(inner) in self.project.quiet_calls):
            # Awaiting anything but DO storage opens the input gate (EDG204).
            await_id = self.project.new_op_id()
            self.sink.note_await(await_id, node)
            self.flow.awaits = self.flow.awaits + (await_id,)
        return replace(value, promises=NO_READS) if value.promises else value  # awaited: settled

    def _name(self, node: cst.Name) -> Value:
        return self.lookup(node.value)

    def _attribute(self, node: cst.Attribute) -> Value:
        base = self.eval(node.value)
        return _with_access(self.attribute_of(base, node.attr.value), node)

    def attribute_of(self, base: Value, name: str) -> Value:
        handle = base.handle
        if handle is not None:
            if handle.kind is HandleKind.ENV:
                return self._env_attribute(name)
            if handle.kind is HandleKind.CTX and name == "storage":
                return Value(("storage",), Handle(HandleKind.STORAGE))
            if handle.kind is HandleKind.STORAGE and name in ("sql", "kv"):
                kind = HandleKind.STORAGE_SQL if name == "sql" else HandleKind.STORAGE_KV
                return Value(("storage", name), Handle(kind))
            if handle.kind is HandleKind.STUB and name == "id" and handle.address is not None:
                return self._stub_id(handle, handle.address)
        if base.instance is not None:
            if name in base.instance.attrs:
                return base.instance.attrs[name]
            method = self._method_of(base.instance, name)
            if method is not None:
                return Value(fresh(), callable=BoundMethod(method, base))
            implicit = _implicit_attribute(self.project, base.instance, name)
            if implicit is not None:
                return implicit
        if isinstance(base.callable, ModuleRef):
            return self.project_module_value(base.callable.module, name)
        if isinstance(base.callable, ClassInfo):
            method = self._class_attribute(base, base.callable, name)
            if method is not None:
                return method
        if base.term[0] == "ext":
            return Value(("ext", f"{base.term[1]}.{name}"))
        return base.derive(("attr", base.term, name))

    def _class_attribute(self, class_value: Value, cls: ClassInfo, name: str) -> Optional[Value]:
        """A method taken from the class: `Jar.create` (a classmethod, called with the class as
        `cls`: factory constructors), `Jar.parse` (a staticmethod or a plain function)."""
        for ancestor in self.project.lineage(cls):
            self.sink.note_module(ancestor.module.name)
        method = self.project.method_of(cls, name)
        if method is None:
            return None
        if _decorated(method, "classmethod"):
            return Value(fresh(), callable=BoundMethod(method, class_value))
        return Value(fresh(), callable=method)

    def _env_attribute(self, name: str) -> Value:
        declared = self.module.bindings.get(name)
        term = ("envvar", name)
        if declared is not None and declared.kind is BindingKind.VAR:
            return Value(term)
        return Value(term, Handle(HandleKind.BINDING, name))

    def _method_of(self, instance: Instance, name: str) -> Optional[FunctionInfo]:
        cls = self.project.class_by_key.get(instance.class_key)
        if cls is None:
            return None
        for ancestor in self.project.lineage(cls):  # a base class that gains the method changes the answer
            self.sink.note_module(ancestor.module.name)
        return self.project.method_of(cls, name)

    def _subscript(self, node: cst.Subscript) -> Value:
        base = self.eval(node.value)
        indexes = [self.eval(el.slice.value) for el in node.slice if isinstance(el.slice, cst.Index)]
        if indexes and base.term[0] == "attr" and base.term[2] == "scope" and self.literal(indexes[0]) == (True, "env"):
            return Value(("env",), Handle(HandleKind.ENV))
        index_term = indexes[0].term if len(indexes) == 1 else fresh()
        reads = base.reads.union(*(i.reads for i in indexes))
        return Value(("sub", base.term, index_term), reads=reads, computed=base.computed,
                     transformed=base.transformed, via=union_reads([base.via] + [i.via for i in indexes]))

    def _simple_string(self, node: cst.SimpleString) -> Value:
        try:
            return Value(lit(literal_value(node)))
        except Exception:  # noqa: BLE001 - odd string prefixes are just opaque strings
            return opaque()

    def _number(self, node: Union[cst.Integer, cst.Float, cst.Imaginary]) -> Value:
        try:
            return Value(lit(node.evaluated_value))
        except Exception:  # noqa: BLE001
            return opaque()

    def _formatted_string(self, node: cst.FormattedString) -> Value:
        parts: List[Term] = []
        values: List[Value] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(lit(part.value))
            elif isinstance(part, cst.FormattedStringExpression):
                value = self.eval(part.expression)
                values.append(value)
                parts.append(value.term if part.format_spec is None and part.conversion is None else fresh())
        return combine(tuple(values), concat(tuple(parts)), transformed=False)

    def _concatenated_string(self, node: cst.ConcatenatedString) -> Value:
        left, right = self.eval(node.left), self.eval(node.right)
        return combine((left, right), concat((left.term, right.term)), transformed=False)

    def _binary(self, node: cst.BinaryOperation) -> Value:
        left, right = self.eval(node.left), self.eval(node.right)
        if isinstance(node.operator, cst.Add) and (_is_text(left.term) or _is_text(right.term)):
            term = concat((left.term, right.term))
        else:
            term = ("binop", type(node.operator).__name__, left.term, right.term)
        return combine((left, right), term)

    def _boolean(self, node: cst.BooleanOperation) -> Value:
        left, right = self.eval(node.left), self.eval(node.right)
        value = combine((left, right), transformed=left.transformed or right.transformed)
        return replace(value, handle=left.handle or right.handle, instance=left.instance or right.instance,
                       predicate=left.predicate and right.predicate)

    def _unary(self, node: cst.UnaryOperation) -> Value:
        value = self.eval(node.expression)
        if not isinstance(node.operator, cst.Not):
            return value.derive(("unary", type(node.operator).__name__, value.term))
        known = self.truth(value)
        term = lit(not known) if known is not None else ("unary", "Not", value.term)
        return value.derive(term, predicate=True)

    def _comparison(self, node: cst.Comparison) -> Value:
        values = [self.eval(node.left)] + [self.eval(target.comparator) for target in node.comparisons]
        if self.ordered_reads is not None and any(isinstance(target.operator, ORDERING) for target in node.comparisons):
            if not any(mentions_clock(value.term) for value in values):  # a freshness check is no limit
                self.ordered_reads.append(union_reads(value.reads for value in values))
        known = self._compared(node, values)
        term = lit(known) if known is not None else None
        return replace(combine(tuple(values), term, transformed=False), predicate=True)

    def _if_exp(self, node: cst.IfExp) -> Value:
        test = self.eval(node.test)
        known = self.decided(test)
        if known is not None:
            return self.eval(node.body if known else node.orelse)
        body, orelse = self.eval(node.body), self.eval(node.orelse)
        merged = merge(body, orelse)
        return replace(merged, reads=union_reads((merged.reads, test.reads))) if merged.handle is None else merged

    def _container(self, node: Union[cst.List, cst.Tuple, cst.Set]) -> Value:
        values = tuple(self.eval(el.value) for el in node.elements)
        term = ("tuple", tuple(v.term for v in values)) if isinstance(node, cst.Tuple) else None
        return holding(combine(values, term, transformed=bool(values) and any(v.reads for v in values)), values)

    def _dict(self, node: cst.Dict) -> Value:
        values: List[Value] = []
        entries: Optional[List[Tuple[Term, Term]]] = []
        for element in node.elements:
            value = None
            if isinstance(element, cst.DictElement):
                key = self.eval(element.key)
                value = self.eval(element.value)
                values.extend((key, value))
            else:
                values.append(self.eval(element.value))
            if entries is not None and value is not None and key.term[0] == "lit":
                entries.append((key.term, value.term))
            else:
                entries = None  # `{**base}` or a computed key: no known shape
        term = ("dict", tuple(entries)) if entries is not None else None
        return combine(tuple(values), term, transformed=any(v.reads for v in values))

    def _comprehension(self, node: Union[cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp]) -> Value:
        saved = self.flow
        self.flow = saved.copy()
        values: List[Value] = []
        for_in: Optional[cst.CompFor] = node.for_in
        while for_in is not None:
            iterable = self.eval(for_in.iter)
            values.append(iterable)
            self.assign(for_in.target, iterable.derive())
            values.extend(self.eval(condition.test) for condition in for_in.ifs)
            for_in = for_in.inner_for_in
        if isinstance(node, cst.DictComp):
            items = [self.eval(node.key), self.eval(node.value)]
        else:
            items = [self.eval(node.elt)]
        values.extend(items)
        writes, awaits = self.flow.writes, self.flow.awaits
        self.flow = saved
        self.flow.writes, self.flow.awaits = writes, awaits
        return holding(combine(tuple(values), transformed=any(v.reads for v in values)), items)

    def _lambda(self, node: cst.Lambda) -> Value:
        return Value(fresh(), callable=LocalFunction(node, self))

    def _named(self, node: cst.NamedExpr) -> Value:
        value = self.eval(node.value)
        self.assign(node.target, value)
        return value

    def _yield(self, node: cst.Yield) -> Value:
        if isinstance(node.value, cst.BaseExpression):
            self.eval(node.value)
        return opaque()

    def _constant_name(self, node: cst.Ellipsis) -> Value:
        return Value(lit(...))

    # ------------------------------------------------------------------ calls

    def call(self, node: cst.Call, awaited: bool, discarded: bool) -> Value:
        func = node.func
        if isinstance(func, cst.Attribute):
            base = self.eval(func.value)
            args = self.eval_args(node)
            return self.method_call(node, base, func.attr.value, args, awaited, discarded)
        callee = self.eval(func)
        args = self.eval_args(node)
        return self.invoke_value(node, callee, args, awaited, discarded)

    def eval_args(self, node: cst.Call) -> "Args":
        positional: List[Value] = []
        keywords: Dict[str, Value] = {}
        extra: List[Value] = []
        for arg in node.args:
            value = self.eval(arg.value)
            if value.origin is None:
                value = replace(value, origin=arg.value)
            if arg.keyword is not None:
                keywords[arg.keyword.value] = value
            elif arg.star:
                extra.append(value)
            else:
                positional.append(value)
        return Args(positional, keywords, extra)

    def method_call(self, node: cst.Call, base: Value, method: str, args: "Args", awaited: bool,
                    discarded: bool) -> Value:
        handle = base.handle
        if handle is not None:
            special = _HANDLE_CALLS.get(handle.kind)
            if special is not None:
                return special(self, node, handle, method, args, awaited, discarded)
        if base.instance is not None:
            function = self._method_of(base.instance, method)
            if function is not None:
                return self.inline(node, function, base, args)
            implicit = _implicit_attribute(self.project, base.instance, method)
            if implicit is not None:
                return self.invoke_value(node, implicit, args, awaited, discarded)
        if isinstance(base.callable, ModuleRef):
            callee = self.project_module_value(base.callable.module, method)
            return self.invoke_value(node, callee, args, awaited, discarded)
        if isinstance(base.callable, ClassInfo):
            callee = self._class_attribute(base, base.callable, method)
            if callee is not None:
                return self.invoke_value(node, callee, args, awaited, discarded)
        if base.term[0] == "ext":
            return self.invoke_value(node, Value(("ext", f"{base.term[1]}.{method}")), args, awaited, discarded)
        if base.term[0] == "clock":  # `now.strftime("%Y-%m-%d")`, `now.date()`, `now.isoformat()`
            return Value(_clock_method(base.term, method, args))
        if method in MUTATING_METHODS and base.reads:
            self.sink.note_mutated(base.reads)
            name = node.func.value if isinstance(node.func, cst.Attribute) else None
            if isinstance(name, cst.Name) and name.value in self.flow.vars:
                self.flow.vars[name.value] = replace(base, reads=union_reads((base.reads, args.reads())), transformed=True)
        self._pass_to_unknown(args)
        result = combine((base,) + args.all(), ("call", f".{method}", (base.term,) + tuple(a.term for a in args.all())),
                         transformed=method not in PASSTHROUGH_METHODS)
        if awaited:
            return replace(result, reads=NO_READS, computed=True, term=fresh())
        return result

    def invoke_value(self, node: Optional[cst.Call], callee: Value, args: "Args", awaited: bool, discarded: bool) -> Value:
        target = callee.callable
        if isinstance(target, FunctionInfo):
            return self.inline(node, target, None, args)
        if isinstance(target, BoundMethod):
            return self.inline(node, target.function, target.self_value, args)
        if isinstance(target, LocalFunction):
            return self.inline_local(node, target, args)
        if isinstance(target, ClassInfo):
            return self.construct(node, target, args)
        if isinstance(target, Partial):
            bound = target.args
            merged = Args(bound.positional + args.positional, {**bound.keywords, **args.keywords},
                          bound.extra + args.extra)
            return self.invoke_value(node, target.function, merged, awaited, discarded)
        name = callee.term[1] if callee.term[0] == "ext" else None
        if name == "getattr" and len(args.positional) >= 2:
            return _with_access(self._getattr(args), node)
        if name == "functools.partial" and args.positional:
            rest = Args(args.positional[1:], dict(args.keywords), list(args.extra))
            return replace(opaque(), callable=Partial(args.positional[0], rest))
        if name in CLOCK_FUNCTIONS:
            return Value(("clock", "day") if name.endswith("date.today") else CLOCK)
        if name in PURE_CALLS or (name and name.rsplit(".", 1)[-1] in ("dumps", "loads")):
            short = name if name in PURE_CALLS else "json." + name.rsplit(".", 1)[-1]
            return combine(args.all(), ("call", short, tuple(a.term for a in args.all())),
                           transformed=short not in CONVERSIONS)
        if name in PROBES:
            terms = tuple(arg.term for arg in args.all())
            stable = all(term[0] not in ("opaque", "var") for term in terms)
            return Value(("call", name, terms), predicate=True) if stable else opaque(predicate=True)
        if name in ("super", "print"):
            return opaque()
        if name is not None and name.startswith(RANDOM_MODULES):
            return opaque()  # a fresh marker value
        if name is not None and not args.all():
            # An outside function of nothing: an id generator, a context variable, a lookup. Its
            # result may differ per request, so it names no constant key (prefer a miss to a wrong report).
            return opaque()
        return self._unknown_call(name, args, awaited)

    def _pass_to_unknown(self, args: "Args") -> None:
        """Arguments of a call into code outside the project leave the flow; callbacks probably run."""
        self.escape(args.all())
        for callback in args.all():
            if isinstance(callback.callable, (FunctionInfo, LocalFunction, BoundMethod)):
                self.invoke_value(None, callback, Args([], {}, []), False, False)

    def _unknown_call(self, name: Optional[str], args: "Args", awaited: bool) -> Value:
        self._pass_to_unknown(args)
        terms = tuple(a.term for a in args.all())
        # The same external key builder over the same arguments names the same key.
        term = ("call", name, terms) if name and not awaited and all(t[0] != "opaque" for t in terms) else None
        result = combine(args.all(), term, transformed=True)
        return replace(result, computed=True, reads=NO_READS if awaited else result.reads)

    def _getattr(self, args: "Args") -> Value:
        base, name = args.positional[0], args.positional[1]
        known, text = self.literal(name)
        if not known or not isinstance(text, str):
            return opaque()
        value = self.attribute_of(base, text)
        if value.handle is not None and len(args.positional) >= 3:
            value = replace(value, handle=replace(value.handle, probe=True))
        return value

    # ---- inlining project code

    def inline(self, node: cst.Call, function: FunctionInfo, self_value: Optional[Value], args: "Args") -> Value:
        chain = self.context.chain
        project = self.project
        if function.qualname in chain or project.is_computing(function.qualname):
            project.refuse_inside(function.qualname)  # recursion
            return combine(args.all(), transformed=True)
        if len(chain) + len(project.computing) >= MAX_INLINE_DEPTH or self.budget[0] <= 0:
            project.refuse_inside(None)
            return combine(args.all(), transformed=True)
        self.budget[0] -= 1
        self._mark_inlined(node)
        self.sink.note_module(function.module.name)
        try:
            return self._call_summarized(node, function, self_value, args)
        except summaries.NotSummarizable:
            pass  # interpreted in place, in this caller's scope
        self.sink.note_reached(function.qualname)
        frame = Frame(function.qualname, self.project.new_op_id(), node, self.module, self.part)
        context = self.context.enter(frame, self.project.is_admin_name(function.name))
        callee = Interpreter(self.project, function.module, function, context, self._callee_flow(), budget=self.budget,
                             sink=self.sink)
        callee.bind_parameters(function.parse().params, args, self_value)
        return self._run_callee(callee, function.parse().body)

    def _call_summarized(self, node: Optional[cst.Call], function: FunctionInfo, self_value: Optional[Value],
                         args: "Args") -> Value:
        """Run `function` as its summary for this call's abstract input (computed the first time)."""
        inputs = summaries.Inputs(function, self_value, args, self.sink)
        kept = self.project.summaries
        known = kept.get(inputs.key)
        summary = next((candidate for candidate in known or () if candidate.holds_for(self, inputs)), None)
        if summary is not None:
            kept.move_to_end(inputs.key)  # the least recently used are dropped first
        else:
            summary, reusable = summaries.compute(self, function, inputs, self_value, args)
            if reusable:
                kept.setdefault(inputs.key, []).append(summary)
                if len(kept) > summaries.MAX_KEPT:
                    kept.popitem(last=False)
        return summaries.instantiate(self, summary, inputs, node, function)

    def inline_local(self, node: cst.Call, local: LocalFunction, args: "Args") -> Value:
        closure = local.closure
        name = local.node.name.value if isinstance(local.node, cst.FunctionDef) else "<lambda>"
        qualname = f"{closure.function.qualname if closure.function else closure.module.name}.<locals>.{name}"
        chain = self.context.chain
        # The chain guards recursion of nested functions too (a recursive local helper).
        if qualname in chain or self.budget[0] <= 0 or len(chain) >= MAX_INLINE_DEPTH:
            return combine(args.all(), transformed=True)
        self.budget[0] -= 1
        self._mark_inlined(node)
        frame = Frame(qualname, self.project.new_op_id(), node, self.module, self.part)
        callee = Interpreter(self.project, closure.module, closure.function, self.context.enter(frame, False),
                             self._callee_flow(), parent=closure, budget=self.budget, sink=self.sink)
        callee.self_value = closure.self_value
        callee.bind_parameters(local.node.params, args, None)
        if isinstance(local.node, cst.Lambda):
            value = callee.eval(local.node.body)
            self._absorb(callee)
            return value
        return self._run_callee(callee, local.node.body)

    @staticmethod
    def fresh_budget() -> List[int]:
        """The inlined calls an analysis root (or a summary) may make: bounds pathological call trees."""
        return [INLINE_BUDGET]

    @property
    def part(self) -> int:
        """The first line of the top-level statement this activation's code is in (0: module code)."""
        return self.function.chunk.first if self.function is not None else 0

    def _mark_inlined(self, node: Optional[cst.Call]) -> None:
        """Awaiting a project coroutine is not I/O by itself: only the awaits inside it are."""
        if node is not None:
            self.project.quiet_calls.add(id(node))

    def _callee_flow(self) -> Flow:
        """A callee starts with no variables but inside the caller's guards, flow and route."""
        return Flow({}, self.flow.guards, self.flow.writes, self.flow.awaits, self.flow.admin, self.flow.methods,
                    self.flow.in_block_concurrency)

    def finish(self) -> None:
        """The activation ends: promises kept in variables it never read are dropped."""
        for value in self.unread.values():
            self.drop(value)
        self.unread = {}

    def _run_callee(self, callee: "Interpreter", body: cst.BaseSuite) -> Value:
        callee.run_suite(body)
        callee.finish()
        self._absorb(callee)
        if not callee.returns:
            return Value(lit(None))
        result = callee.returns[0]
        for value in callee.returns[1:]:
            result = merge(result, value)
        return result

    def _absorb(self, callee: "Interpreter") -> None:
        """After a call, the caller's flow has seen what the callee did on any path out of it."""
        finished = callee.flow if not callee.flow.exited else Flow({})
        self.flow.writes = tuple(sorted(set(self.flow.writes) | set(finished.writes) | callee.exit_writes))
        self.flow.awaits = tuple(sorted(set(self.flow.awaits) | set(finished.awaits) | callee.exit_awaits))

    def construct(self, node: cst.Call, cls: ClassInfo, args: "Args") -> Value:
        instance = Instance(cls.key)
        self.sink.note_instance(instance)
        value = Value(fresh(), instance=instance)
        init = self._method_of(instance, "__init__")
        if init is not None:
            passed = passed_arguments(init.parse().params, args, skip_self=True)
            self.sink.note_construction(cls.key, passed)
            self.inline(node, init, value, args)
        return value

    def bind_parameters(self, params: cst.Parameters, args: "Args", self_value: Optional[Value]) -> None:
        ordered = list(params.posonly_params) + list(params.params)
        if self_value is not None and ordered:
            self.self_value = self_value
            self.flow.vars[ordered[0].name.value] = self_value
            ordered = ordered[1:]
        activation = self.context.frames[-1].activation if self.context.frames else 0
        passed = passed_arguments(params, args, skip_self=self_value is not None)
        for param in ordered + list(params.kwonly_params):
            name = param.name.value
            # A default stands for what the caller left out: the caller decides with it too.
            value = passed[name] if name in passed else self._default(param, args)
            self.flow.vars[name] = value.passed_into(activation)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self.flow.vars[star.name.value] = combine(args.all(), transformed=False).passed_into(activation)

    def _default(self, param: cst.Param, args: "Args") -> Value:
        if param.default is not None:
            return self.eval(param.default)
        if args.extra:
            return combine(tuple(args.extra), transformed=False)
        return Value(("param", self.function.qualname if self.function else "", param.name.value))

    # ---- operations on handles

    def new_op(self, node: cst.Call, kind: OpKind, method: str, binding: Optional[str], args: "Args", *,
               key_node=None, key: Optional[Value] = None, value: Optional[Value] = None, awaited: bool = False,
               discarded: bool = False, address: Optional[int] = None, handle: Optional[Handle] = None) -> Operation:
        flow = self.flow
        values = args.all()
        op = Operation(
            id=self.project.new_op_id(), kind=kind, method=method, node=node, module=self.module,
            function=self.function, context=self.context, binding=binding, key=key.term if key else None,
            key_node=key_node, value=value, args=values, awaited=awaited, discarded=discarded,
            guards=flow.guard_reads(), prior_writes=flow.writes, address=address, admin=flow.admin,
            in_block_concurrency=flow.in_block_concurrency, foreign_awaits=flow.awaits,
            access_node=handle.access if handle else None, probe=handle.probe if handle else False,
            key_value=key, keywords=tuple(args.keywords.items()),
        )
        if kind in SINK_KINDS:
            self.escape(values)
        return self.sink.record(op)

    def pending(self, op: Operation, result: Value) -> Value:
        """The result of an async call that is neither awaited nor dropped here: a promise that
        whoever holds it must await (EDG301 when they drop it)."""
        if op.awaited or op.discarded or not op.returns_promise:
            return result
        return replace(result, promises=result.promises | {op.id})

    def drop(self, value: Value) -> None:
        """`value` is thrown away in this activation: the promises it holds are never awaited."""
        activation = self.context.frames[-1].activation if self.context.frames else 0
        for op_id in sorted(value.promises):
            self.sink.note_dropped(op_id, activation)

    def binding_call(self, node: cst.Call, handle: Handle, method: str, args: "Args", awaited: bool,
                     discarded: bool) -> Value:
        binding = handle.binding
        declared = self.module.bindings.get(binding) if binding else None
        kind = declared.kind if declared else None
        first = args.positional[0] if args.positional else None
        if method in DO_ADDRESS_METHODS and kind in (None, BindingKind.DURABLE_OBJECT):
            return self._address(node, handle, method, args, first)
        if method == "jurisdiction":
            return Value(fresh(), handle)
        if method == "get" and (kind is BindingKind.DURABLE_OBJECT or (first is not None and first.handle is not None
                                                                        and first.handle.kind is HandleKind.DO_ID)):
            address = first.handle.address if first is not None and first.handle is not None else None
            op = self.new_op(node, OpKind.DO_STUB, method, binding, args, address=address, handle=handle)
            return Value(fresh(), Handle(HandleKind.STUB, binding, address if address is not None else op.id))
        if method in KV_METHODS and kind in (None, BindingKind.KV):
            return self._kv_call(node, handle, method, args, awaited, discarded)
        self.new_op(node, OpKind.BINDING_CALL, method, binding, args, awaited=awaited,
                    discarded=discarded, handle=handle)
        return opaque(computed=True)

    def _address(self, node: cst.Call, handle: Handle, method: str, args: "Args",
                 first: Optional[Value]) -> Value:
        binding = handle.binding
        key_node = node.args[0].value if node.args else None
        op = self.new_op(node, OpKind.DO_ADDRESS, method, binding, args, key=first, key_node=key_node, handle=handle)
        kind = HandleKind.STUB if method == "getByName" else HandleKind.DO_ID
        reads = first.reads if first else NO_READS
        if method == "newUniqueId":
            reads = reads | {op.id}  # lets EDG203 see whether the new id is ever returned or stored
        return Value(fresh(), Handle(kind, binding, op.id), reads=reads)

    def _stub_id(self, stub: Handle, address: int) -> Value:
        """`stub.id`: the id the stub was made from (returning a new unique id this way keeps it)."""
        made_by = self.sink.find_op(address)
        reads = frozenset({address}) if made_by is not None and made_by.method == "newUniqueId" else NO_READS
        return Value(fresh(), Handle(HandleKind.DO_ID, stub.binding, address), reads=reads)

    def _kv_call(self, node: cst.Call, handle: Handle, method: str, args: "Args", awaited: bool,
                 discarded: bool) -> Value:
        binding = handle.binding
        kind = KV_METHODS[method]
        key = args.positional[0] if args.positional else args.keywords.get("key")
        value = None
        if kind is OpKind.KV_PUT:
            value = args.positional[1] if len(args.positional) > 1 else args.keywords.get("value")
        key_node = node.args[0].value if node.args and node.args[0].keyword is None else None
        op = self.new_op(node, kind, method, binding, args, key=key, key_node=key_node, value=value,
                         awaited=awaited, discarded=discarded, handle=handle)
        position = OPTION_POSITIONS.get(method)
        if position is not None and len(args.positional) > position:
            op.options = args.positional[position]
        if kind in (OpKind.KV_PUT, OpKind.KV_DELETE):
            self.flow.writes = self.flow.writes + (op.id,)
            return self.pending(op, Value(lit(None)))
        if kind is OpKind.KV_LIST:
            return self.pending(op, opaque(computed=True))
        return self.pending(op, Value(fresh("var"), reads=frozenset({op.id})))

    def stub_call(self, node: cst.Call, handle: Handle, method: str, args: "Args", awaited: bool,
                  discarded: bool) -> Value:
        op = self.new_op(node, OpKind.STUB_CALL, method, handle.binding, args, awaited=awaited,
                         discarded=discarded, address=handle.address)
        return self.pending(op, opaque(computed=True))

    def ctx_call(self, node: cst.Call, handle: Handle, method: str, args: "Args", awaited: bool,
                 discarded: bool) -> Value:
        if method == "blockConcurrencyWhile" and args.positional:
            saved = self.flow.in_block_concurrency
            self.flow.in_block_concurrency = True
            result = self.invoke_value(node, args.positional[0], Args([], {}, []), awaited, discarded)
            self.flow.in_block_concurrency = saved
            return result
        if method in ("waitUntil", "wait_until"):
            return UNKNOWN
        return opaque()

    def storage_call(self, node: cst.Call, handle: Handle, method: str, args: "Args", awaited: bool,
                     discarded: bool) -> Value:
        self.project.quiet_calls.add(id(node))
        effect = self._storage_effect(handle.kind, method, args)
        self.sink.note_storage_effect(self.context.chain, effect)
        if method == "transaction" and args.positional:
            return self.invoke_value(node, args.positional[0], Args([opaque()], {}, []), awaited, discarded)
        kind = STORAGE_METHODS.get(method, OpKind.STORAGE_OTHER) if handle.kind is not HandleKind.STORAGE_SQL \
            else OpKind.STORAGE_OTHER
        key = args.positional[0] if args.positional else None
        value = args.positional[1] if kind is OpKind.STORAGE_PUT and len(args.positional) > 1 else None
        op = self.new_op(node, kind, method, handle.kind.value, args, key=key,
                         key_node=node.args[0].value if node.args else None, value=value, awaited=awaited,
                         discarded=discarded)
        if effect == "read":
            return self.pending(op, Value(fresh("var"), reads=frozenset({op.id})))
        return self.pending(op, opaque())


def passed_arguments(params: cst.Parameters, args: "Args", skip_self: bool) -> Dict[str, Value]:
    """The values a call passes for the named parameters it gives (positional or by keyword)."""
    ordered = list(params.posonly_params) + list(params.params)
    if skip_self:
        ordered = ordered[1:]
    passed = {param.name.value: value for param, value in zip(ordered, args.positional)}
    named = {param.name.value for param in ordered[len(args.positional):]} | {p.name.value for p in params.kwonly_params}
    passed.update((name, value) for name, value in args.keywords.items() if name in named)
    return passed


def _with_access(value: Value, node: cst.CSTNode) -> Value:
    """Remember where a binding handle was taken from `env`, for findings about the access."""
    handle = value.handle
    if handle is None or handle.kind is not HandleKind.BINDING or handle.access is not None:
        return value
    return replace(value, handle=replace(handle, access=node))


def _implicit_attribute(project: Project, instance: Instance, name: str) -> Optional[Value]:
    """`self.env` / `self.ctx` on Workers classes, set by the runtime rather than in `__init__`."""
    cls = project.class_by_key.get(instance.class_key)
    if cls is None or not (cls.is_durable_object or cls.is_worker_entrypoint or cls.is_workflow):
        return None
    if name == "env":
        return Value(("env",), Handle(HandleKind.ENV))
    if name in ("ctx", "state"):
        return Value(("ctx",), Handle(HandleKind.CTX))
    if name == "storage" and cls.is_durable_object:
        return Value(("storage",), Handle(HandleKind.STORAGE))
    return None


def _stable_condition(test: Value) -> Optional[Term]:
    """A condition whose answer cannot change between two tests in one activation: a probe of
    what an object is or has (`hasattr(env, "KV")`), not of data."""
    term = test.term
    return term if term[0] == "call" and term[1] in PROBES else None


_DECIDABLE = {cst.Is: lambda a, b: a is b if a is None or b is None else a == b,
              cst.IsNot: lambda a, b: a is not b if a is None or b is None else a != b,
              cst.Equal: lambda a, b: a == b, cst.NotEqual: lambda a, b: a != b}


def _is_text(term: Term) -> bool:
    return (term[0] == "lit" and isinstance(term[1], str)) or term[0] == "fmt"


def route_literals(test: cst.BaseExpression) -> Tuple[List[RoutePath], List[str]]:
    """The routes a condition compares with (string literals that look like URL paths, and path
    segments), and the HTTP methods it compares with."""
    paths: List[RoutePath] = []
    methods: List[str] = []
    stack: List[cst.CSTNode] = [test]
    while stack:
        node = stack.pop()
        kind = type(node)  # node classes are final: `type` spares isinstance's ABC check (hot)
        if kind is cst.SimpleString or kind is cst.ConcatenatedString:
            text = string_value(node)
            if text is None:
                continue
            if "/" in text:
                paths.append(text)
            elif text.upper() in HTTP_METHODS and text.isupper():
                methods.append(text)
            continue
        if kind is cst.Comparison:
            operands = [node.left, *(target.comparator for target in node.comparisons)]
            paths.extend(route for route in map(_segments, operands) if route is not None)
            if any(map(_positional_item, operands)):  # `parts[0] == "admin"`: one segment
                words = [string_value(operand) for operand in operands if isinstance(operand, cst.SimpleString)]
                paths.extend((word,) for word in words if word and "/" not in word)
            stack.extend(operands)
        elif kind is cst.BooleanOperation:
            stack.extend((node.left, node.right))
        elif kind is cst.UnaryOperation:
            stack.append(node.expression)
        elif kind is cst.Call:
            stack.extend(arg.value for arg in node.args)
            stack.append(node.func)
        elif kind is cst.Attribute:
            stack.append(node.value)
        elif kind is cst.Tuple or kind is cst.List or kind is cst.Set:
            stack.extend(el.value for el in node.elements)
    return paths, methods


def _clock_method(clock: Term, method: str, args: "Args") -> Term:
    """The time a method of a clock value gives: cut to the period a strftime format shows, to a
    day by `.date()`, else the same time."""
    fmt = args.positional[0].term if method == "strftime" and args.positional else None
    period = strftime_period(fmt[1]) if fmt is not None and fmt[0] == "lit" and isinstance(fmt[1], str) else None
    if period is None and method == "date":
        period = "day"
    return ("clock", period) if period is not None else clock


def _segments(node: cst.CSTNode) -> Optional[RoutePath]:
    """The segments of a route written as a list or tuple of string literals (`["admin", "flags"]`,
    as `url.path.strip("/").split("/")` gives)."""
    if isinstance(node, (cst.List, cst.Tuple)) and node.elements:
        words = [string_value(element.value) for element in node.elements]
        return tuple(words) if None not in words and not any("/" in word for word in words) else None
    return None


def _positional_item(node: cst.CSTNode) -> bool:
    """`parts[0]`, `segments[-1]`: an item picked by position, as a path segment is."""
    if not isinstance(node, cst.Subscript) or len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return False
    index = node.slice[0].slice.value
    if isinstance(index, cst.UnaryOperation):
        index = index.expression
    return isinstance(index, cst.Integer)


def pattern_routes(pattern: cst.MatchPattern) -> List[RoutePath]:
    """The routes a `case` pattern matches: URL paths, and segments (`case ["admin", "reset"]:`)."""
    found: List[RoutePath] = []
    stack: List[cst.CSTNode] = [pattern]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.MatchList, cst.MatchTuple)):
            words = [string_value(element.value.value) for element in node.patterns
                     if isinstance(element, cst.MatchSequenceElement) and isinstance(element.value, cst.MatchValue)]
            words = [word for word in words if word is not None and "/" not in word]
            if words:
                found.append(tuple(words))
        if isinstance(node, cst.MatchValue):
            text = string_value(node.value)
            if text is not None and "/" in text:
                found.append(text)
        elif isinstance(node, cst.MatchOr):
            stack.extend(el.pattern for el in node.patterns)
        elif isinstance(node, cst.MatchAs) and node.pattern is not None:
            stack.append(node.pattern)
    return found


_STATEMENTS: Dict[type, Callable] = {
    cst.SimpleStatementLine: Interpreter._simple_line,
    cst.SimpleStatementSuite: Interpreter._simple_line,
    cst.Expr: Interpreter._expr,
    cst.Assign: Interpreter._assign,
    cst.AnnAssign: Interpreter._ann_assign,
    cst.AugAssign: Interpreter._aug_assign,
    cst.Return: Interpreter._return,
    cst.Raise: Interpreter._raise,
    cst.Break: Interpreter._exit_loop_iteration,
    cst.Continue: Interpreter._exit_loop_iteration,
    cst.Global: Interpreter._global,
    cst.Nonlocal: Interpreter._nonlocal,
    cst.Assert: Interpreter._assert,
    cst.Del: Interpreter._delete,
    cst.Import: Interpreter._import,
    cst.ImportFrom: Interpreter._import,
    cst.FunctionDef: Interpreter._function_def,
    cst.If: Interpreter._if,
    cst.While: Interpreter._while,
    cst.For: Interpreter._for,
    cst.Try: Interpreter._try,
    cst.With: Interpreter._with,
    cst.Match: Interpreter._match,
}

_EXPRESSIONS: Dict[type, Callable] = {
    cst.Name: Interpreter._name,
    cst.Attribute: Interpreter._attribute,
    cst.Subscript: Interpreter._subscript,
    cst.SimpleString: Interpreter._simple_string,
    cst.Integer: Interpreter._number,
    cst.Float: Interpreter._number,
    cst.Imaginary: Interpreter._number,
    cst.FormattedString: Interpreter._formatted_string,
    cst.ConcatenatedString: Interpreter._concatenated_string,
    cst.BinaryOperation: Interpreter._binary,
    cst.BooleanOperation: Interpreter._boolean,
    cst.UnaryOperation: Interpreter._unary,
    cst.Comparison: Interpreter._comparison,
    cst.IfExp: Interpreter._if_exp,
    cst.List: Interpreter._container,
    cst.Tuple: Interpreter._container,
    cst.Set: Interpreter._container,
    cst.Dict: Interpreter._dict,
    cst.ListComp: Interpreter._comprehension,
    cst.SetComp: Interpreter._comprehension,
    cst.GeneratorExp: Interpreter._comprehension,
    cst.DictComp: Interpreter._comprehension,
    cst.Lambda: Interpreter._lambda,
    cst.NamedExpr: Interpreter._named,
    cst.Yield: Interpreter._yield,
    cst.Ellipsis: Interpreter._constant_name,
}

_HANDLE_CALLS: Dict[HandleKind, Callable] = {
    HandleKind.BINDING: Interpreter.binding_call,
    HandleKind.STUB: Interpreter.stub_call,
    HandleKind.CTX: Interpreter.ctx_call,
    HandleKind.STORAGE: Interpreter.storage_call,
    HandleKind.STORAGE_SQL: Interpreter.storage_call,
    HandleKind.STORAGE_KV: Interpreter.storage_call,
}


# ---------------------------------------------------------------------- roots

ENV_PARAMETER_NAMES = frozenset({"env"})
CTX_PARAMETER_NAMES = frozenset({"ctx", "state"})


def analyse_root(project: Project, function: FunctionInfo, context: Context) -> None:
    """Analyse `function` as the start of a flow (an entry point, or a function without known callers)."""
    frames = (Frame(function.qualname, project.new_op_id()),)
    context = Context(context.path, context.admin or _route_is_admin(project, function), frames)
    project.reached.add(function.qualname)
    interpreter = Interpreter(project, function.module, function, context, Flow({}))
    interpreter.is_root = True
    params = function.parse().params
    ordered = list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
    if function.cls is not None and ordered and not _decorated(function, "staticmethod"):
        interpreter.self_value = default_instance(project, function.cls)
        interpreter.flow.vars[ordered[0].name.value] = interpreter.self_value
        ordered = ordered[1:]
    workers_class = function.cls is not None and (function.cls.is_durable_object or function.cls.is_worker_entrypoint)
    for position, param in enumerate(ordered):
        name = param.name.value
        if function.module.is_test and _receives_doubles(interpreter, function, name):
            interpreter.flow.vars[name] = Value(("param", function.qualname, name))  # a fake, not the env
        else:
            interpreter.flow.vars[name] = _root_parameter(function, name, workers_class, position)
    interpreter.run_suite(function.parse().body)
    interpreter.finish()


def _receives_doubles(interpreter: Interpreter, test: FunctionInfo, name: str) -> bool:
    """Whether pytest hands the test a fixture `name` built of test doubles (its answer depends on
    the test's module and every conftest.py, which the incremental analysis must know)."""
    project = interpreter.project
    for module in project.modules.values():
        if module.path.endswith("conftest.py"):
            interpreter.sink.note_module(module.name)
    return fixture_builds_doubles(project.modules.values(), test.module, name, project.classes_by_name)


def _env_position(function: FunctionInfo) -> Optional[int]:
    """Where the runtime passes `env` to a handler, whatever the parameter is called."""
    if function.cls is None and function.name in ("on_fetch", "on_scheduled", "on_queue"):
        return 1
    if function.cls is not None and function.cls.is_worker_entrypoint and function.name in ("scheduled", "queue"):
        return 1
    return None


def _root_parameter(function: FunctionInfo, name: str, workers_class: bool, position: int = -1) -> Value:
    if name in ENV_PARAMETER_NAMES or position == _env_position(function):
        return Value(("env",), Handle(HandleKind.ENV))
    if name in CTX_PARAMETER_NAMES and (workers_class or function.name == "__init__"):
        return Value(("ctx",), Handle(HandleKind.CTX))
    return Value(("param", function.qualname, name))


def _route_is_admin(project: Project, function: FunctionInfo) -> bool:
    return function.route is not None and project.is_admin_route([function.route[1]], [function.route[0]])


def _decorated(function: FunctionInfo, decorator: str) -> bool:
    """Whether `function` carries `@decorator` (`staticmethod`, `classmethod`)."""
    return any(isinstance(d.decorator, cst.Name) and d.decorator.value == decorator for d in function.parse().decorators)


def _constructed_with(project: Project, cls: ClassInfo, init: FunctionInfo, name: str) -> Optional[Value]:
    """The binding every construction of `cls` by the entry points passes as `name` (`Store(env.JOBS)`),
    for a method no entry point reaches (entry points themselves are analysed before that is known)."""
    binding = project.constructed_binding(cls.key, name)
    if binding is None:
        return None
    return Value(("param", init.qualname, name), Handle(HandleKind(binding[0]), binding[1]))


def default_instance(project: Project, cls: ClassInfo) -> Value:
    """`self` for a method analysed without a caller: attributes as `__init__` sets them."""
    instance = Instance(cls.key)
    value = Value(("self", cls.key), instance=instance)
    init = cls.methods.get("__init__")
    if init is None:
        return value
    cached = project.init_attrs.get(cls.key)
    if cached is None:
        project.init_attrs[cls.key] = {}
        assumed: Dict[str, Any] = {}
        scratch = Interpreter(project, cls.module, init, Context(frames=(Frame(init.qualname, project.new_op_id()),)), Flow({}), budget=[50])
        scratch.self_value = value
        params = list(init.parse().params.posonly_params) + list(init.parse().params.params)
        if params:
            scratch.flow.vars[params[0].name.value] = value
        workers_class = cls.is_durable_object or cls.is_worker_entrypoint
        for param in params[1:] + list(init.parse().params.kwonly_params):
            name = param.name.value
            constructed = _constructed_with(project, cls, init, name)
            assumed[name] = project.constructed_binding(cls.key, name)
            scratch.flow.vars[name] = constructed or _root_parameter(init, name, workers_class)
        saved = project.suppress_recording
        project.suppress_recording = True
        try:
            scratch.run_suite(init.parse().body)
        finally:
            project.suppress_recording = saved
        cached = project.init_attrs[cls.key] = dict(instance.attrs)
        project.init_assumed[cls.key] = assumed
    project.note_constructed_with(cls.key, project.init_assumed.get(cls.key, {}))
    instance.attrs.update(cached)
    return value
