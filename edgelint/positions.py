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
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import libcst as cst

from edgelint.model.parsing import is_shared
from edgelint.textio import NEWLINE, parse_ast

Span = Tuple[int, int, int, int]  # 1-based line, 0-based column, end line, end column
# Every Call of a module as `ast` sees it, in libcst's visiting order: its span and called name.
AstCalls = List[Tuple[Span, Optional[str]]]

# Fields whose dataclass order is not source order.
_SOURCE_ORDER = {
    "FunctionDef": ("decorators", "name", "type_parameters", "params", "returns", "body"),
    "ClassDef": ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    "IfExp": ("body", "test", "orelse"),
    "Parameters": ("posonly_params", "params", "star_arg", "kwonly_params", "star_kwarg"),
    "ExceptHandler": ("type", "name", "body"),
    "ExceptStarHandler": ("type", "name", "body"),
    "MatchCase": ("pattern", "guard", "body"),
    "Arg": ("value",),
}
_FIELD_CACHE: Dict[type, Tuple[str, ...]] = {}


def _fields(node_type: type) -> Tuple[str, ...]:
    names = _FIELD_CACHE.get(node_type)
    if names is None:
        names = _SOURCE_ORDER.get(node_type.__name__) or tuple(
            field.name for field in dataclasses.fields(node_type)
            if not field.name.startswith(("whitespace", "lpar", "rpar", "comma", "leading_lines"))
        )
        _FIELD_CACHE[node_type] = names
    return names


# What a field value is, by its type: a node, a sequence, or neither (a string, a sentinel, None).
# `CSTNode` is an ABC, and `isinstance` with an ABC costs several times a dict look-up.
_NODE, _SEQUENCE, _OTHER = 1, 2, 0
_KIND: Dict[type, int] = {}


def _kind(value: object) -> int:
    kind = _KIND.get(type(value))
    if kind is None:
        kind = _KIND[type(value)] = (_NODE if isinstance(value, cst.CSTNode) else
                                     _SEQUENCE if isinstance(value, (list, tuple)) else _OTHER)
    return kind


def children(node: cst.CSTNode) -> List[cst.CSTNode]:
    """The syntax children of a node in source order, whitespace left out (libcst's own
    `node.children` rebuilds the node to collect them)."""
    found: List[cst.CSTNode] = []
    kinds = _KIND
    for name in _fields(type(node)):
        value = getattr(node, name, None)
        kind = kinds.get(type(value))
        if kind is None:
            kind = _kind(value)
        if kind == _NODE:
            found.append(value)
        elif kind == _SEQUENCE:
            found.extend(item for item in value if (kinds.get(type(item)) or _kind(item)) == _NODE)
    return found


def is_scope(node: cst.CSTNode) -> bool:
    """A function, lambda or class: what `await`, names and `return` are scoped by."""
    return type(node) in _SCOPES  # node classes are final: `type` spares isinstance's ABC check (hot)


_SCOPES = frozenset({cst.FunctionDef, cst.Lambda, cst.ClassDef})


