"""The project model: modules, their functions and classes, entry points, and the analysis driver.

Each module is outlined by Python's `ast` and its statements parsed by libcst once, up front or
when the analysis first needs them (`model.chunks`); `index_module` reads only its top level and
class bodies. The interpreter then runs every entry point with the request/background context,
inlining calls into the project's own functions, and every other function that can involve a
binding on its own, recording operations.
"""
from __future__ import annotations

import ast
import itertools
import os
import re
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import (
    Any,
    Callable,
    Deque,
    Dict,
    FrozenSet,
    Generic,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Set,
    Tuple,
    TypeVar,
    Union,
)

import libcst as cst

from edgelint.discovery import is_relevant
from edgelint.lazy import LazyValues
from edgelint.model import DEFAULT_ADMIN_WORDS, SLOTS
from edgelint.model.bindings import BindingKind, BindingTable, WranglerConfig
from edgelint.model.inference import infer_binding_kinds
from edgelint.model.chunks import Chunk, bound_names, is_whole
from edgelint.model.literals import dotted_name
from edgelint.model.outline import CLASS, CODE, FUNCTION, WRITE_METHODS, Import, Route, route_of
from edgelint.model.operations import Operation, OpKind, PathKind
from edgelint.model.parsing import parse_module
from edgelint.model.values import Handle, HandleKind, Value, merge
from edgelint.textio import StoredText, contains, expand

Item = TypeVar("Item")

# Entry-point method names by kind of class.
BACKGROUND_HANDLERS = frozenset({"scheduled", "queue", "on_scheduled", "on_queue", "alarm", "on_alarm"})
# Route words that make a write an administrative config change (rules.md), and the wider set of
# words that name shared configuration in DO methods and routes (EDG202).
ADMIN_CONFIG_WORDS = frozenset({"config", "settings", "flags"})
CONFIG_WORDS = ADMIN_CONFIG_WORDS | {"configuration", "setting", "flag", "features"}
MAX_CONSTANT_SIZE = 20_000  # characters (or UTF-8 bytes) of a module-level `NAME = value` worth parsing
RoutePath = Union[str, Tuple[str, ...]]  # a URL path, or its segments


@dataclass(eq=False, **SLOTS)
class FunctionInfo:
    """A function or method of the project, as the index knows it."""

    module: "ModuleInfo"
    qualname: str
    name: str
    chunk: Chunk  # the top-level statement that defines it (a method: its class)
    cls: Optional["ClassInfo"] = None
    route: Optional[Tuple[str, str]] = None  # (method, path) from a route decorator
    parsed: Optional[cst.FunctionDef] = None  # None until its chunk is parsed

    def parse(self) -> cst.FunctionDef:
        """Its node: its top-level statement is parsed now if it was not yet (model.chunks)."""
        return _parsed(self)

    def forget_parsed(self) -> None:
        self.parsed = None


@dataclass(eq=False, **SLOTS)
class ClassInfo:
    """A class of the project, as the index knows it."""

    module: "ModuleInfo"
    name: str
    bases: Tuple[str, ...]
    chunk: Chunk
    parsed: Optional[cst.ClassDef] = None  # None until its chunk is parsed
    outlined: Tuple[Tuple[str, Optional[Route]], ...] = ()  # its functions as the outline saw them
    inherited: Tuple[str, ...] = ()  # bases of its project base classes, set by Project
    _methods: Optional[Dict[str, FunctionInfo]] = None
    key: str = ""  # `module.Class`, one string for every object of the class (Instance.class_key)

    def __post_init__(self) -> None:
        self.key = f"{self.module.name}.{self.name}"

    def parse(self) -> cst.ClassDef:
        """Its node: its statement is parsed now if it was not yet (model.chunks)."""
        return _parsed(self)

    def forget_parsed(self) -> None:
        self.parsed = None
        for method in (self._methods or {}).values():
            method.forget_parsed()

    @property
    def methods(self) -> Dict[str, FunctionInfo]:
        """Its functions by name, known before the class is parsed (their nodes are parsed when
        asked for); made when first asked for (most classes of a big project never are)."""
        if self._methods is None:
            self._methods = {name: FunctionInfo(self.module, f"{self.module.name}:{self.name}.{name}", name,
                                                self.chunk, self, route) for name, route in self.outlined}
        return self._methods

    def derives_from(self, name: str) -> bool:
        return name in self.bases or name in self.inherited

    @property
    def is_durable_object(self) -> bool:
        return self.derives_from("DurableObject")

    @property
    def is_worker_entrypoint(self) -> bool:
        return self.derives_from("WorkerEntrypoint")

    @property
    def is_workflow(self) -> bool:
        return self.derives_from("WorkflowEntrypoint")

    @property
    def is_entry_class(self) -> bool:
        return self.is_workflow or self.is_worker_entrypoint or self.is_durable_object


