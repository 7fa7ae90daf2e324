"""The routes of every entry point and what one invocation of each does: KV operations, Durable
Object requests (with how the object's name is derived) and, inside objects, storage operations."""
from __future__ import annotations

import ast
import dataclasses
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, Hashable, Iterable, List, Optional, Set, Tuple

import libcst as cst

from edgelint.config import Settings
from edgelint.costmodel.counts import Count, consistent, count_sites
from edgelint.costmodel.sites import Choice, Decision, RouteArm, Site, Sites
from edgelint.findings import Finding
from edgelint.model.operations import KV_KINDS, STORAGE_KINDS, Operation, OpKind, PathKind
from edgelint.model.project import FunctionInfo, Project
from edgelint.model.values import Term, is_constant
from edgelint.rules import ENGINE_CODES

ACTIONS = {OpKind.KV_GET: "read", OpKind.KV_PUT: "write", OpKind.KV_DELETE: "delete", OpKind.KV_LIST: "list",
           OpKind.STUB_CALL: "request", OpKind.STORAGE_GET: "read", OpKind.STORAGE_PUT: "write",
           OpKind.STORAGE_DELETE: "delete"}  # other storage calls: their method (setAlarm, list, exec)
# Names in the computed part of a key that make it fresh on every invocation: ids, tokens, clocks.
FRESH_NAMES = re.compile(r"\b(uuid\w*|token\w*|secrets|random\w*|urandom|nanoid|ulid|nonce|time|time_ns|now|"
                         r"perf_counter|monotonic|request_id|cf[-_]ray)\b", re.I)
Position = Tuple[str, int]  # (path, line)
Chain = Tuple[Position, ...]  # an operation and the calls that lead to it, innermost first


@dataclass(frozen=True)
class Place:
    """Where one operation of a line runs, as plain data: the operation's place and the calls that
    reach it (see `reached`), the same for the call that addressed its object, and the functions
    on its way from the entry point."""

    chain: Chain
    address: Optional[Chain]  # for an object request: where the object was addressed
    helpers: Tuple[str, ...]  # qualified names of the functions between the entry point and it


@dataclass
class Line:
    """One kind of operation on one binding and key, with its count per invocation."""

    product: str  # "kv", "durable_object" (a request to an object) or "storage" (inside an object)
    action: str  # read, write, delete, list, request, other
    binding: str
    key: str  # the key (or the object's name) as written
    key_kind: str  # constant, per-entity, per-request, unique
    count: Count
    target: str = ""  # for an object request: the method called (`ChatRoom.post`), when known
    method: str = ""  # the API called (get, put, getByName, ...)
    places: List[Place] = field(default_factory=list, repr=False)  # of its operations


@dataclass
class Route:
    label: str  # "GET /views/*", or the entry point ("Default.scheduled")
    entry: str  # the entry point's qualified name
    kind: str  # request, admin (every operation on an administrative route), rpc, background, object
    lines: List[Line]
    findings: List[Finding] = field(default_factory=list)
    object_class: str = ""  # for an object method: its class


class ProjectModel:
    """The routes of one analysed project. Once made it holds plain data only (no tree, no
    analysis), so the result cache keeps it beside the check's findings."""

    def __init__(self, project: Project, chain: Callable[[Operation], Chain], settings: Settings):
        self.settings = settings  # those of the project's root: its `model` options
        self.routes: List[Route] = []
        self.unmodelled: List[Finding] = []  # files that did not parse, or whose analysis failed
        builder = _Builder(project, chain)
        for function, kind in project.entry_points():
            self.routes.extend(builder.entry_routes(function, kind))
        self._ranges = builder.function_ranges(self.routes)

    def spelled(self, spell: Callable[[str], str]) -> "ProjectModel":
        """The same routes with every path passed through `spell` (the cache keeps them absolute; a
        run spells paths as its arguments did). Made before findings are attached."""
        def chain(places: Chain) -> Chain:
            return tuple((spell(path), line) for path, line in places)

        copy = object.__new__(ProjectModel)
        copy.settings, copy.unmodelled = self.settings, []
        copy.routes = [dataclasses.replace(route, findings=[], lines=[dataclasses.replace(line, places=[
            Place(chain(place.chain), chain(place.address) if place.address is not None else None, place.helpers)
            for place in line.places]) for line in route.lines]) for route in self.routes]
        copy._ranges = {entry: [(spell(path), first, last) for path, first, last in ranges]
                        for entry, ranges in self._ranges.items()}
        return copy

    def attach(self, findings: Iterable[Finding]) -> None:
        """Put each finding on the routes whose operations it is about, or whose entry point holds it."""
        ranges = self._ranges
        chains = [_route_chains(route) for route in self.routes]
        for finding in findings:
            if finding.code in ENGINE_CODES:
                self.unmodelled.append(finding)
                continue
            subjects = subject_chains(finding)
            for route, (whole, places) in zip(self.routes, chains):
                if (subjects & whole if subjects else (finding.path, finding.line) in places) or any(
                        path == finding.path and start <= finding.line <= end
                        for path, start, end in ranges.get(route.entry, ())):
                    route.findings.append(finding)


