"""libcst parsing that shares identical leaf nodes between trees.

A libcst tree keeps a node for every run of whitespace, every newline, bracket, comma, dot and
operator, every identifier and every literal: about 80 % of the nodes of ordinary code
(`SimpleWhitespace` alone is 45 %, `Name` 15 %), so a tree takes ~45 bytes per character of source.
These nodes are immutable and carry nothing but their text, and edgelint never asks about one by
identity: facts, findings, positions and fixes refer to calls, arguments, attributes and statements
(`tests/test_parsing.py` checks that no finding lands on a shared node). So one instance per
distinct value can serve every tree. That takes ~60 % off the memory of the trees, and parsing gets
~15 % faster, since a shared node is not built and validated again.

libcst's native parser builds each node by calling the class of that name on the `libcst` module.
While `parse_module` runs, each of these classes there is replaced by a caching factory that returns
real instances of the class, and put back afterwards; node validation (`CSTNode.__post_init__`) is
left out the same way, the grammar having checked what it checks. Code on another thread that used
one of these names *during* a parse would see the factory; edgelint parses on one thread.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Dict, List, Optional, Tuple

import libcst as cst
import libcst.native  # noqa: F401 - bound on the package now: libcst's parser asks the package for it (cstimport)

from edgelint.textio import for_parser

# Node classes whose fields are only text, flags and other shared nodes (libcst 1.x names).
TOKEN_CLASSES = (
    "SimpleWhitespace", "Newline", "TrailingWhitespace", "EmptyLine", "ParenthesizedWhitespace",
    "Comma", "Dot", "Colon", "Semicolon", "AssignEqual", "Asynchronous", "ImportStar",
    "LeftParen", "RightParen", "LeftSquareBracket", "RightSquareBracket", "LeftCurlyBrace", "RightCurlyBrace",
    "Add", "Subtract", "Multiply", "Divide", "FloorDivide", "Modulo", "Power", "MatrixMultiply",
    "LeftShift", "RightShift", "BitAnd", "BitOr", "BitXor", "BitInvert", "Minus", "Plus", "Not", "And", "Or",
    "Equal", "NotEqual", "LessThan", "LessThanEqual", "GreaterThan", "GreaterThanEqual", "In", "NotIn", "Is", "IsNot",
    "AddAssign", "SubtractAssign", "MultiplyAssign", "DivideAssign", "FloorDivideAssign", "ModuloAssign",
    "PowerAssign", "MatrixMultiplyAssign", "LeftShiftAssign", "RightShiftAssign", "BitAndAssign",
    "BitOrAssign", "BitXorAssign",
)
# Identifiers and literals (parentheses around one are shared tokens too).
LEAF_CLASSES = ("Name", "SimpleString", "Integer", "Float", "Imaginary")
SHARED_CLASSES = TOKEN_CLASSES + LEAF_CLASSES
# A long-running process (an editor's flake8) sees ever new code: stop sharing new values at this
# size, and never keep a long text (a docstring, say) alive for sharing.
MAX_SHARED = 50_000
MAX_SHARED_TEXT = 80

_shared: Dict[Tuple[Any, ...], cst.CSTNode] = {}
# id of each shared node (they stay alive in `_shared`) -> the names of the fields the parser made it from
_made_from: Dict[int, Tuple[str, ...]] = {}
_TEXT_TYPES = frozenset({str, bool, type(None)})


def _factory(cls: type) -> Callable[..., cst.CSTNode]:
    def make(**fields: Any) -> cst.CSTNode:
        # The key: the class, the field names, then each value: text and flags as they are, shared
        # nodes by id. A value that is not shared (a comment, say) makes the node unique too.
        key: List[Any] = [cls, *fields]
        for value in fields.values():
            if type(value) in _TEXT_TYPES:
                if type(value) is str and len(value) > MAX_SHARED_TEXT:
                    return cls(**fields)
                key.append(value)
            elif id(value) in _made_from:
                key.append(id(value))
            elif type(value) is tuple and all(id(item) in _made_from for item in value):
                key.append(tuple(map(id, value)))
            else:
                return cls(**fields)
        frozen = tuple(key)
        node = _shared.get(frozen)
        if node is None:
            node = cls(**fields)
            if len(_shared) < MAX_SHARED:
                _share(frozen, node, tuple(fields))
        return node

    return make


def _value_factory(cls: type, general: Callable[..., cst.CSTNode]) -> Callable[..., cst.CSTNode]:
    """The factory of a class built from its text alone (`SimpleWhitespace`, `Newline`: 40 % of
    all nodes): keyed by the text, without the general factory's key building."""
    def make(value: Any = None, **fields: Any) -> cst.CSTNode:
        if fields:
            return general(value=value, **fields)
        key = (cls, value)
        node = _shared.get(key)
        if node is None:
            node = cls(value=value)
            if len(_shared) < MAX_SHARED and (type(value) is not str or len(value) <= MAX_SHARED_TEXT):
                _share(key, node, ("value",))
        return node

    return make


def _leaf_factory(cls: type, general: Callable[..., cst.CSTNode]) -> Callable[..., cst.CSTNode]:
    """The factory of an identifier or literal: one without parentheses is keyed by its text."""
    def make(value: Any = None, lpar: Any = (), rpar: Any = (), **fields: Any) -> cst.CSTNode:
        if fields or lpar or rpar or type(value) is not str:
            return general(value=value, lpar=lpar, rpar=rpar, **fields)
        key = (cls, value)
        node = _shared.get(key)
        if node is None:
            node = cls(value=value, lpar=lpar, rpar=rpar)
            if len(_shared) < MAX_SHARED and len(value) <= MAX_SHARED_TEXT:
                _share(key, node, ("value",))
        return node

    return make