@dataclass(eq=False)
class ModuleInfo:
    """A module of the project: its text, what it defines and imports, its chunks."""

    path: str
    name: str  # dotted module name relative to the project root
    source: StoredText  # its text, in the form that takes the least memory (textio.compact)
    bindings: BindingTable
    chunks: List[Chunk] = field(default_factory=list)  # its top-level statements, see model.chunks
    is_test: bool = False
    deployed_by: Tuple[WranglerConfig, ...] = ()  # the wrangler configs that deploy it (model.deployment)
    functions: Dict[str, FunctionInfo] = field(default_factory=dict)
    classes: Dict[str, ClassInfo] = field(default_factory=dict)
    imports: Dict[str, Tuple[str, Optional[str]]] = field(default_factory=dict)  # alias -> (module, attr)
    constants: Dict[str, Union[cst.BaseExpression, Chunk]] = field(default_factory=dict)  # see constant()
    env_names: Set[str] = field(default_factory=set)  # `from workers import env`
    chunk_errors: List[Tuple[Chunk, BaseException]] = field(default_factory=list)  # chunks libcst refused
    _tree: Optional[cst.Module] = None

    @property
    def text(self) -> str:
        return expand(self.source)

    def mentions_text(self, needle: str) -> bool:
        """Whether `needle` occurs anywhere in the module's text, comments included."""
        return contains(self.source, needle)

    def is_package_init(self) -> bool:
        # os.path, not PurePath: asked for every import of every module of a project.
        return os.path.basename(self.path) == "__init__.py"

    @property
    def tree(self) -> cst.Module:
        """The parsed part of the module as one tree (for code generation and searches)."""
        parsed = [chunk.tree for chunk in self.chunks if chunk.tree is not None]
        if is_whole(self.chunks) and parsed:
            return parsed[0]
        if self._tree is None or len(self._tree.body) != sum(len(tree.body) for tree in parsed):
            style = next((chunk.tree for chunk in self.chunks if chunk.tree is not None and chunk.kind != CODE), None)
            style = style or (parsed[0] if parsed else cst.Module(body=[]))
            self._tree = style.with_changes(body=[statement for tree in parsed for statement in tree.body],
                                            header=[], footer=[])
        return self._tree

    def constant(self, name: str) -> Optional[cst.BaseExpression]:
        """The value a module-level `name = ...` assigns (the first one); its statement is parsed
        now if it was left for later."""
        value = self.constants.get(name)
        if isinstance(value, Chunk):
            if value.end - value.start > MAX_CONSTANT_SIZE:
                value = None  # a data table: no key, name or TTL is in there, and libcst would take seconds
            else:
                self.parse_chunk(value)
                value = _assigned_value(value.tree) if value.tree is not None else None
            self.constants[name] = value
        return value

    def parse_chunk(self, chunk: Chunk) -> None:
        """Parse a chunk (once), and fill in the function or class it defines."""
        if chunk.tree is None and not chunk.failed:
            try:
                calls: List[cst.Call] = []
                chunk.tree = parse_module(chunk.text, calls)
                chunk.calls = tuple(calls)  # a tuple takes less than the list it was built in
            except (RecursionError, MemoryError, Exception) as exc:  # noqa: BLE001 - reported by the engine
                chunk.failed = True
                self.chunk_errors.append((chunk, exc))
        statement = chunk.tree.body[0] if chunk.tree is not None and len(chunk.tree.body) == 1 else None
        owner = chunk.owner
        if owner is None or owner.parsed is not None:
            return
        if isinstance(owner, FunctionInfo):
            owner.parsed = statement if isinstance(statement, cst.FunctionDef) else _empty_function(owner.name)
        elif isinstance(owner, ClassInfo):
            owner.parsed = statement if isinstance(statement, cst.ClassDef) else _empty_class(owner.name)
            _index_class_body(self, owner)

    def forget_parsed(self) -> None:
        """Let go of the trees of the functions and classes parsed when the analysis entered them:
        what enters them next parses them again (`Project.forget_parsed`). Trees parsed up front
        stay (the index holds nodes of them), and so do constants (`constants` holds their value,
        which a finding may report: small)."""
        for chunk in self.chunks:
            if chunk.eager or chunk.tree is None or chunk.owner is None:
                continue
            chunk.tree = chunk.calls = None
            chunk.owner.forget_parsed()
        self._tree = None


def _parsed(info: Union[FunctionInfo, ClassInfo]) -> Any:
    """The node of a function or class, parsed now if its chunk was left for later."""
    if info.parsed is None:
        info.module.parse_chunk(info.chunk)
    return info.parsed


def _assigned_value(tree: cst.Module) -> Optional[cst.BaseExpression]:
    line = tree.body[0] if len(tree.body) == 1 else None
    small = line.body[0] if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 else None
    return small.value if isinstance(small, (cst.Assign, cst.AnnAssign)) else None


def _empty_function(name: str) -> cst.FunctionDef:
    """Stands for a function libcst could not parse (reported as unsupported syntax)."""
    return cst.FunctionDef(cst.Name(name), cst.Parameters(), cst.SimpleStatementSuite([cst.Pass()]))


def _empty_class(name: str) -> cst.ClassDef:
    return cst.ClassDef(cst.Name(name), cst.SimpleStatementSuite([cst.Pass()]))


def is_test_path(path: str) -> bool:
    pure = PurePath(path)
    name = pure.name
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
        or any(part in ("tests", "test") for part in pure.parts[:-1])
    )


def identifier_words(name: str) -> List[str]:
    """`handle_admin` -> [handle, admin]; `publishPost` -> [publish, post]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [word.lower() for word in re.split(r"[\s_\-./:{}]+", spaced) if word]


# --------------------------------------------------------------------------------------------
# Indexing: one pass over the top level and class bodies.


def index_module(module: ModuleInfo, imports: Iterable[Tuple[int, Import]] = ()) -> None:
    """Parse the chunks the outline wants up front and index the module's top level, with the
    `imports` the outline read (line, import), in source order: the last binding of a name wins."""
    outline_imports = deque(imports)
    for chunk in module.chunks:
        _add_outline_imports(module, outline_imports, chunk.first)
        if chunk.eager:
            module.parse_chunk(chunk)
        if chunk.tree is not None:
            for statement in chunk.tree.body:
                _index_statement(module, statement, None, chunk)
        elif chunk.kind == FUNCTION:
            route = chunk.outline.route if chunk.outline is not None else None
            chunk.owner = module.functions[chunk.name] = FunctionInfo(
                module, f"{module.name}:{chunk.name}", chunk.name, chunk, route=route)
        elif chunk.kind == CLASS:
            chunk.owner = module.classes[chunk.name] = _outlined_class(module, chunk)
        elif chunk.name:  # a constant, parsed when its value is asked for
            module.constants.setdefault(chunk.name, chunk)
        chunk.outline = None  # what the index needed of it is indexed
    _add_outline_imports(module, outline_imports, None)


Clues = Tuple[Tuple[bool, FrozenSet[str]], ...]  # per chunk: has a binding needle, top-level names it mentions
NO_NAMES: FrozenSet[str] = frozenset()  # one shared empty set (CPython builds a new one per call)


def clues_of(module: ModuleInfo) -> Clues:
    """What decides, in a module's statements, whether they can involve bindings (Project._mark_relevance)."""
    names, whole = tuple(module.bindings.bindings), is_whole(module.chunks)
    top_level = _top_level_names(module)
    clues = []
    for chunk in module.chunks:
        relevant = whole or is_relevant(chunk.text, names)
        mentioned = frozenset(chunk.mentions_of(top_level)) if not relevant else NO_NAMES
        clues.append((relevant, mentioned or NO_NAMES))
    return tuple(clues)


