"""The outline of a module, from Python's own parser: where each top-level statement lies and what
it defines.

libcst builds a tree four times slower than `ast`, and most of a Workers module (models, parsing,
formatting) never touches a binding. The outline says what the index needs — the functions and their
routes, the classes with their bases and methods, what imports bind — so libcst parses up front only
module-level code other than imports, docstrings and `NAME = value`, and every other statement when
the analysis first needs it (`model.chunks`): a function or class when it is entered, a constant
when its value is asked for. The outline is plain data, so worker processes compute it for the
parent and the cache keeps it.
"""
from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple, Union

from edgelint.textio import NEWLINE, parse_ast

FUNCTION, CLASS, CODE = "function", "class", "code"
Import = Tuple[str, str, Optional[str]]  # (local name, module as written, imported name or None)
Route = Tuple[str, str]  # (HTTP method, path) of a route decorator
ROUTE_DECORATORS = frozenset({"get", "post", "put", "patch", "delete", "route", "api_route", "websocket", "head",
                              "options"})
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})


@dataclass(frozen=True)
class TopStatement:
    """A statement at the top of a module, by its lines: a function, a class or other code."""

    start: int  # first line, decorators included (1-based)
    end: int  # last line
    kind: str  # FUNCTION, CLASS or CODE (everything else)
    name: str  # of the function or class; of the constant a `NAME = value` statement defines
    eager: bool  # parsed up front
    imports: Tuple[Import, ...] = ()  # what an import statement binds
    route: Optional[Route] = None  # of a decorated function
    bases: Tuple[str, ...] = ()  # of a class: the last part of each base's dotted name
    methods: Tuple[Tuple[str, Optional[Route]], ...] = ()  # of a class: its functions, with their routes

    @property
    def ever_parsed(self) -> bool:
        """False for imports and docstrings: what they say is read here, libcst never parses them."""
        return self.kind != CODE or self.eager or bool(self.name)


Outline = Tuple[TopStatement, ...]


def imports_of(shape: Outline) -> Iterator[Tuple[int, Import]]:
    """What the module's top-level import statements bind, in source order, with their line."""
    for statement in shape:
        for imported in statement.imports:
            yield statement.start, imported


def outline(text: str) -> Optional[Outline]:
    """The outline of `text`, or None when `ast` cannot parse it (libcst then parses it whole)."""
    try:
        tree = parse_ast(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    statements: List[TopStatement] = []
    # Lines are split only for a file with a line continuation (backslash, then the line end).
    lines = NEWLINE.split(text) if "\\\n" in text or "\\\r" in text else []
    for node in tree.body:
        statement = _top_statement(node)
        if lines and node.end_lineno and node.end_col_offset is not None:
            end = _joined_end(lines, node.end_lineno, node.end_col_offset)
            if end != statement.end:
                statement = dataclasses.replace(statement, end=end)
        if statements and statement.start <= statements[-1].end:  # `a = 1; b = 2` share a line
            previous = statements.pop()
            statement = TopStatement(previous.start, max(previous.end, statement.end), CODE, "", True)
        statements.append(statement)
    return tuple(statements)


def _joined_end(lines: List[str], end: int, end_column: int) -> int:
    """The last line of a statement whose last line ends with a backslash: the (blank or
    comment-only) lines it joins belong to it, or libcst would parse a statement cut short."""
    if not lines[end - 1].rstrip().endswith("\\"):
        return end
    rest = lines[end - 1].encode("utf-8")[end_column:]
    while rest.strip() == b"\\" and end < len(lines):
        end += 1
        rest = lines[end - 1].encode("utf-8")
    return end


def _top_statement(node: ast.stmt) -> TopStatement:
    end = node.end_lineno or node.lineno
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        start = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list])
        if isinstance(node, ast.ClassDef):
            # Bases make entry points (WorkerEntrypoint, DurableObject) and project base classes.
            methods = {item.name: route_of(item.decorator_list) for item in node.body
                       if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))}
            return TopStatement(start, end, CLASS, node.name, False, bases=base_names(node.bases),
                                methods=tuple(methods.items()))
        return TopStatement(start, end, FUNCTION, node.name, False, route=route_of(node.decorator_list))
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return TopStatement(node.lineno, end, CODE, "", False, _imports(node))
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):  # a docstring
        return TopStatement(node.lineno, end, CODE, "", False)
    target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else \
        node.target if isinstance(node, ast.AnnAssign) and node.value is not None else None
    if isinstance(target, ast.Name):  # a constant: parsed if its value is asked for
        return TopStatement(node.lineno, end, CODE, target.id, False)
    return TopStatement(node.lineno, end, CODE, "", True)


def base_names(bases: List[ast.expr]) -> Tuple[str, ...]:
    """`class A(workers.DurableObject, Mixin)` -> ("DurableObject", "Mixin")."""
    names = []
    for base in bases:
        inner = base
        while isinstance(inner, ast.Attribute):
            inner = inner.value
        if isinstance(inner, ast.Name):  # a dotted name, not `make_base().C` or `Generic[T]`
            names.append(base.attr if isinstance(base, ast.Attribute) else base.id)
    return tuple(names)


def route_of(decorators: List[ast.expr]) -> Optional[Route]:
    """The (method, path) of a route decorator: `@app.get("/x")`, `@router.route("/x", methods=["POST"])`."""
    for decorator in decorators:
        if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute) and decorator.args):
            continue
        verb, path = decorator.func.attr, decorator.args[0]
        if verb in ROUTE_DECORATORS and isinstance(path, ast.Constant) and isinstance(path.value, str):
            return (_route_method(verb, decorator), path.value)
    return None


def _route_method(verb: str, call: ast.Call) -> str:
    if verb not in ("route", "api_route"):
        return verb
    for keyword in call.keywords:
        if keyword.arg == "methods" and isinstance(keyword.value, (ast.List, ast.Tuple, ast.Set)):
            written = [element.value.lower() for element in keyword.value.elts
                       if isinstance(element, ast.Constant) and isinstance(element.value, str)
                       and element.value.lower() in WRITE_METHODS]
            if written:
                return written[0]
    return "get"


def _imports(node: Union[ast.Import, ast.ImportFrom]) -> Tuple[Import, ...]:
    if isinstance(node, ast.Import):  # `import a.b` binds `a`; `import a.b as c` binds `c` to a.b
        return tuple((alias.asname, alias.name, None) if alias.asname else
                     (alias.name.split(".")[0], alias.name.split(".")[0], None) for alias in node.names)
    source = "." * node.level + (node.module or "")
    return tuple((alias.asname or alias.name, source, alias.name) for alias in node.names if alias.name != "*")
