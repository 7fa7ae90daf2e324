"""Patterns over the recorded operations, shared by rules (and by their precedence decisions)."""
from __future__ import annotations

from typing import Callable, Iterator, List, Optional, Set, Tuple

import libcst as cst

from edgelint.model.operations import Operation, OpKind
from edgelint.model.project import CONFIG_WORDS, FunctionInfo, ModuleInfo, Project, identifier_words
from edgelint.model.placement import innermost, landing
from edgelint.model.syntax import contains, gated_by_fetched_response, guarded_by_module_cache, unconditional_calls
from edgelint.model.values import Value, is_constant, literal_parts

Pair = Tuple[Operation, Operation]

WRITE_VERBS = frozenset({"set", "update", "put", "save", "write", "delete", "remove", "toggle", "add", "increment",
                         "incr", "create", "publish", "store", "patch", "post", "reset", "clear", "enable", "disable"})


def kv_ops(project: Project, *kinds: OpKind) -> List[Operation]:
    return [op for op in project.ops(*kinds) if project.is_kv(op)]


def stored_values(op: Operation) -> List[Value]:
    """What a write stores: its value and, for KV, the metadata kept beside it (a counter can live
    in `metadata={"n": n + 1}`)."""
    values = [op.value] if op.value is not None else []
    metadata = op.keyword("metadata")
    return values + [metadata] if metadata is not None else values


def source_reads(project: Project, op: Operation,
                 kind: OpKind = OpKind.KV_GET) -> Iterator[Tuple[Operation, bool]]:
    """Reads (of `kind`, same binding and key) that a value written by `op` derives from, with
    whether that value is the read one changed (transformed, or the read object mutated)."""
    for value in stored_values(op):
        for read_id in sorted(value.reads):
            read = project.ops_by_id.get(read_id)
            if read is not None and read.kind is kind and read.same_key(op):
                yield read, value.transformed or read.id in project.facts.mutated_reads


def read_modify_writes(project: Project, storage: bool = False) -> List[Pair]:
    """(read, write) where a written value is the read value, changed (counter, append, merge).

    KV by default; `storage=True` pairs Durable Object storage gets and puts instead.
    """
    pairs: List[Pair] = []
    writes = project.ops(OpKind.STORAGE_PUT) if storage else kv_ops(project, OpKind.KV_PUT)
    for write in writes:
        changed = {read.id: read for read, modified in source_reads(project, write,
                   OpKind.STORAGE_GET if storage else OpKind.KV_GET) if modified}
        pairs.extend((read, write) for read in changed.values())
    return pairs


def rate_limiter_pairs(project: Project) -> List[Pair]:
    """Read-modify-writes whose read count is also compared with a limit."""
    compared = project.facts.compared_reads
    return [(read, write) for read, write in read_modify_writes(project) if read.id in compared]


def is_marker_write(project: Project, write: Operation, read: Operation) -> bool:
    """A write that records a fact (lock, token, seen-flag), not data refreshed in a cache.

    Cache-aside uses the read value as data (returns or passes it on) and writes computed data;
    a check-then-act only tests the read and writes a marker built from constants and identifiers.
    A delete consumes a token or releases a lock, unless the value read moved to another key.
    """
    if write.kind is OpKind.KV_DELETE:
        return not _moved_elsewhere(project, read)
    value = write.value
    if value is None or read.id in value.reads or value.computed:
        return False
    return read.id not in project.facts.escaped


def _moved_elsewhere(project: Project, read: Operation) -> bool:
    """Whether the value `read` returned is written to another KV key (a migration, a rename)."""
    return any(put.value is not None and read.id in put.value.reads and not put.same_key(read)
               for put in kv_ops(project, OpKind.KV_PUT))


def check_then_act(project: Project) -> List[Pair]:
    """(guard read, write): a KV read gates a write or delete of the same key with a marker value.
    A marker written because an origin answered (a negative cache: `missing:{id}` after a 404) is
    the same whoever writes it: no claim, not check-then-act."""
    pairs: List[Pair] = []
    for write in kv_ops(project, OpKind.KV_PUT, OpKind.KV_DELETE):
        reads = [read for read in guard_reads(project, write) if is_marker_write(project, write, read)]
        if reads and not caches_a_response(project, write):
            pairs.extend((read, write) for read in reads)
    return pairs


def caches_a_response(project: Project, op: Operation) -> bool:
    """`op` runs only under a condition on what an awaited GET `fetch` answered."""
    return _guarded_on_chain(project, op, gated_by_fetched_response)


def cached_per_isolate(project: Project, op: Operation) -> bool:
    """`op` runs only when a module-level cache (kept per isolate, across requests) misses or is stale."""
    return _guarded_on_chain(project, op, guarded_by_module_cache)


def addresses_called_per_isolate(project: Project) -> Set[int]:
    """Addressing calls whose objects are called only when a per-isolate cache misses: not every
    request goes to them."""
    cached: Set[int] = set()
    uncached: Set[int] = set()
    for call in project.ops(OpKind.STUB_CALL):
        address = address_of(project, call)
        if address is not None:
            (cached if cached_per_isolate(project, call) else uncached).add(address.id)
    return cached - uncached