class _Builder:
    """Reads the routes off an analysed project."""

    def __init__(self, project: Project, chain: Callable[[Operation], Chain]):
        self.project = project
        self.sites = Sites(project)
        self._chain = chain
        self._chains: Dict[int, Chain] = {}

    def chain_of(self, op: Operation) -> Chain:
        """Where the operation runs and the calls that reach it, as `reached` orders them."""
        if op.id not in self._chains:
            self._chains[op.id] = reached(self._chain(op))
        return self._chains[op.id]

    def place_of(self, op: Operation) -> Place:
        address = self.project.ops_by_id.get(op.address) if op.address is not None else None
        return Place(self.chain_of(op), self.chain_of(address) if address is not None else None,
                     tuple(frame.qualname for frame in op.context.frames[1:]))

    def entry_routes(self, function: FunctionInfo, path: PathKind) -> List[Route]:
        ops = [op for op in self.project.facts.operations if op.context.frames
               and op.context.frames[0].qualname == function.qualname and op.context.path is path
               and (op.kind in KV_KINDS or op.kind in STORAGE_KINDS or op.kind is OpKind.STUB_CALL)]
        sites = {op.id: self.sites.of(op) for op in ops}
        kind = _entry_kind(function, path)
        name = function.qualname.split(":", 1)[-1]
        # In the order the analysis met them: the order of the source.
        arms = list(dict.fromkeys(sites[op.id].route for op in ops if sites[op.id].route is not None))
        object_class = function.cls.name if kind == "object" and function.cls is not None else ""
        if not arms:
            label = f"{function.route[0].upper()} {function.route[1]}" if function.route else name
            return [self._route(label, function, kind, ops, sites, {}, object_class)]
        routes = [self._route(arm.label, function, kind, [op for op in ops if _on_arm(sites[op.id], arm)], sites,
                              dict(arm.choices)) for arm in arms]
        routed: Dict[Decision, Set[Hashable]] = defaultdict(set)  # the arms that select a route
        for arm in arms:
            decision, taken = arm.choices[-1]
            routed[decision].add(taken)
        rest = [op for op in ops if sites[op.id].route is None
                and all(taken not in routed.get(decision, ()) for decision, taken in sites[op.id].choices)]
        if rest:  # known on the other paths: a routing decision with one arm that is no route took it
            others = {decision: self.sites.arms.get(decision, frozenset()) - taken
                      for decision, taken in routed.items()}
            unrouted = {decision: next(iter(arms)) for decision, arms in others.items() if len(arms) == 1}
            routes.append(self._route(f"{name} (other paths)", function, kind, rest, sites, unrouted))
        return routes

    def _route(self, label: str, function: FunctionInfo, kind: str, ops: List[Operation], sites: Dict[int, Site],
               fixed: Dict, object_class: str = "") -> Route:
        administrative = kind == "request" and bool(ops) and all(op.admin or op.context.admin for op in ops)
        return Route(label, function.qualname, "admin" if administrative else kind, self._lines(ops, sites, fixed),
                     object_class=object_class)

    def _lines(self, ops: List[Operation], sites: Dict[int, Site], fixed: Dict) -> List[Line]:
        grouped: Dict[Tuple[str, ...], List[Operation]] = defaultdict(list)
        for op in ops:
            grouped[self._describe(op)].append(op)
        taken: FrozenSet[Choice] = frozenset(fixed.items())
        lines = []
        for (product, action, binding, key, key_kind, target, method), members in grouped.items():
            count = count_sites([sites[op.id] for op in members], self.sites.arms, taken)
            lines.append(Line(product, action, binding, key, key_kind, count, target, method,
                              [self.place_of(op) for op in members]))
        return lines

    def _describe(self, op: Operation) -> Tuple[str, ...]:
        action = op.method if op.kind is OpKind.STORAGE_OTHER else ACTIONS[op.kind]
        if op.kind is OpKind.STUB_CALL:
            address = self.project.ops_by_id.get(op.address) if op.address is not None else None
            cls = self.project.do_class_for(op.binding, op.module)
            target = f"{cls.name}.{op.method}" if cls is not None else op.method
            key, key_kind = _object_name(address)
            return ("durable_object", action, op.binding or "?", key, key_kind, target, op.method)
        product = "kv" if op.kind in KV_KINDS else "storage"
        key = _key_text(op.key_node, op.key)
        key_kind = key_kind_of(op.key, _source(op.key_node) + key) if op.key else ""
        return (product, action, op.binding or "?", key, key_kind, "", op.method)

    def function_ranges(self, routes: List[Route]) -> Dict[str, List[Tuple[str, int, int]]]:
        """Each entry point's own lines: (path, first, last)."""
        ranges: Dict[str, List[Tuple[str, int, int]]] = defaultdict(list)
        routes_per_entry = Counter(route.entry for route in routes)
        entries = {entry for entry, count in routes_per_entry.items() if count == 1}  # a routed entry splits its lines
        for module in self.project.modules.values():
            wanted = {name for name in entries if name.startswith(f"{module.name}:")}
            if not wanted:
                continue
            for qualname, first, last in _definitions(module.text):
                if f"{module.name}:{qualname}" in wanted:
                    ranges[f"{module.name}:{qualname}"].append((module.path, first, last))
        return ranges


