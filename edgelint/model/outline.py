"""The outline of a module, from Python's own parser: where each top-level statement lies and what
it defines.

libcst builds a tree four times slower than `ast`, and most of a Workers module (models, parsing,
formatting) never touches a binding. With the outline, libcst parses up front only the statements
the model cannot do without (module-level code, decorated functions, classes with bases: entry
points are among them) and every other function or class when the analysis first needs it
(`model.chunks`). The outline is plain data, so worker processes compute it for the parent.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import List, Optional, Tuple

from edgelint.textio import parse_ast

FUNCTION, CLASS, CODE = "function", "class", "code"


@dataclass(frozen=True)
class TopStatement:
    start: int  # first line, decorators included (1-based)
    end: int  # last line
    kind: str  # FUNCTION, CLASS or CODE (everything else, parsed up front)
    name: str
    eager: bool  # parsed up front


Outline = Tuple[TopStatement, ...]


def outline(text: str) -> Optional[Outline]:
    """The outline of `text`, or None when `ast` cannot parse it (libcst then parses it whole)."""
    try:
        tree = parse_ast(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    statements: List[TopStatement] = []
    for node in tree.body:
        statement = _top_statement(node)
        if statements and statement.start <= statements[-1].end:  # `a = 1; b = 2` share a line
            previous = statements.pop()
            statement = TopStatement(previous.start, max(previous.end, statement.end), CODE, "", True)
        statements.append(statement)
    return tuple(statements)


def _top_statement(node: ast.stmt) -> TopStatement:
    end = node.end_lineno or node.lineno
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        start = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list])
        if isinstance(node, ast.ClassDef):
            # Bases make entry points (WorkerEntrypoint, DurableObject) and project base classes.
            return TopStatement(start, end, CLASS, node.name, bool(node.bases or node.keywords))
        # Decorators make routes.
        return TopStatement(start, end, FUNCTION, node.name, bool(node.decorator_list))
    return TopStatement(node.lineno, end, CODE, "", True)
