"""Source positions of libcst nodes, computed only for files that have findings.

libcst's PositionProvider re-generates the whole file's code to find positions, which costs about
twice the parse. Python's own `ast` parser is several times faster than libcst and records
positions, so we pair the Call nodes of both trees in source order and read positions from `ast`.
The pairing is verified (same count, same called names); if it ever disagrees we fall back to
PositionProvider, so positions are always right.
"""
from __future__ import annotations

import ast
import dataclasses
from typing import Dict, List, Optional, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

Span = Tuple[int, int, int, int]  # 1-based line, 0-based column, end line, end column

# Fields whose dataclass order is not source order.
_SOURCE_ORDER = {
    cst.FunctionDef: ("decorators", "name", "type_parameters", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    cst.IfExp: ("body", "test", "orelse"),
    cst.Parameters: ("posonly_params", "params", "star_arg", "kwonly_params", "star_kwarg"),
    cst.ExceptHandler: ("type", "name", "body"),
    cst.MatchCase: ("pattern", "guard", "body"),
    cst.Arg: ("value",),
}
_FIELD_CACHE: Dict[type, Tuple[str, ...]] = {}


def _fields(node_type: type) -> Tuple[str, ...]:
    names = _FIELD_CACHE.get(node_type)
    if names is None:
        names = _SOURCE_ORDER.get(node_type) or tuple(
            field.name for field in dataclasses.fields(node_type)
            if not field.name.startswith(("whitespace", "lpar", "rpar", "comma", "leading_lines"))
        )
        if hasattr(cst, "ExceptStarHandler") and node_type is getattr(cst, "ExceptStarHandler"):
            names = _SOURCE_ORDER[cst.ExceptHandler]
        _FIELD_CACHE[node_type] = names
    return names


def _cst_calls(root: cst.CSTNode) -> List[cst.Call]:
    calls: List[cst.Call] = []
    stack: List[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        if type(node) is cst.Call:
            calls.append(node)
        children: List[cst.CSTNode] = []
        for name in _fields(type(node)):
            value = getattr(node, name, None)
            if isinstance(value, cst.CSTNode):
                children.append(value)
            elif isinstance(value, (list, tuple)):
                children.extend(item for item in value if isinstance(item, cst.CSTNode))
        stack.extend(reversed(children))
    return calls


def _called_name(node) -> Optional[str]:
    if isinstance(node, (cst.Name, ast.Name)):
        return node.value if isinstance(node, cst.Name) else node.id
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


class PositionIndex:
    """Maps libcst nodes of one module to source spans."""

    def __init__(self, tree: cst.Module, source: str):
        self.tree = tree
        self.source = source
        self.lines = source.splitlines()
        self._spans: Optional[Dict[int, Span]] = None
        self._fallback = None

    def span(self, node: cst.CSTNode) -> Span:
        if self._spans is None:
            self._spans = self._ast_spans() or {}
        span = self._spans.get(id(node))
        if span is not None:
            return span
        return self._provider_span(node)

    def _ast_spans(self) -> Optional[Dict[int, Span]]:
        try:
            tree = ast.parse(self.source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        ast_calls = sorted(
            (node for node in ast.walk(tree) if isinstance(node, ast.Call)),
            key=lambda n: (n.lineno, n.col_offset, -n.end_lineno, -n.end_col_offset),
        )
        try:
            cst_calls = _cst_calls(self.tree)
        except RecursionError:
            return None
        if len(ast_calls) != len(cst_calls):
            return None
        spans: Dict[int, Span] = {}
        for ours, theirs in zip(cst_calls, ast_calls):
            if _called_name(ours.func) != _called_name(theirs.func):
                return None
            spans[id(ours)] = (
                theirs.lineno,
                self._column(theirs.lineno, theirs.col_offset),
                theirs.end_lineno,
                self._column(theirs.end_lineno, theirs.end_col_offset),
            )
        return spans

    def _column(self, line: int, byte_offset: int) -> int:
        """ast columns count UTF-8 bytes; reporters count characters."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if text.isascii():
            return byte_offset
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))

    def _provider_span(self, node: cst.CSTNode) -> Span:
        if self._fallback is None:
            self._fallback = MetadataWrapper(self.tree, unsafe_skip_copy=True).resolve(PositionProvider)
        position = self._fallback.get(node)
        if position is None:
            return (1, 0, 1, 0)
        return (position.start.line, position.start.column, position.end.line, position.end.column)
