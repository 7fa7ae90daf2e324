"""The project model: modules, their functions and classes, entry points, and the analysis driver.

Each module is parsed once; `index_module` reads only its top level and class bodies. The
interpreter then runs every entry point with the request/background context, inlining calls into
the project's own functions, and every other function on its own, recording operations.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Dict, Iterable, List, Mapping, Optional, Set, Tuple

import libcst as cst

from edgelint.model.bindings import BindingKind, BindingTable
from edgelint.model.operations import Context, Operation, OpKind, PathKind
from edgelint.model.values import Value

# Entry-point method names by kind of class.
BACKGROUND_HANDLERS = frozenset({"scheduled", "queue", "on_scheduled", "on_queue", "alarm", "on_alarm"})
ROUTE_DECORATORS = frozenset({"get", "post", "put", "patch", "delete", "route", "api_route", "websocket", "head", "options"})
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
# Route words that make a write an administrative config change (rules.md), and the wider set of
# words that name shared configuration in DO methods and routes (EDG202).
ADMIN_CONFIG_WORDS = frozenset({"config", "settings", "flags"})
CONFIG_WORDS = ADMIN_CONFIG_WORDS | {"configuration", "setting", "flag", "features"}
DEFAULT_ADMIN_WORDS = ("admin", "publish", "internal", "setup", "deploy", "migrate", "migration", "maintenance")


@dataclass(eq=False)
class FunctionInfo:
    node: cst.FunctionDef
    module: "ModuleInfo"
    qualname: str
    cls: Optional["ClassInfo"] = None
    route: Optional[Tuple[str, str]] = None  # (method, path) from a route decorator

    @property
    def name(self) -> str:
        return self.node.name.value


@dataclass(eq=False)
class ClassInfo:
    node: cst.ClassDef
    module: "ModuleInfo"
    name: str
    bases: Tuple[str, ...]
    methods: Dict[str, FunctionInfo] = field(default_factory=dict)
    inherited: Tuple[str, ...] = ()  # bases of its project base classes, set by Project

    @property
    def key(self) -> str:
        return f"{self.module.name}.{self.name}"

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


@dataclass(eq=False)
class ModuleInfo:
    path: str
    name: str  # dotted module name relative to the project root
    tree: cst.Module
    source: str
    bindings: BindingTable
    is_test: bool = False
    functions: Dict[str, FunctionInfo] = field(default_factory=dict)
    classes: Dict[str, ClassInfo] = field(default_factory=dict)
    imports: Dict[str, Tuple[str, Optional[str]]] = field(default_factory=dict)  # alias -> (module, attr)
    constants: Dict[str, cst.BaseExpression] = field(default_factory=dict)
    env_names: Set[str] = field(default_factory=set)  # `from workers import env`

    def is_package_init(self) -> bool:
        return PurePath(self.path).name == "__init__.py"


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


def dotted_name(node: cst.BaseExpression) -> Optional[str]:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def string_value(node: Optional[cst.BaseExpression]) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
        try:
            value = node.evaluated_value
        except Exception:  # noqa: BLE001 - libcst raises plain exceptions on odd prefixes
            return None
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left), string_value(node.right)
        return left + right if left is not None and right is not None else None
    return None


# --------------------------------------------------------------------------------------------
# Indexing: one pass over the top level and class bodies.


def index_module(module: ModuleInfo) -> None:
    for statement in module.tree.body:
        _index_statement(module, statement, None)


def _index_statement(module: ModuleInfo, statement: cst.CSTNode, cls: Optional[ClassInfo]) -> None:
    if isinstance(statement, cst.FunctionDef):
        _index_function(module, statement, cls)
    elif isinstance(statement, cst.ClassDef) and cls is None:
        _index_class(module, statement)
    elif isinstance(statement, cst.SimpleStatementLine) and cls is None:
        for small in statement.body:
            if isinstance(small, (cst.Import, cst.ImportFrom)):
                _index_import(module, small)
            elif isinstance(small, cst.Assign) and len(small.targets) == 1:
                target = small.targets[0].target
                if isinstance(target, cst.Name):
                    module.constants.setdefault(target.value, small.value)
            elif isinstance(small, cst.AnnAssign) and small.value is not None and isinstance(small.target, cst.Name):
                module.constants.setdefault(small.target.value, small.value)
    elif isinstance(statement, (cst.If, cst.Try)) and cls is None:
        # `try: from x import y except ImportError: ...` and `if TYPE_CHECKING:` blocks.
        for inner in _nested_blocks(statement):
            _index_statement(module, inner, None)


def _nested_blocks(statement: cst.CSTNode) -> Iterable[cst.CSTNode]:
    body = getattr(statement, "body", None)
    if isinstance(body, cst.IndentedBlock):
        yield from body.body
    for handler in getattr(statement, "handlers", ()):
        if isinstance(handler.body, cst.IndentedBlock):
            yield from handler.body.body


def _index_function(module: ModuleInfo, node: cst.FunctionDef, cls: Optional[ClassInfo]) -> None:
    name = node.name.value
    qualname = f"{cls.name}.{name}" if cls else name
    info = FunctionInfo(node, module, f"{module.name}:{qualname}", cls, _route_of(node))
    if cls is not None:
        cls.methods[name] = info
    else:
        module.functions[name] = info


def _route_of(node: cst.FunctionDef) -> Optional[Tuple[str, str]]:
    for decorator in node.decorators:
        call = decorator.decorator
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute):
            verb = call.func.attr.value
            if verb in ROUTE_DECORATORS and call.args:
                path = string_value(call.args[0].value)
                if path is not None:
                    return (_route_method(verb, call), path)
    return None


def _route_method(verb: str, call: cst.Call) -> str:
    if verb not in ("route", "api_route"):
        return verb
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "methods":
            methods = [string_value(el.value) for el in getattr(arg.value, "elements", ())]
            written = [m.lower() for m in methods if m and m.lower() in WRITE_METHODS]
            if written:
                return written[0]
    return "get"


def _index_class(module: ModuleInfo, node: cst.ClassDef) -> None:
    bases = tuple(name.rsplit(".", 1)[-1] for name in (dotted_name(arg.value) for arg in node.bases) if name)
    info = ClassInfo(node, module, node.name.value, bases)
    module.classes[info.name] = info
    if isinstance(node.body, cst.IndentedBlock):
        for statement in node.body.body:
            _index_statement(module, statement, info)


def _index_import(module: ModuleInfo, node: cst.CSTNode) -> None:
    if isinstance(node, cst.Import):
        for alias in node.names:
            full = dotted_name(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                module.imports[alias.asname.name.value] = (full, None)
            else:
                head = full.split(".", 1)[0]
                module.imports[head] = (head, None)
        return
    assert isinstance(node, cst.ImportFrom)
    source = ("." * len(node.relative)) + (dotted_name(node.module) or "" if node.module else "")
    if isinstance(node.names, cst.ImportStar):
        return
    for alias in node.names:
        name = dotted_name(alias.name) or ""
        local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
        module.imports[local] = (source, name)
        if source == "workers" and name == "env":
            module.env_names.add(local)


def absolute_import(importer: ModuleInfo, source: str) -> str:
    """`..util` imported from `pkg.sub.mod` -> `pkg.util`."""
    if not source.startswith("."):
        return source
    level = len(source) - len(source.lstrip("."))
    package = importer.name.split(".")
    package = package if importer.is_package_init() else package[:-1]
    base = package[: len(package) - (level - 1)] if level > 1 else package
    rest = source.lstrip(".")
    return ".".join(base + ([rest] if rest else []))


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


@dataclass
class Facts:
    """Whole-project facts the interpreter records for rules."""

    operations: List[Operation] = field(default_factory=list)
    compared_reads: Set[int] = field(default_factory=set)  # reads compared with <, >, <=, >=
    mutated_reads: Set[int] = field(default_factory=set)  # reads whose data was changed in place
    escaped: Set[int] = field(default_factory=set)  # ops whose result left the flow (returned, stored, sent)
    returned_reads: Set[int] = field(default_factory=set)  # reads whose data some function returns
    storage_effects: Dict[str, Set[str]] = field(default_factory=dict)  # root qualname -> {"read","write"}


class Project:
    """All analysed modules of one project, and everything the interpreter learnt about them."""

    def __init__(self, modules: Iterable[ModuleInfo], admin_words: Tuple[str, ...] = DEFAULT_ADMIN_WORDS):
        self.modules: Dict[str, ModuleInfo] = {module.name: module for module in modules}
        self.internal_errors: List[Tuple[str, str]] = []
        self.admin_words = frozenset(admin_words)
        self.facts = Facts()
        self._op_ids = itertools.count(1)
        self.ops_by_id: Dict[int, Operation] = {}
        self.classes_by_name: Dict[str, List[ClassInfo]] = {}
        self.class_by_key: Dict[str, ClassInfo] = {}
        for module in self.modules.values():
            for cls in module.classes.values():
                self.classes_by_name.setdefault(cls.name, []).append(cls)
                self.class_by_key[cls.key] = cls
        for cls in self.class_by_key.values():
            cls.inherited = tuple(base for ancestor in list(self.lineage(cls))[1:] for base in ancestor.bases)
        # Interpreter caches and whole-project state.
        self.runtime_globals: Dict[Tuple[str, str], Value] = {}  # module globals assigned in functions
        self.module_values: Dict[Tuple[str, str], Value] = {}
        self.init_attrs: Dict[str, Dict[str, Value]] = {}
        self.await_nodes: Dict[int, cst.Await] = {}  # foreign await ids -> their nodes (messages)
        self.quiet_calls: Set[int] = set()  # calls whose await opens no input gate (storage, project code)
        self.suppress_recording = False
        self.reached: Set[str] = set()  # qualnames of functions analysed so far, as roots or inlined
        self.functions_by_qualname: Dict[str, FunctionInfo] = {
            function.qualname: function for module in self.modules.values()
            for function in [*module.functions.values(), *(m for c in module.classes.values() for m in c.methods.values())]
        }
        self._inferred: Optional[Dict[str, BindingKind]] = None

    # ---- lookups used by the interpreter

    def new_op_id(self) -> int:
        return next(self._op_ids)

    def record(self, op: Operation) -> Operation:
        if not self.suppress_recording:
            self.facts.operations.append(op)
            self.ops_by_id[op.id] = op
        return op

    def note_storage_effect(self, chain: Tuple[str, ...], effect: Optional[str]) -> None:
        if effect is not None and not self.suppress_recording:
            for qualname in chain:
                self.facts.storage_effects.setdefault(qualname, set()).add(effect)

    def lineage(self, cls: ClassInfo, limit: int = 10) -> Iterable[ClassInfo]:
        """`cls` and its base classes defined in the project, nearest first."""
        current: Optional[ClassInfo] = cls
        while current is not None and limit > 0:
            yield current
            current, limit = self.base_class(current), limit - 1

    def durable_object_classes(self) -> List[ClassInfo]:
        return [cls for cls in self.class_by_key.values() if cls.is_durable_object]

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
        found = lookup_module_name(self.modules, absolute_import(importer, source))
        return self.modules[found] if found is not None else None

    def is_admin_name(self, name: str) -> bool:
        return any(word in self.admin_words for word in identifier_words(name))

    def is_admin_route(self, paths: Iterable[str], methods: Iterable[str]) -> bool:
        methods = {m.lower() for m in methods}
        for path in paths:
            words = identifier_words(path)
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

    def storage_effect(self, cls: ClassInfo, method: str) -> Optional[Set[str]]:
        info = cls.methods.get(method)
        if info is None:
            return None
        return self.facts.storage_effects.get(info.qualname, set())

    # ---- the analysis driver

    def entry_points(self) -> List[Tuple[FunctionInfo, PathKind]]:
        entries: List[Tuple[FunctionInfo, PathKind]] = []
        for module in self.modules.values():
            for function in module.functions.values():
                kind = _module_function_kind(function)
                if kind is not None:
                    entries.append((function, kind))
            for cls in module.classes.values():
                for method in cls.methods.values():
                    kind = _method_kind(cls, method.name)
                    if kind is not None:
                        entries.append((method, kind))
        return entries

    def analyse(self) -> "Project":
        """Run every entry point, then every other function; twice if module globals are set at runtime."""
        self._analyse_all()
        if self.runtime_globals:
            learnt = dict(self.runtime_globals)
            self._reset()
            self.runtime_globals = learnt
            self._analyse_all()
        return self

    def _reset(self) -> None:
        self.facts = Facts()
        self.ops_by_id = {}
        self.module_values = {}
        self.init_attrs = {}
        self.await_nodes = {}
        self.quiet_calls = set()
        self.internal_errors = []
        self.reached = set()
        self._inferred = None

    def _analyse_all(self) -> None:
        roots = [(function, kind) for function, kind in self.entry_points()]
        entry_ids = {id(function) for function, _ in roots}
        for module in self.modules.values():
            functions = list(module.functions.values())
            for cls in module.classes.values():
                functions.extend(cls.methods.values())
            roots.extend((function, PathKind.UNKNOWN) for function in functions if id(function) not in entry_ids)
        for function, kind in roots:
            # A function already reached from an entry point (or an earlier root) was analysed with
            # its callers' arguments and path; on its own it would only know less.
            if kind is not PathKind.UNKNOWN or function.qualname not in self.reached:
                self._analyse_root(function, kind)

    def _analyse_root(self, function: FunctionInfo, kind: PathKind) -> None:
        from edgelint.model.interpreter import analyse_root

        try:
            analyse_root(self, function, Context(kind, self.is_admin_name(function.name)))
        except (RecursionError, Exception) as exc:  # noqa: BLE001 - one bad function must not stop the run
            message = f"internal error analysing {function.qualname}: {type(exc).__name__}: {exc}"
            self.internal_errors.append((function.module.path, message.splitlines()[0]))

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
        return self._inferred_kinds().get(op.binding)

    def _inferred_kinds(self) -> Dict[str, BindingKind]:
        cached = self._inferred
        if cached is None:
            from edgelint.model.inference import infer_binding_kinds

            cached = self._inferred = infer_binding_kinds(self.facts.operations)
        return cached

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