def _top_level_names(module: ModuleInfo) -> Set[str]:
    """Every name the module defines or imports at its top level."""
    names = set(module.functions) | set(module.classes) | set(module.imports) | set(module.constants)
    names.update(module.env_names)
    for chunk in module.chunks:
        names.update(bound_names(chunk.tree) if chunk.kind == CODE and chunk.tree is not None else (chunk.name,))
    names.discard("")
    return names


def _outlined_class(module: ModuleInfo, chunk: Chunk) -> ClassInfo:
    """A class as the outline describes it: bases and methods known, nothing parsed yet."""
    shape = chunk.outline
    return ClassInfo(module, chunk.name, shape.bases if shape else (), chunk, outlined=shape.methods if shape else ())


def _add_outline_imports(module: ModuleInfo, imports: Deque[Tuple[int, Import]], before: Optional[int]) -> None:
    """Index the outline's imports above line `before` (all of them for None)."""
    while imports and (before is None or imports[0][0] < before):
        _, (local, source, attr) = imports.popleft()
        _add_import(module, local, source, attr)


def _index_statement(module: ModuleInfo, statement: cst.CSTNode, cls: Optional[ClassInfo], chunk: Chunk) -> None:
    if isinstance(statement, cst.FunctionDef):
        _index_function(module, statement, cls, chunk)
    elif isinstance(statement, cst.ClassDef) and cls is None:
        _index_class(module, statement, chunk)
    elif isinstance(statement, cst.SimpleStatementLine) and cls is None:
        for small in statement.body:
            if isinstance(small, (cst.Import, cst.ImportFrom)):
                index_import(module, small)
            elif isinstance(small, cst.Assign) and len(small.targets) == 1:
                target = small.targets[0].target
                if isinstance(target, cst.Name):
                    module.constants.setdefault(target.value, small.value)
            elif isinstance(small, cst.AnnAssign) and small.value is not None and isinstance(small.target, cst.Name):
                module.constants.setdefault(small.target.value, small.value)
    elif isinstance(statement, (cst.If, cst.Try)) and cls is None:
        # `try: from x import y except ImportError: ...` and `if TYPE_CHECKING:` blocks.
        for inner in _nested_blocks(statement):
            _index_statement(module, inner, None, chunk)


def _nested_blocks(statement: cst.CSTNode) -> Iterable[cst.CSTNode]:
    body = getattr(statement, "body", None)
    if isinstance(body, cst.IndentedBlock):
        yield from body.body
    for handler in getattr(statement, "handlers", ()):
        if isinstance(handler.body, cst.IndentedBlock):
            yield from handler.body.body


def _index_function(module: ModuleInfo, node: cst.FunctionDef, cls: Optional[ClassInfo], chunk: Chunk) -> None:
    name = node.name.value
    outlined = cls.methods.get(name) if cls is not None else None
    if outlined is not None and outlined.parsed is None:  # known from the outline: its node now
        outlined.parsed = node
        return
    qualname = f"{cls.name}.{name}" if cls else name
    info = FunctionInfo(module, f"{module.name}:{qualname}", name, chunk, cls, _route_of(node), node)
    if cls is not None:
        cls.methods[name] = info
    else:
        module.functions[name] = info


def _route_of(node: cst.FunctionDef) -> Optional[Route]:
    """The route of a function libcst parsed as part of a whole module (`ast` could not: rare):
    each decorator read again by `ast`, as the outline reads them."""
    decorators = []
    for decorator in node.decorators:
        try:
            decorators.append(ast.parse(cst.Module([]).code_for_node(decorator.decorator), mode="eval").body)
        except (SyntaxError, ValueError, RecursionError):
            continue
    return route_of(decorators)


def _index_class(module: ModuleInfo, node: cst.ClassDef, chunk: Chunk) -> None:
    bases = tuple(name.rsplit(".", 1)[-1] for name in (dotted_name(arg.value) for arg in node.bases) if name)
    info = ClassInfo(module, node.name.value, bases, chunk, node)
    module.classes[info.name] = info
    _index_class_body(module, info)


def _index_class_body(module: ModuleInfo, cls: ClassInfo) -> None:
    """Attach the parsed methods of `cls` (the last definition of a name wins, as in Python)."""
    body = cls.parse().body
    statements = list(body.body) if isinstance(body, cst.IndentedBlock) else []
    last = {statement.name.value: statement for statement in statements if isinstance(statement, cst.FunctionDef)}
    for statement in last.values():
        _index_statement(module, statement, cls, cls.chunk)
    for name, method in cls.methods.items():
        if method.parsed is None:  # the outline saw it, libcst did not: unsupported syntax
            method.parsed = _empty_function(name)