def _cst_calls(root: cst.CSTNode) -> List[cst.Call]:
    calls: List[cst.Call] = []
    stack: List[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        if type(node) is cst.Call:
            calls.append(node)
        stack.extend(reversed(children(node)))
    return calls


def _called_name(node) -> Optional[str]:
    if isinstance(node, (cst.Name, ast.Name)):
        return node.value if isinstance(node, cst.Name) else node.id
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def ast_calls(source: str, as_built: bool = False) -> Optional[AstCalls]:
    """The Call spans of `source` from Python's `ast` (None when `ast` cannot parse it): in source
    order (as libcst's tree is visited) or, `as_built`, in the order libcst builds them (after the
    calls inside them, children in `ast`'s field order, which is libcst's but for rare shapes such
    as a dict's keys and values)."""
    try:
        tree = parse_ast(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines = physical_lines(source)
    calls = _calls_after_their_children(tree)
    if not as_built:
        calls.sort(key=lambda n: (n.lineno, n.col_offset, -n.end_lineno, -n.end_col_offset))
    return [((call.lineno, _column(lines, call.lineno, call.col_offset),
              call.end_lineno, _column(lines, call.end_lineno, call.end_col_offset)), _called_name(call.func))
            for call in calls]


def _calls_after_their_children(tree: ast.AST) -> List[ast.Call]:
    calls: List[ast.Call] = []
    stack: List[Tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, visited = stack.pop()
        if visited:
            calls.append(node)  # type: ignore[arg-type]  # only calls are pushed twice
            continue
        if isinstance(node, ast.Call):
            stack.append((node, True))
        stack.extend((child, False) for child in reversed(list(ast.iter_child_nodes(node))))
    return calls


def physical_lines(source: str) -> List[str]:
    """The lines as Python numbers them. `str.splitlines` also splits at form feeds and other
    separators that Python keeps inside a line, and would shift every line after one."""
    return NEWLINE.split(source)


def _column(lines: List[str], line: int, byte_offset: int) -> int:
    """ast columns count UTF-8 bytes; reporters count characters."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    if text.isascii():
        return byte_offset
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def _paired(ours: Sequence[cst.Call], theirs: Optional[AstCalls], shift: int) -> Optional[Dict[int, Span]]:
    """Spans by id of libcst call, `ast`'s calls (of a part starting `shift` lines down) taken in
    the same order; None when `ast` could not parse the part, or the count or a called name differs."""
    if theirs is None or len(ours) != len(theirs):
        return None
    spans: Dict[int, Span] = {}
    for call, ((line, column, end_line, end_column), name) in zip(ours, theirs):
        if _called_name(call.func) != name:
            return None
        spans[id(call)] = (line + shift, column, end_line + shift, end_column)
    return spans


# A parsed piece of a module: its first and last line and its libcst tree (parsed from those lines).
Part = Tuple[int, int, "cst.Module"]


class PositionIndex:
    """Maps libcst nodes of one module to source spans.

    `parts` are the module's parsed pieces in source order (one covering the file when it was
    parsed whole; see edgelint.model.chunks); `ast` parses only the pieces that hold reported calls.
    """

    def __init__(self, parts: Sequence[Part], source: str, calls: Optional[Mapping[int, List[cst.Call]]] = None):
        """`calls`: by a part's first line, its call nodes in the order libcst built them (`ref`)."""
        self.parts = list(parts)
        self.source = source
        self.lines = physical_lines(source)
        self._part_of: Dict[int, int] = {}  # id of a libcst Call -> index of its part, for the parts walked
        self._part_calls: Dict[int, List[cst.Call]] = {}  # part index -> its calls, for the parts walked
        self._part_at = {first: index for index, (first, _, _) in enumerate(self.parts)}
        self._built = dict(calls or {})
        self._ordinals: Dict[int, Dict[int, int]] = {}  # part first line -> id of a call -> its ordinal
        self._spans: Dict[int, Optional[Dict[int, Span]]] = {}  # part index -> its call spans
        self._fallback: List[Tuple[int, Mapping]] = []

    def ref(self, node: cst.CSTNode, part_line: int) -> Optional[Tuple[int, int]]:
        """(first line of the part, ordinal among the part's calls as libcst built them): the same
        for the same call of the same text in any run, found without walking or positioning the
        tree. None for a node that is no call of a part parsed with its calls recorded."""
        lines = [part_line] if part_line in self._built else []
        for line in lines + [line for line in self._built if line != part_line]:
            ordinals = self._ordinals.get(line)
            if ordinals is None:
                ordinals = self._ordinals[line] = {id(call): index for index, call in enumerate(self._built[line])}
            if id(node) in ordinals:
                return (line, ordinals[id(node)])
        return None

    def _built_part(self, node: cst.CSTNode, hint: Optional[int]) -> Optional[int]:
        """The index of the part whose recorded calls include `node`, if any."""
        found = self.ref(node, self.parts[hint][0] if hint is not None else 0)
        return self._part_at.get(found[0]) if found is not None else None

    def span(self, node: cst.CSTNode, part_line: int = 0) -> Span:
        """The span of `node`; `part_line`, when known, is the first line of the parsed piece that
        holds it (only that piece is then searched)."""
        if is_shared(node):  # a rule reported a leaf node (edgelint.model.parsing): a bug, not a guess
            raise ValueError(f"a shared {type(node).__name__} node has no single position")
        hint = self._part_at.get(part_line)
        part = self._built_part(node, hint)
        if part is None:
            part = self._part_index(node, hint)
        if part is not None:
            if part not in self._spans:
                self._spans[part] = self._ast_spans(part)
            span = (self._spans[part] or {}).get(id(node))
            if span is not None:
                return span
        return self._provider_span(node)

    def _part_index(self, node: cst.CSTNode, hint: Optional[int]) -> Optional[int]:
        """The index of the part holding `node`: the `hint`ed part is walked first, every part only if
        the node is not there."""
        for index in ([hint] if hint is not None else []) + list(range(len(self.parts))):
            found = self._part_of.get(id(node))
            if found is not None:
                return found
            self._walk(index)
        return self._part_of.get(id(node))

    def _walk(self, index: int) -> None:
        if index in self._part_calls:
            return
        try:
            calls = _cst_calls(self.parts[index][2])
        except RecursionError:
            calls = []
        self._part_calls[index] = calls
        self._part_of.update((id(call), index) for call in calls)

    def _ast_spans(self, index: int) -> Optional[Dict[int, Span]]:
        """The spans of the part's calls, paired with `ast`'s: its calls as libcst built them
        (recorded when it was parsed), else as a walk of its tree finds them (source order). None
        when neither pairing agrees (count and called names)."""
        first, last, _ = self.parts[index]
        text = "\n".join(self.lines[first - 1:last])
        built = self._built.get(first)
        spans = _paired(built, ast_calls(text, as_built=True), first - 1) if built is not None else None
        if spans is None:  # `ast` is asked again, in source order: rare (a dict with calls as keys)
            self._walk(index)
            spans = _paired(self._part_calls[index], ast_calls(text), first - 1)
        return spans

    def _provider_span(self, node: cst.CSTNode) -> Span:
        from libcst.metadata import MetadataWrapper, PositionProvider  # rarely needed: imported then

        if not self._fallback:
            self._fallback = [(first - 1, MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider))
                              for first, _, tree in self.parts]
        for offset, positions in self._fallback:
            position = positions.get(node)
            if position is not None:
                return (position.start.line + offset, position.start.column,
                        position.end.line + offset, position.end.column)
        return (1, 0, 1, 0)