def _route_chains(route: Route) -> Tuple[Set[Chain], Set[Position]]:
    """The chains of the route's operations (and of the calls that addressed its objects), and
    every place on them."""
    chains: Set[Chain] = set()
    for line in route.lines:
        for place in line.places:
            chains.add(place.chain)
            if place.address is not None:
                chains.add(place.address)
    return chains, {position for chain in chains for position in chain}


def subject_chains(finding: Finding) -> Set[Chain]:
    """The operations a finding is about, each as the calls that reach it (see `reached`)."""
    return {reached(tuple((path, line) for path, line, _ in chain)) for chain in finding.subjects}


def reached(chain: Chain) -> Chain:
    """An operation's place first, then the places of the calls that reach it in one order
    (a finding's subjects list them in another)."""
    return chain[:1] + tuple(sorted(chain[1:]))


def _on_arm(site: Site, arm: RouteArm) -> bool:
    """An operation belongs to a route when it can run on it and is on no other route."""
    if not consistent(site.choices, dict(arm.choices)):
        return False
    return site.route is None or set(site.route.choices) <= set(arm.choices)


def _entry_kind(function: FunctionInfo, path: PathKind) -> str:
    if function.cls is not None and function.cls.is_durable_object:
        return "object"
    if path is PathKind.BACKGROUND:
        return "background"
    if function.cls is not None and function.cls.is_worker_entrypoint and function.name != "fetch":
        return "rpc"
    return "request"


def _object_name(address: Optional[Operation]) -> Tuple[str, str]:
    """How the object a stub calls is named: the expression and its kind."""
    if address is None or address.kind is not OpKind.DO_ADDRESS:
        return "?", "per-request"
    if address.method == "newUniqueId":
        return "newUniqueId()", "unique"
    key = _key_text(address.key_node, address.key) or "?"
    return key, key_kind_of(address.key, _source(address.key_node) + key) if address.key is not None else "per-request"


def key_kind_of(term: Term, written: str) -> str:
    """constant (the same key on every invocation), per-request (made fresh: a token, a uuid, the
    time, the request's id) or per-entity (derived from the request or from data: one key per
    user, path, item). Only the computed parts of the key count: `f"token:{user}"` is per user."""
    if is_constant(term):
        return "constant"
    return "per-request" if FRESH_NAMES.search(_computed_part(written)) else "per-entity"


def _computed_part(written: str) -> str:
    """What a key expression computes, its literal text left out: the code outside quotes and
    inside the braces of a formatted string."""
    kept: List[str] = []
    quote, depth = "", 0
    for character in written:
        if quote and not depth:
            if character == quote:
                quote = ""
            elif character == "{":
                depth = 1
            continue
        if not quote and character in "\"'":
            quote = character
            kept.append(" ")
            continue
        if depth:
            depth += {"{": 1, "}": -1}.get(character, 0)
            if not depth:
                kept.append(" ")
                continue
        kept.append(character)
    return "".join(kept)


def _key_text(node: Optional[cst.CSTNode], term: Optional[Term]) -> str:
    """The key as written, or what the analysis knows a variable or helper call makes of it
    (`key` -> `f"rl:{...}:{...}"`, `view_key(path)` -> `f"views:{path}"`)."""
    if node is None:
        return ""
    written = _source(node)
    if term is not None and term[0] == "fmt" and not isinstance(node, cst.FormattedString):
        return 'f"' + "".join(str(part[1]) if part[0] == "lit" else f"{{{_part_name(part)}}}" for part in term[1]) + '"'
    return written


def _source(node: Optional[cst.CSTNode]) -> str:
    return cst.Module([]).code_for_node(node) if node is not None else ""


def _part_name(term: Term) -> str:
    """A short name for a computed part of a key: the parameter or attribute it comes from."""
    return term[2] if term[0] in ("param", "attr") and isinstance(term[2], str) else "..."


def _definitions(text: str) -> Iterable[Tuple[str, int, int]]:
    """(qualified name, first line, last line) of the functions and methods of a module."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.lineno, node.end_lineno or node.lineno
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield f"{node.name}.{item.name}", item.lineno, item.end_lineno or item.lineno