def _share(key: Tuple[Any, ...], node: cst.CSTNode, fields: Tuple[str, ...]) -> None:
    """Keep `node` for every tree; `fields`: the names of the fields it was made from, as the parser
    passed them (it leaves some out: `shared_key` must name it as the parser did)."""
    _shared[key] = node
    _made_from[id(node)] = fields


def is_shared(node: Any) -> bool:
    """Whether `node` may stand in several places of several trees (so it has no one position)."""
    return id(node) in _made_from


# A shared node as another process can name it: its class and fields, shared fields by their own
# key (edgelint.parse_ahead sends trees with shared nodes as keys). Shared nodes live as long as
# the process, so their ids name them here.
SharedKey = Tuple[Any, ...]
_keys: Dict[int, SharedKey] = {}
_by_key: Dict[SharedKey, cst.CSTNode] = {}


def shared_key(node: cst.CSTNode) -> SharedKey:
    """The key of a shared node (`is_shared`): the same in every process for nodes of the same text."""
    key = _keys.get(id(node))
    if key is None:
        key = _keys[id(node)] = (type(node).__name__, tuple(
            (name, _value_key(getattr(node, name))) for name in _made_from[id(node)]))
    return key


def _value_key(value: Any) -> Any:
    if type(value) is tuple:
        return ("tuple", tuple(shared_key(item) for item in value))
    if type(value) in _TEXT_TYPES:
        return ("text", value)
    return ("node", shared_key(value))  # a shared node's fields are text, flags and shared nodes


def shared_node(key: SharedKey) -> cst.CSTNode:
    """The node of this process for a `shared_key` of another's: shared here too. LookupError when
    this process shares no more nodes (`MAX_SHARED`): the tree it is part of is parsed here."""
    node = _by_key.get(key)
    if node is None:
        name, fields = key
        node = _factory_named(name)(**{field: _value_of(value) for field, value in fields})
        if not is_shared(node):
            raise LookupError("the shared nodes are full")
        _by_key[key] = node
    return node


def shared_classes() -> Tuple[type, ...]:
    """The node classes whose instances may be shared."""
    return tuple(cls for _, cls, _ in _factories())


@lru_cache(maxsize=None)
def _factory_named(name: str) -> Callable[..., cst.CSTNode]:
    return next(factory for factory_name, _, factory in _factories() if factory_name == name)


def _value_of(value_key: Any) -> Any:
    kind, value = value_key
    if kind == "tuple":
        return tuple(shared_node(item) for item in value)
    return value if kind == "text" else shared_node(value)


@lru_cache(maxsize=None)
def _factories() -> Tuple[Tuple[str, type, Callable[..., cst.CSTNode]], ...]:
    """(name, class, factory) of each node class the parser builds through a factory. Built on the
    first parse: a run that finds everything in its cache never imports libcst."""
    classes = [(name, getattr(cst, name)) for name in SHARED_CLASSES if hasattr(cst, name)]
    return tuple((name, cls, _special.get(name, _plain)(cls, _factory(cls))) for name, cls in classes)


def _plain(cls: type, general: Callable[..., cst.CSTNode]) -> Callable[..., cst.CSTNode]:
    return general


# Factories with a cheaper key for the commonest shapes (the general key is the class, the field
# names and the values: a tuple of seven for a `Name`). Their keys are (class, text): no general key
# has two items, so the two kinds never meet in `_shared`.
_special = {"SimpleWhitespace": _value_factory, "Newline": _value_factory,
            **{name: _leaf_factory for name in LEAF_CLASSES}}


# Where trees parsed elsewhere are taken from while the analysis runs: the tree store of the last
# run, a process parsing ahead (engine.ProjectRun._trees_elsewhere).
Elsewhere = Callable[[str], Optional[Tuple[cst.Module, List[cst.Call]]]]
_elsewhere: Optional[Elsewhere] = None


def parse_elsewhere(provider: Optional[Elsewhere]) -> None:
    """Take the trees `provider(text)` has (None: it has not) before parsing; None: parse here."""
    global _elsewhere
    _elsewhere = provider


def parse_module(text: str, calls: Optional[List[cst.Call]] = None) -> cst.Module:
    """`libcst.parse_module(text)`, with leaf nodes shared between trees. `calls`, when given, gets
    every call node of the tree in the order the parser built them: an identity for a call across
    runs over the same text (edgelint.candidates), known without walking the tree."""
    if _elsewhere is not None:
        found = _elsewhere(text)
        if found is not None:
            if calls is not None:
                calls.extend(found[1])
            return found[0]
    factories = _factories()
    for name, _, factory in factories:
        setattr(cst, name, factory)
    real_call = cst.Call
    if calls is not None:
        cst.Call = _recording(real_call, calls)
    validate = cst.CSTNode.__post_init__
    cst.CSTNode.__post_init__ = _unchecked  # type: ignore[method-assign]
    try:
        return cst.parse_module(for_parser(text))
    finally:
        cst.CSTNode.__post_init__ = validate  # type: ignore[method-assign]
        cst.Call = real_call
        for name, cls, _ in factories:
            setattr(cst, name, cls)


def _unchecked(self: cst.CSTNode) -> None:
    """Stands for `CSTNode.__post_init__` (which calls `_validate`) while the parser builds a tree:
    the grammar already guarantees what validation checks of a node, and it costs ~9 % of a parse.
    Nodes edgelint builds itself (fixes) are validated as usual."""


def _recording(cls: type, made: List[cst.CSTNode]) -> Callable[..., cst.CSTNode]:
    def make(**fields: Any) -> cst.CSTNode:
        node = cls(**fields)
        made.append(node)
        return node

    return make