def index_import(module: ModuleInfo, node: cst.CSTNode) -> None:
    if isinstance(node, cst.Import):
        for alias in node.names:
            full = dotted_name(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                _add_import(module, alias.asname.name.value, full, None)
            else:
                head = full.split(".", 1)[0]
                _add_import(module, head, head, None)
        return
    assert isinstance(node, cst.ImportFrom)
    source = ("." * len(node.relative)) + (dotted_name(node.module) or "" if node.module else "")
    if isinstance(node.names, cst.ImportStar):
        return
    for alias in node.names:
        name = dotted_name(alias.name) or ""
        local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
        _add_import(module, local, source, name)


def _add_import(module: ModuleInfo, local: str, source: str, attr: Optional[str]) -> None:
    module.imports[local] = (source, attr)
    if source == "workers" and attr == "env":
        module.env_names.add(local)


def absolute_import(importer: ModuleInfo, source: str) -> str:
    """`..util` imported from `pkg.sub.mod` -> `pkg.util`."""
    return absolute_name(importer.name, importer.is_package_init(), source)


def absolute_name(importer: str, is_package: bool, source: str) -> str:
    """`absolute_import` for the module called `importer` (a package's `__init__` when `is_package`)."""
    if not source.startswith("."):
        return source
    level = len(source) - len(source.lstrip("."))
    parts = importer.split(".")
    package = parts if is_package and parts[-1] != "__init__" else parts[:-1]  # `pkg.__init__` is package `pkg`
    base = package[: len(package) - (level - 1)] if level > 1 else package
    rest = source.lstrip(".")
    return ".".join(base + ([rest] if rest else []))


def submodule_name(source: str, attr: str) -> str:
    """The module `from source import attr` names when `attr` is a module."""
    return source + attr if source.endswith(".") else f"{source}.{attr}"


class ModuleIndex(Generic[Item]):
    """Project modules by dotted name, grouped by last component, so that resolving an import
    looks at the few names that can match (`lookup_module_name` alone scans every name for a
    suffix: quadratic in the size of a project)."""

    def __init__(self, items: Mapping[str, Item]):
        self.groups: Dict[str, Dict[str, Item]] = {}
        for name, item in items.items():
            parts = name.split(".")
            # `pkg.__init__` answers both `pkg` and `...__init__`.
            for key in {parts[-1], parts[-2] if len(parts) > 1 and parts[-1] == "__init__" else parts[-1]}:
                self.groups.setdefault(key, {})[name] = item
        self._found: Dict[str, Optional[Item]] = {}  # every module imports much the same names

    def get(self, dotted: str) -> Optional[Item]:
        try:
            return self._found[dotted]
        except KeyError:
            group = self.groups.get(dotted.rsplit(".", 1)[-1], {})
            found = lookup_module_name(group, dotted)
            item = self._found[dotted] = group[found] if found is not None else None
            return item


def lookup_module_name(names: Mapping[str, object], dotted: str) -> Optional[str]:
    """The project module called `dotted`, allowing for a source root (`src.helpers` for `helpers`)."""
    if not dotted:
        return None
    for name in (dotted, dotted + ".__init__"):
        if name in names:
            return name
    suffix = "." + dotted
    matches = [name for name in names if name.endswith(suffix) or name.endswith(suffix + ".__init__")]
    return matches[0] if len(matches) == 1 else None


# --------------------------------------------------------------------------------------------
# The project


RootKey = Tuple[str, str]  # (qualname of the function, path kind): one analysis root


def _never() -> bool:
    return False


def class_root(key: str) -> RootKey:
    """The key under which findings about a class (its `ClassInfo.key`) as a whole, not a flow
    through it, are kept."""
    return (key, "class")


@dataclass(eq=False, **SLOTS)
class RootRun:
    """One analysis root: what its analysis read and what it learnt (the cache keeps this, so a
    later run redoes only the roots whose modules changed)."""

    key: RootKey
    function: "FunctionInfo"
    modules: Set[str] = field(default_factory=set)  # names of the modules its analysis read
    operations: List[Operation] = field(default_factory=list)
    reached: Set[str] = field(default_factory=set)
    # Rarely written: None until they are (a project has thousands of roots).
    constructions: Optional[List[Tuple[str, Dict[str, Value]]]] = None
    storage_effects: Optional[Dict[str, Set[str]]] = None
    constructed_with: Optional[Dict[Tuple[str, str], Any]] = None  # what `Store(env.X)` it assumed
    errors: Optional[List[str]] = None  # internal errors, one line each
    evidence: Dict[str, BindingKind] = field(default_factory=dict)  # what its operations tell of binding kinds

    def end(self) -> None:
        """The root ran: what its operations tell of binding kinds is kept, not the list of them."""
        self.evidence = infer_binding_kinds(self.operations)
        self.operations = []


Binding = Optional[Tuple[str, Optional[str]]]  # a handle as plain data: (kind, binding name), None: no handle


def binding_of(value: Value) -> Binding:
    return (value.handle.kind.value, value.handle.binding) if value.handle is not None else None


@dataclass(frozen=True)
class RootMemory:
    """What a root learnt, as plain data: kept by the cache, replayed instead of running the root
    again while its modules are unchanged and what it assumed of other roots still holds."""

    modules: FrozenSet[str]
    reached: FrozenSet[str]
    constructions: Tuple[Tuple[str, Tuple[Tuple[str, Binding], ...]], ...]
    storage_effects: Tuple[Tuple[str, Tuple[str, ...]], ...]
    evidence: Tuple[Tuple[str, str], ...]  # undeclared binding -> kind its operations show
    assumed: Tuple[Tuple[Tuple[str, str], Binding], ...]  # (class, parameter) -> what constructs it
    consults: Tuple[Tuple[Tuple[str, str], Any], ...]  # facts its findings asked of other roots
    errors: Tuple[Tuple[str, str], ...]  # internal errors: (path, message)

    @classmethod
    def of(cls, run: RootRun, project: "Project") -> "RootMemory":
        return cls(
            frozenset(run.modules), frozenset(run.reached),
            tuple((key, tuple((name, binding_of(value)) for name, value in passed.items()))
                  for key, passed in run.constructions or ()),
            tuple((qualname, tuple(sorted(effects))) for qualname, effects in sorted((run.storage_effects or {}).items())),
            tuple((name, kind.value) for name, kind in project.evidence(run.key).items()),
            tuple((run.constructed_with or {}).items()),
            tuple(project.consults.get(run.key, {}).items()),
            tuple((run.function.module.path, message) for message in run.errors or ()),
        )

    def holds(self, project: "Project") -> bool:
        """Whether the bindings it assumed objects are constructed with are still what the entry points pass."""
        return all(project.constructed_binding(key, name) == binding for (key, name), binding in self.assumed)

    def replay(self, project: "Project") -> None:
        project.reached.update(self.reached)
        for key, passed in self.constructions:
            project.constructions.setdefault(key, []).append({
                name: Value(("param", key, name), Handle(HandleKind(binding[0]), binding[1]) if binding else None)
                for name, binding in passed})
        for qualname, effects in self.storage_effects:
            project.facts.storage_effects.setdefault(qualname, set()).update(effects)


@dataclass
class Facts:
    """Whole-project facts the interpreter records for rules."""

    operations: List[Operation] = field(default_factory=list)
    compared_reads: Set[int] = field(default_factory=set)  # reads compared with <, >, <=, >=
    mutated_reads: Set[int] = field(default_factory=set)  # reads whose data was changed in place
    escaped: Set[int] = field(default_factory=set)  # ops whose result left the flow (returned, stored, sent)
    storage_effects: Dict[str, Set[str]] = field(default_factory=dict)  # root qualname -> {"read","write"}
    # (operation, activation): a promise the activation threw away (EDG301), returned to it by a
    # helper or kept in a variable it never reads.
    dropped_promises: List[Tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Layout:
    """What the whole-project passes decided, as an earlier analysis recorded them: still true while
    every module's interface (`module_interface`) is what it was, whatever else changed."""

    relevant: Mapping[str, Tuple[bool, ...]]  # path -> each chunk's relevance (Project._mark_relevance)
    classes: Mapping[str, Tuple[str, ...]]  # class name -> the modules that define one, in order
    durable_objects: Tuple[str, ...]  # keys of the Durable Object classes, in order

    @classmethod
    def of(cls, project: "Project") -> "Layout":
        return cls({module.path: tuple(chunk.relevant for chunk in module.chunks) for module in project.modules.values()},
                   {name: tuple(found.module.name for found in classes)
                    for name, classes in project.classes_by_name.items()},
                   tuple(found.key for found in project.durable_object_classes(kept=True)))


def module_interface(module: ModuleInfo, clues: "Clues") -> Tuple[Any, ...]:
    """What the rest of a project depends on in a module beyond the roots that read it: the names
    it defines and imports (how relevance flows, which classes and entry points exist) and what
    its statements hold for the relevance check (`clues`)."""
    # What `_relevant_names` reads of a chunk: the names a parsed statement binds, or its outline's
    # name (a constant, parsed only when its value is asked for, binds that one name).
    chunks = tuple((chunk.kind, chunk.name, frozenset(bound_names(chunk.tree))
                    if chunk.kind == CODE and not chunk.name and chunk.tree is not None else None)
                   for chunk in module.chunks)
    classes = tuple((name, cls.bases, tuple((method, info.route) for method, info in cls.methods.items()))
                    for name, cls in module.classes.items())
    functions = tuple((name, info.route) for name, info in module.functions.items())
    return chunks, classes, functions, tuple(module.imports.items()), frozenset(module.env_names), clues, module.is_test


class LazyModules(LazyValues[str, ModuleInfo]):
    """A project's modules by name, each built when first asked for (`build`): a run that replays
    most roots builds only the modules that the roots it runs again read."""

    def __init__(self, names: Iterable[str], build: Callable[[str], ModuleInfo]):
        super().__init__(dict.fromkeys(names))  # in path order
        self._build = build
        self._adopt: Callable[[ModuleInfo], None] = lambda module: None

    def adopting(self, adopt: Callable[[ModuleInfo], None]) -> "LazyModules":
        """The same modules, each passed to `adopt` once built (the project completes it)."""
        self._adopt = adopt
        return self

    def _compute(self, name: str) -> ModuleInfo:
        module = self._build(name)
        self._adopt(module)
        return module


class _ClassesByName(Mapping[str, List[ClassInfo]]):
    """`Project.classes_by_name` of a project whose modules are built on demand (from its layout)."""

    def __init__(self, project: "Project"):
        self._project = project
        self._names: Mapping[str, Tuple[str, ...]] = project.layout.classes if project.layout else {}

    def __getitem__(self, name: str) -> List[ClassInfo]:
        modules = self._project.modules
        found = [modules[module].classes[name] for module in self._names[name] if name in modules[module].classes]
        if not found:
            raise KeyError(name)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class _ClassesByKey(Mapping[str, ClassInfo]):
    """`Project.class_by_key` of a project whose modules are built on demand."""

    def __init__(self, project: "Project"):
        self._project = project

    def __getitem__(self, key: str) -> ClassInfo:
        module_name, _, name = key.rpartition(".")
        module = self._project.modules.get(module_name)
        if module is None or name not in module.classes:
            raise KeyError(key)
        return module.classes[name]

    def __iter__(self) -> Iterator[str]:
        return (cls.key for module in self._project.modules.values() for cls in module.classes.values())

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Project:
    """All analysed modules of one project, and everything the interpreter learnt about them."""

    def __init__(self, modules: Iterable[ModuleInfo], admin_words: Tuple[str, ...] = DEFAULT_ADMIN_WORDS,
                 clues: Optional[Mapping[str, Clues]] = None, layout: Optional["Layout"] = None):
        """`clues`: what the relevance check found in each module's statements last time, by path
        (`Project.clues`: for modules whose text did not change). With a `layout` (an earlier
        analysis's, still true), `modules` is a `LazyModules`: modules are built when first asked
        for, and what the whole project decides (relevance, classes) is read from the layout."""
        self.layout = layout
        self.internal_errors: List[Tuple[str, str]] = []
        self.admin_words = frozenset(admin_words)
        self.facts = Facts()
        self._op_ids = itertools.count(1)
        self.ops_by_id: Dict[int, Operation] = {}
        self.modules: Mapping[str, ModuleInfo]
        self.classes_by_name: Mapping[str, List[ClassInfo]]
        self.class_by_key: Mapping[str, ClassInfo]
        if isinstance(modules, LazyModules):
            self.modules = modules.adopting(self._adopt)
            self.classes_by_name, self.class_by_key = _ClassesByName(self), _ClassesByKey(self)
        else:
            # In path order: roots run in an order that does not depend on how the files were found
            # nor on how a run spells their paths.
            self.modules = {module.name: module for module in sorted(modules, key=lambda m: os.path.abspath(m.path))}
            self.classes_by_name, self.class_by_key = self._class_tables()
        # Interpreter caches and whole-project state.
        self.runtime_globals: Dict[Tuple[str, str], Value] = {}  # module globals assigned in functions
        self.module_values: Dict[Tuple[str, str], Value] = {}
        self.init_attrs: Dict[str, Dict[str, Value]] = {}
        # Per class, what each construction in the analysed code passed to `__init__`, by parameter;
        # those of the entry points, once they have all run (what methods nobody reaches assume).
        self.constructions: Dict[str, List[Dict[str, Value]]] = {}
        self.entry_constructions: Optional[Dict[str, List[Dict[str, Value]]]] = None
        self.init_assumed: Dict[str, Dict[str, Any]] = {}  # class -> parameter -> binding assumed
        # abstract input -> model.summaries.Summary list, least recently used first
        self.summaries: "OrderedDict[Tuple[Any, ...], List[Any]]" = OrderedDict()
        self.computing: List[List[Any]] = []  # [qualname, reusable] of the summaries being computed
        self.runs: List[RootRun] = []  # the analysis roots, in the order they ran
        self.current: Optional[RootRun] = None
        self.kept: Dict[RootKey, RootMemory] = {}
        self.replayed: Dict[RootKey, RootMemory] = {}  # kept roots not run again
        self.order: List[RootKey] = []  # every root, run or replayed, in order
        self.entries = 0  # how many of them, first, are entry points
        self.consults: Dict[RootKey, Dict[Tuple[str, str], Any]] = {}
        self.kept_classes: Set[str] = set()  # classes whose own findings a cache kept
        self.await_nodes: Dict[int, cst.Await] = {}  # foreign await ids -> their nodes (messages)
        self.quiet_calls: Set[int] = set()  # calls whose await opens no input gate (storage, project code)
        self.suppress_recording = False
        self.reached: Set[str] = set()  # qualnames of functions analysed so far, as roots or inlined
        self.stop: Callable[[], bool] = _never  # asked before each root: True ends the analysis (Cancelled)
        self._inferred: Optional[Dict[str, BindingKind]] = None
        self._index = ModuleIndex({name: name for name in self.modules})
        self._resolved: Dict[str, Optional[ModuleInfo]] = {}  # absolute module name -> the project module
        self.clues: Dict[str, Clues] = dict(clues or {})
        if layout is None:
            self._mark_relevance()

    def _class_tables(self) -> Tuple[Dict[str, List[ClassInfo]], Dict[str, ClassInfo]]:
        by_name: Dict[str, List[ClassInfo]] = {}
        by_key: Dict[str, ClassInfo] = {}
        for module in self.modules.values():
            for cls in module.classes.values():
                by_name.setdefault(cls.name, []).append(cls)
                by_key[cls.key] = cls
        self.classes_by_name = by_name  # what `lineage` looks bases up in
        for cls in by_key.values():
            cls.inherited = self._inherited(cls)
        return by_name, by_key

    def _inherited(self, cls: ClassInfo) -> Tuple[str, ...]:
        return tuple(base for ancestor in list(self.lineage(cls))[1:] for base in ancestor.bases)

    def _adopt(self, module: ModuleInfo) -> None:
        """A module built on demand (`LazyModules`): its relevance as the layout recorded, and its
        classes' inherited bases (which may build the modules of their base classes)."""
        assert self.layout is not None
        for chunk, relevant in zip(module.chunks, self.layout.relevant[module.path]):
            chunk.relevant = relevant
        for cls in module.classes.values():
            cls.inherited = self._inherited(cls)

    # ---- which functions can involve bindings (model.chunks)

    def _mark_relevance(self) -> None:
        """Mark every chunk relevant or not: a fixed point, as names flow through imports."""
        mentions: Dict[int, Set[str]] = {}
        for module in self.modules.values():
            clues = self.clues.get(module.path)
            if clues is None or len(clues) != len(module.chunks):
                clues = self.clues[module.path] = clues_of(module)
            for chunk, (relevant, named) in zip(module.chunks, clues):
                chunk.relevant = relevant
                mentions[id(chunk)] = named
        known: Dict[str, Set[str]] = {name: set() for name in self.modules}
        changed = True
        while changed:
            changed = False
            for module in self.modules.values():
                names = self._relevant_names(module, known)
                if names != known[module.name]:
                    known[module.name], changed = names, True
                for chunk in module.chunks:
                    if not chunk.relevant and not mentions[id(chunk)].isdisjoint(names):
                        chunk.relevant = changed = True

    def _relevant_names(self, module: ModuleInfo, known: Mapping[str, Set[str]]) -> Set[str]:
        """Top-level names of `module` whose definition involves bindings, by what is `known` so far."""
        names = set(module.env_names)
        for chunk in module.chunks:
            if chunk.relevant:
                names.update(bound_names(chunk.tree) if chunk.kind == CODE and chunk.tree else (chunk.name,))
        names.discard("")  # module-level code libcst refused
        for alias, (source, attr) in module.imports.items():
            if self._import_is_relevant(module, source, attr, known):
                names.add(alias)
        return names

    def _import_is_relevant(self, module: ModuleInfo, source: str, attr: Optional[str],
                            known: Mapping[str, Set[str]]) -> bool:
        imported = self.resolve_module(module, source)
        submodule = self.resolve_module(module, submodule_name(source, attr)) if attr else None
        whole = submodule if submodule is not None else imported if attr is None else None
        if whole is not None and (known[whole.name] or any(chunk.relevant for chunk in whole.chunks)):
            return True
        return imported is not None and attr in known[imported.name]

    def function_named(self, qualname: str) -> Optional[FunctionInfo]:
        """The function `module:name` or `module:Class.name` (not a nested function)."""
        module_name, _, name = qualname.partition(":")
        module = self.modules.get(module_name)
        if module is None:
            return None
        owner, _, method = name.partition(".")
        if not method:
            return module.functions.get(owner)
        cls = module.classes.get(owner)
        return cls.methods.get(method) if cls is not None and "." not in method else None

    # ---- lookups used by the interpreter

    def new_op_id(self) -> int:
        return next(self._op_ids)

    def id_mark(self) -> int:
        """The id `new_op_id` gives next (model.summaries: the ids a summary made)."""
        mark = next(self._op_ids)
        self._op_ids = itertools.count(mark)
        return mark

    def reserve_ids(self, count: int) -> int:
        """Set aside `count` consecutive ids; the first of them."""
        first = next(self._op_ids)
        self._op_ids = itertools.count(first + count)
        return first

    # ---- summaries being computed (model.summaries): a call refused because of one of them makes
    # the summaries computed inside it depend on where they were computed, so they are not kept

    def begin_summary(self, qualname: str) -> None:
        self.computing.append([qualname, True])

    def end_summary(self) -> bool:
        return self.computing.pop()[1]

    def is_computing(self, qualname: str) -> bool:
        return any(entry[0] == qualname for entry in self.computing)

    def refuse_inside(self, qualname: Optional[str]) -> None:
        """A call of `qualname` (None: any call, too deep) was refused: every summary computed
        inside its computation depended on that."""
        levels = [index for index, entry in enumerate(self.computing) if entry[0] == qualname]
        start = levels[0] + 1 if levels else 0
        for entry in self.computing[start:]:
            entry[1] = False

    def record(self, op: Operation) -> Operation:
        if not self.suppress_recording:
            self.facts.operations.append(op)
            self.ops_by_id[op.id] = op
            if self.current is not None:
                self.current.operations.append(op)  # until the root ends: its evidence (model.analysis)
        return op

    def note_module(self, name: str) -> None:
        if self.current is not None:
            self.current.modules.add(name)

    # ---- what the analysis learns: the interpreter's sink (a summary being computed records the
    # same calls, and replays them into its callers: model.summaries.Recorder)

    def find_op(self, op_id: int) -> Optional[Operation]:
        return self.ops_by_id.get(op_id)

    def note_storage_effect(self, chain: Tuple[str, ...], effect: Optional[str]) -> None:
        if effect is not None and not self.suppress_recording:
            for qualname in chain:
                self.facts.storage_effects.setdefault(qualname, set()).add(effect)
                if self.current is not None:
                    if self.current.storage_effects is None:
                        self.current.storage_effects = {}
                    self.current.storage_effects.setdefault(qualname, set()).add(effect)

    def note_escaped(self, reads: Iterable[int]) -> None:
        self.facts.escaped.update(reads)

    def note_mutated(self, reads: Iterable[int]) -> None:
        self.facts.mutated_reads.update(reads)

    def note_compared(self, reads: Iterable[int]) -> None:
        self.facts.compared_reads.update(reads)

    def note_dropped(self, op_id: int, activation: int) -> None:
        self.facts.dropped_promises.append((op_id, activation))

    def note_construction(self, class_key: str, passed: Dict[str, Value]) -> None:
        self.constructions.setdefault(class_key, []).append(passed)
        if self.current is not None:
            self.current.constructions = (self.current.constructions or []) + [(class_key, passed)]

    def note_await(self, await_id: int, node: cst.Await) -> None:
        self.await_nodes[await_id] = node

    def constructed_binding(self, class_key: str, name: str) -> Binding:
        """The binding every construction of a class by the entry points passes as parameter `name`
        (`Store(env.JOBS)`), once they have all run; None when they differ or pass none."""
        constructions = self.entry_constructions
        if constructions is None:
            return None
        bindings = {binding_of(passed[name]) if name in passed else None for passed in constructions.get(class_key, ())}
        return bindings.pop() if len(bindings) == 1 else None

    def note_constructed_with(self, class_key: str, assumed: Dict[str, Any]) -> None:
        """A method of `class_key` was analysed assuming its objects are built with these bindings."""
        if self.current is not None:
            for name, binding in assumed.items():
                if self.current.constructed_with is None:
                    self.current.constructed_with = {}
                self.current.constructed_with[(class_key, name)] = binding

    def note_reached(self, qualname: str) -> None:
        self.reached.add(qualname)
        if self.current is not None:
            self.current.reached.add(qualname)

    def note_instance(self, instance: Any) -> None:
        """An object the analysed code creates (a summary copies those it made, per call)."""

    def use_literal(self, slot: int) -> Tuple[bool, Any]:
        """A summary's string slot (model.summaries): there are none outside a summary."""
        return False, None

    def use_methods(self) -> None:
        """The enclosing routes' HTTP methods decide something (model.summaries)."""

    def set_runtime_global(self, key: Tuple[str, str], value: Value) -> None:
        previous = self.runtime_globals.get(key)
        self.runtime_globals[key] = merge(previous, value) if previous is not None else value

    def lineage(self, cls: ClassInfo, limit: int = 10) -> Iterable[ClassInfo]:
        """`cls` and its base classes defined in the project, nearest first."""
        current: Optional[ClassInfo] = cls
        while current is not None and limit > 0:
            yield current
            current, limit = self.base_class(current), limit - 1

    def durable_object_classes(self, kept: bool = False) -> List[ClassInfo]:
        """The Durable Object classes, but for those whose findings a cache kept (unless `kept`)."""
        if self.layout is not None:
            return [self.class_by_key[key] for key in self.layout.durable_objects
                    if kept or key not in self.kept_classes]
        return [cls for cls in self.class_by_key.values()
                if cls.is_durable_object and (kept or cls.key not in self.kept_classes)]

    def durable_object_keys(self) -> List[str]:
        """The keys of every Durable Object class, in order (without building any module)."""
        if self.layout is not None:
            return list(self.layout.durable_objects)
        return [cls.key for cls in self.durable_object_classes(kept=True)]

    def method_of(self, cls: ClassInfo, name: str) -> Optional[FunctionInfo]:
        """Method `name` of `cls`, or of the nearest project base class that defines it."""
        return next((ancestor.methods[name] for ancestor in self.lineage(cls) if name in ancestor.methods), None)

    def base_class(self, cls: ClassInfo) -> Optional[ClassInfo]:
        """The first base class of `cls` that is defined in the project."""
        for base in cls.bases:
            candidates = self.classes_by_name.get(base, ())
            if len(candidates) == 1 and candidates[0] is not cls:
                return candidates[0]
        return None

    def resolve_module(self, importer: ModuleInfo, source: str) -> Optional[ModuleInfo]:
        """The project module an import statement in `importer` refers to, if it is in the project."""
        name = absolute_import(importer, source) if source.startswith(".") else source
        if name not in self._resolved:
            found = self._index.get(name)
            self._resolved[name] = self.modules[found] if found is not None else None
        return self._resolved[name]

    def is_admin_name(self, name: str) -> bool:
        return any(word in self.admin_words for word in identifier_words(name))

    def is_admin_route(self, paths: Iterable[RoutePath], methods: Iterable[str]) -> bool:
        """Whether a route is administrative (rules.md). A route written as segments counts whole
        segments only (`["admin", "reset"]`, not `["deploy-settings"]`): a list of words compared
        with is less surely a URL path than a string with slashes."""
        methods = {m.lower() for m in methods}
        for path in paths:
            words = identifier_words(path) if isinstance(path, str) else [segment.lower() for segment in path]
            if any(word in self.admin_words for word in words):
                return True
            if methods & WRITE_METHODS and any(word in ADMIN_CONFIG_WORDS for word in words):
                return True
        return False

    def do_class_for(self, binding: Optional[str], module: ModuleInfo) -> Optional[ClassInfo]:
        """The project class behind a Durable Object namespace binding, when the config names it."""
        if binding is None:
            return None
        declared = module.bindings.get(binding)
        if declared is None or declared.kind is not BindingKind.DURABLE_OBJECT or not declared.class_name:
            return None
        candidates = [c for c in self.classes_by_name.get(declared.class_name, ()) if c.is_durable_object]
        return candidates[0] if len(candidates) == 1 else None

    def storage_effect(self, cls: ClassInfo, method: str, asker: Operation) -> Optional[Set[str]]:
        info = cls.methods.get(method)
        if info is None:
            return None
        effects = self.facts.storage_effects.get(info.qualname, set())
        self.consult(asker, ("effects", info.qualname), sorted(effects))
        return effects

    # ---- the analysis driver

    def entry_points(self) -> List[Tuple[FunctionInfo, PathKind]]:
        entries: List[Tuple[FunctionInfo, PathKind]] = []
        for module in self.modules.values():
            for function in module.functions.values():
                kind = _module_function_kind(function)
                if kind is not None:
                    entries.append((function, kind))
            for cls in module.classes.values():
                if not cls.is_entry_class:
                    continue
                for method in cls.methods.values():
                    kind = _method_kind(cls, method.name)
                    if kind is not None:
                        entries.append((method, kind))
        return entries

    def fact(self, fact: Tuple[str, str]) -> Any:
        """The current answer to a fact a root's findings asked of other roots (`consult`)."""
        kind, name = fact
        if kind == "kind":
            inferred = self.inferred_kinds().get(name)
            return inferred.value if inferred else None
        return sorted(self.facts.storage_effects.get(name, set()))

    def consult(self, op: Operation, fact: Tuple[str, str], value: Any) -> Any:
        """A rule asked a fact other roots decide (an inferred binding kind, a method's storage
        effects) about `op`: a kept root's findings hold while the fact stays the same."""
        frames = op.context.frames
        root = (frames[0].qualname if frames else "", op.context.path.value)
        self.consults.setdefault(root, {})[fact] = value
        return value

    def forget_analysis(self) -> None:
        """Back to an index nothing was analysed over (model.analysis runs twice when module
        globals are set at runtime)."""
        self.facts = Facts()
        self._op_ids = itertools.count(1)
        self.ops_by_id = {}
        self.module_values = {}
        self.init_attrs = {}
        self.constructions = {}
        self.entry_constructions = None
        self.init_assumed = {}
        self.summaries = OrderedDict()
        self.computing = []
        self.runs = []
        self.replayed = {}
        self.order = []
        self.consults = {}
        self.await_nodes = {}
        self.quiet_calls = set()
        self.internal_errors = []
        self.reached = set()
        self._inferred = None

    def forget_parsed(self) -> None:
        """Free the trees the analysis parsed (after `forget_analysis`: nothing of it may hold a
        node). A cold analysis of a large project runs in shares, one after the other (engine.
        ProjectRun), so that one share's trees are not kept while the next runs."""
        for module in self.modules.values():
            module.forget_parsed()

    def ops(self, *kinds: OpKind) -> List[Operation]:
        wanted = set(kinds)
        return [op for op in self.facts.operations if op.kind in wanted]

    def binding_kind(self, op: Operation) -> Optional[BindingKind]:
        """Declared kind of an operation's binding, or the kind inferred from how it is used."""
        if op.binding is None:
            return None
        declared = op.module.bindings.get(op.binding)
        if declared is not None:
            return declared.kind
        inferred = self.inferred_kinds().get(op.binding)
        self.consult(op, ("kind", op.binding), inferred.value if inferred else None)
        return inferred

    def forget_inferred_kinds(self) -> None:
        """A root ran again: the kinds are decided anew when next asked."""
        self._inferred = None

    def inferred_kinds(self) -> Dict[str, BindingKind]:
        """Binding kinds inferred from use: the first root, in order, that tells decides."""
        cached = self._inferred
        if cached is None:
            cached = self._inferred = {}
            for key in self.order:
                for name, kind in self.evidence(key).items():
                    cached.setdefault(name, kind)
        return cached

    def evidence(self, key: RootKey) -> Dict[str, BindingKind]:
        """What one root's operations tell of the kinds of undeclared bindings."""
        memory = self.replayed.get(key)
        if memory is not None:
            return {name: BindingKind(kind) for name, kind in memory.evidence}
        run = next((run for run in self.runs if run.key == key), None)
        return run.evidence if run is not None else {}

    def is_kv(self, op: Operation) -> bool:
        return self.binding_kind(op) is BindingKind.KV


def _module_function_kind(function: FunctionInfo) -> Optional[PathKind]:
    if function.name == "on_fetch":
        return PathKind.REQUEST
    if function.name in ("on_scheduled", "on_queue"):
        return PathKind.BACKGROUND
    if function.route is not None:
        return PathKind.REQUEST
    return None


def _method_kind(cls: ClassInfo, name: str) -> Optional[PathKind]:
    if name.startswith("_"):
        return None
    if cls.is_workflow:
        return PathKind.BACKGROUND if name == "run" else None
    if cls.is_worker_entrypoint or cls.is_durable_object:
        if name in BACKGROUND_HANDLERS:
            return PathKind.BACKGROUND
        return PathKind.REQUEST
    return None