def _guarded_on_chain(project: Project, op: Operation,
                      guarded: Callable[[cst.FunctionDef, cst.CSTNode], bool]) -> bool:
    """Whether `guarded(function, call)` holds for `op` in its function or for the call leading to
    it in a caller on its chain."""
    frames = op.context.frames
    for depth in range(innermost(op) + 1):
        function = project.function_named(frames[depth].qualname) if frames else op.function
        if function is not None and guarded(function.parse(), landing(op, depth).node):
            return True
    return False


def guard_reads(project: Project, op: Operation, kind: OpKind = OpKind.KV_GET) -> Iterator[Operation]:
    """Reads (of `kind`, same binding and key) whose result gates `op`, early-return guards included."""
    for read_id in sorted(op.guards):
        read = project.ops_by_id.get(read_id)
        if read is not None and read.kind is kind and read.same_key(op):
            yield read


def read_after_writes(project: Project) -> List[Pair]:
    """(write, read): a key read after being written earlier in the same flow, result used."""
    pairs: List[Pair] = []
    for read in kv_ops(project, OpKind.KV_GET):
        if read.discarded:
            continue  # the result is dropped: nothing relies on it
        for write_id in read.prior_writes:
            write = project.ops_by_id.get(write_id)
            if write is not None and write.kind is OpKind.KV_PUT and write.same_key(read):
                pairs.append((write, read))
                break
    return pairs


def in_test_file(project: Project, op: Operation) -> bool:
    """The operation sits in a test file, or runs in a flow that a test started (a test calling a handler)."""
    if op.module.is_test:
        return True
    root = project.function_named(op.context.chain[0]) if op.context.chain else None
    return root is not None and root.module.is_test


# The calls that address one Durable Object by a name or id the code chooses (not newUniqueId).
CHOSEN_ADDRESSES = ("idFromName", "getByName", "idFromString")


def constant_addresses(project: Project) -> List[Operation]:
    """idFromName/getByName/idFromString calls whose name or id is constant."""
    return [
        op for op in project.ops(OpKind.DO_ADDRESS)
        if op.method in CHOSEN_ADDRESSES and op.key is not None and is_constant(op.key)
    ]


def address_of(project: Project, op: Operation) -> Optional[Operation]:
    address = project.ops_by_id.get(op.address) if op.address is not None else None
    return address if address is not None and address.kind is OpKind.DO_ADDRESS else None


def config_reads_from_singletons(project: Project) -> List[Operation]:
    """Stub calls on the request path that read config-like data from a constant-named object."""
    found: List[Operation] = []
    for call in project.ops(OpKind.STUB_CALL):
        address = address_of(project, call)
        if address is None or address.method not in CHOSEN_ADDRESSES or address.key is None:
            continue
        if not is_constant(address.key) or not call.on_request_path or call.module.is_test:
            continue
        if cached_per_isolate(project, call):
            continue  # read once per isolate and interval, not on every request
        if _reads_config(project, call):
            found.append(call)
    return found


def _reads_config(project: Project, call: Operation) -> bool:
    cls = project.do_class_for(call.binding, call.module)
    if call.method == "fetch":
        route_words: Set[str] = set()
        for arg in call.args[:1]:
            for part in literal_parts(arg.term):
                route_words.update(identifier_words(part))
        if route_words & CONFIG_WORDS:
            return True
    if cls is not None:
        effects = project.storage_effect(cls, call.method, call)
        if effects:
            return effects == {"read"}
    words = identifier_words(call.method)
    return bool(words) and bool(set(words) & CONFIG_WORDS) and words[0] not in WRITE_VERBS


def in_durable_object(project: Project, op: Operation) -> bool:
    """`op` runs inside a Durable Object: in one of its methods, or in a helper one of them called."""
    if op.function is not None and op.function.cls is not None and op.function.cls.is_durable_object:
        return True
    functions = (project.function_named(qualname) for qualname in op.context.chain)
    return any(f is not None and f.cls is not None and f.cls.is_durable_object for f in functions)


def unconditional_method_calls(project: Project, function: FunctionInfo,
                               depth: int = 0) -> Iterator[Tuple[FunctionInfo, cst.Call]]:
    """Calls a method makes on every run, following the `self.helper()` calls it makes on every run."""
    for call in unconditional_calls(function.parse().body):
        yield function, call
        helper = _self_method(project, function, call)
        if helper is not None and helper is not function and depth < 3:
            yield from unconditional_method_calls(project, helper, depth + 1)


def _self_method(project: Project, function: FunctionInfo, call: cst.Call) -> Optional[FunctionInfo]:
    params = function.parse().params.params
    func = call.func
    if function.cls is None or not params or not isinstance(func, cst.Attribute):
        return None
    if not (isinstance(func.value, cst.Name) and func.value.value == params[0].name.value):
        return None
    return project.method_of(function.cls, func.attr.value)


def module_containing(project: Project, node: cst.CSTNode, first: ModuleInfo) -> Optional[ModuleInfo]:
    """The module whose tree holds `node` (`first` is tried first: usually the operation's own).
    A binding taken from `env` in one module may be used by a wrapper in another."""
    others = [module for module in project.modules.values() if module is not first]
    return next((module for module in [first] + others if contains(module.tree, node)), None)
