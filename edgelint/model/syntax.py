"""How code is written around a call: facts rules read from the syntax tree, not from the data flow.

The interpreter knows what values flow into KV / Durable Object calls. Some rules also need the
shape of the code: the options dict built next to a call, the loop around a `sleep`, whether a
statement runs on every path, the assert that checks a read. These helpers answer such questions
over libcst trees; they never run the interpreter and never guess binding kinds.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import PurePath
from dataclasses import dataclass
from typing import Any, Callable, Collection, Dict, FrozenSet, Iterable, Iterator, List, Optional, Set, Tuple

import libcst as cst

from edgelint.model.literals import dotted_name, string_value
from edgelint.model.project import ModuleInfo, identifier_words
from edgelint.model.parsing import is_shared
from edgelint.positions import children, is_scope

SECONDS_CLOCKS = frozenset({"time.time", "time.monotonic"})
MILLISECOND_CLOCKS = frozenset({"js.Date.now", "Date.now"})
DATETIME_NOW = frozenset({"datetime.datetime.now", "datetime.datetime.utcnow", "datetime.now", "datetime.utcnow"})
PASS_THROUGH = frozenset({"int", "float", "round", "math.floor", "math.ceil"})
MAX_DEPTH = 12  # names resolved through names: bounds cycles such as `ttl = max(ttl, 1)`


# ---------------------------------------------------------------------------- walking trees


def walk(node: cst.CSTNode, into_scopes: bool = False) -> Iterator[cst.CSTNode]:
    """`node` and its descendants in source order; nested functions and classes only when asked."""
    stack: List[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        yield current
        if current is not node and not into_scopes and is_scope(current):
            continue
        stack.extend(reversed(children(current)))


def calls_in(node: cst.CSTNode, into_scopes: bool = False) -> Iterator[cst.Call]:
    return (child for child in walk(node, into_scopes) if isinstance(child, cst.Call))


def contains(root: cst.CSTNode, target: cst.CSTNode) -> bool:
    return any(node is target for node in walk(root, into_scopes=True))


def path_to(root: cst.CSTNode, target: cst.CSTNode) -> List[cst.CSTNode]:
    """The nodes from `root` down to `target`, both included (empty when `target` is elsewhere)."""
    parents: Dict[int, cst.CSTNode] = {}
    stack: List[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        if node is target:
            path = [node]
            while id(path[-1]) in parents:
                path.append(parents[id(path[-1])])
            return path[::-1]
        for child in children(node):
            parents[id(child)] = node
            stack.append(child)
    return []


# Facts of one function that several questions about it share (a dispatching `fetch` is asked once
# per route it reaches): kept for the few functions asked about last, with the node itself, so that
# an id is never taken for another node's.
_MEMO: "OrderedDict[Tuple[int, str], Tuple[cst.CSTNode, Any]]" = OrderedDict()
_MEMO_SIZE = 8


def _memo(node: cst.CSTNode, what: str, compute: Callable[[], Any]) -> Any:
    key = (id(node), what)
    hit = _MEMO.get(key)
    if hit is not None and hit[0] is node:
        _MEMO.move_to_end(key)
        return hit[1]
    value = compute()
    _MEMO[key] = (node, value)
    if len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return value


def _parents(root: cst.CSTNode) -> Dict[int, cst.CSTNode]:
    """id(node) -> its parent, for every node under `root` (nested scopes included)."""
    parents: Dict[int, cst.CSTNode] = {}
    stack: List[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        for child in children(node):
            parents[id(child)] = node
            stack.append(child)
    return parents


def _path_in_function(function: cst.FunctionDef, target: cst.CSTNode) -> List[cst.CSTNode]:
    """`path_to(function, target)`, from a parent map made once per function. A shared leaf has
    no one parent: it is looked for the slow way."""
    if is_shared(target):
        return path_to(function, target)
    parents = _memo(function, "parents", lambda: _parents(function))
    if target is not function and id(target) not in parents:
        return []
    path = [target]
    while path[-1] is not function:
        path.append(parents[id(path[-1])])
    return path[::-1]


def innermost_function(root: cst.CSTNode, target: cst.CSTNode) -> Optional[cst.FunctionDef]:
    """The innermost `def` around `target` (a local function, not the method it sits in)."""
    return next((node for node in reversed(path_to(root, target)) if isinstance(node, cst.FunctionDef)), None)


def qualified_name(module: ModuleInfo, node: cst.BaseExpression) -> Optional[str]:
    """`sleep` after `from asyncio import sleep` -> `asyncio.sleep`; `aio.sleep` -> `asyncio.sleep`."""
    dotted = dotted_name(node)
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    imported = module.imports.get(head)
    if imported is None:
        return dotted
    source, attr = imported
    base = f"{source}.{attr}" if attr else source
    return f"{base}.{rest}" if rest else base


def last_name(node: cst.BaseExpression) -> Optional[str]:
    """`self.assertEqual` -> `assertEqual`; `patch.object` -> `object`."""
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return node.value if isinstance(node, cst.Name) else None


# ---------------------------------------------------------------------------- names in a function


class Scope:
    """What names seen from one node hold: their single binding in the innermost function around
    the node, else a module constant. The function is found and indexed once, when first asked."""

    def __init__(self, module: ModuleInfo, root: cst.CSTNode, anchor: cst.CSTNode):
        self.module = module
        self._root, self._anchor = root, anchor
        self._index: Optional[_FunctionIndex] = None

    def value_of(self, name: str) -> Optional[cst.BaseExpression]:
        """The expression `name` was bound to, when it was bound exactly once (else unknown)."""
        index = self._function_index()
        if name in index.parameters:
            return None
        values = index.values.get(name)
        if values is not None:
            return values[0] if len(values) == 1 else None
        return self.module.constant(name)

    def item_stores(self, name: str) -> List[Tuple[cst.Subscript, cst.BaseExpression]]:
        """`name["key"] = value` statements of the function: entries added to a dict after it was built."""
        return self._function_index().stores.get(name, [])

    def _function_index(self) -> "_FunctionIndex":
        if self._index is None:
            self._index = _FunctionIndex(innermost_function(self._root, self._anchor))
        return self._index


class _FunctionIndex:
    """The parameters, name bindings and item stores of one function, collected in one walk. A
    binding is None when it is not one expression (augmented, unpacked, loop or `as` target)."""

    def __init__(self, function: Optional[cst.FunctionDef]):
        self.parameters: FrozenSet[str] = frozenset(_parameter_names(function)) if function else frozenset()
        self.values: Dict[str, List[Optional[cst.BaseExpression]]] = {}
        self.stores: Dict[str, List[Tuple[cst.Subscript, cst.BaseExpression]]] = {}
        for node in walk(function) if function is not None else ():
            if isinstance(node, cst.Assign):
                for target in node.targets:
                    self._bind(target.target, node.value)
            elif isinstance(node, (cst.AnnAssign, cst.NamedExpr)) and node.value is not None:
                self._bind(node.target, node.value)
            elif isinstance(node, (cst.AugAssign, cst.For)):
                self._bind(node.target, None)
            elif isinstance(node, cst.AsName):
                self._bind(node.name, None)

    def _bind(self, target: cst.CSTNode, value: Optional[cst.BaseExpression]) -> None:
        if isinstance(target, cst.Name):
            self.values.setdefault(target.value, []).append(value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind(element.value, None)
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name) and value is not None:
            self.stores.setdefault(target.value.value, []).append((target, value))


def _parameter_names(function: cst.FunctionDef) -> List[str]:
    params = function.params
    names = [p.name.value for p in list(params.posonly_params) + list(params.params) + list(params.kwonly_params)]
    names.extend(star.name.value for star in (params.star_arg, params.star_kwarg) if isinstance(star, cst.Param))
    return names


# ---------------------------------------------------------------------------- numbers


@dataclass(frozen=True)
class Linear:
    """A number known as `clock * now_in_seconds + offset`, the offset within [lo, hi].

    `clock` is 0 for plain numbers, 1 for a Unix time in seconds, 1000 for one in milliseconds;
    a bound is None when nothing is proven about it.
    """

    clock: float = 0.0
    lo: Optional[float] = None
    hi: Optional[float] = None

    @property
    def exact(self) -> Optional[float]:
        if self.clock == 0 and self.lo is not None and self.lo == self.hi:
            return self.lo
        return None


UNKNOWN_NUMBER = Linear()


def linear(node: Optional[cst.BaseExpression], scope: Scope, depth: int = 0) -> Linear:
    """What is provable about a numeric expression: constants, module constants, names assigned
    once, `+ - * / //`, `max`/`min` clamps, `int()`/`round()`, and the clock."""
    if node is None or depth > MAX_DEPTH:
        return UNKNOWN_NUMBER
    if isinstance(node, (cst.Integer, cst.Float)):
        value = float(node.evaluated_value)
        return Linear(0.0, value, value)
    if isinstance(node, cst.Name):
        return linear(scope.value_of(node.value), scope, depth + 1)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        inner = linear(node.expression, scope, depth + 1)
        return _scale(inner, -1.0) if isinstance(node.operator, cst.Minus) else inner
    if isinstance(node, cst.BinaryOperation):
        return _binary(node, scope, depth)
    if isinstance(node, cst.Call):
        return _call(node, scope, depth)
    return UNKNOWN_NUMBER


def _binary(node: cst.BinaryOperation, scope: Scope, depth: int) -> Linear:
    left, right = linear(node.left, scope, depth + 1), linear(node.right, scope, depth + 1)
    operator = node.operator
    if isinstance(operator, cst.Add):
        return _add(left, right)
    if isinstance(operator, cst.Subtract):
        return _add(left, _scale(right, -1.0))
    if isinstance(operator, cst.Multiply):
        if right.exact is not None:
            return _scale(left, right.exact)
        return _scale(right, left.exact) if left.exact is not None else UNKNOWN_NUMBER
    if isinstance(operator, (cst.Divide, cst.FloorDivide)) and right.exact:
        return _scale(left, 1.0 / right.exact)
    return UNKNOWN_NUMBER


def _call(node: cst.Call, scope: Scope, depth: int) -> Linear:
    name = qualified_name(scope.module, node.func)
    args = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
    if name in SECONDS_CLOCKS or _is_datetime_timestamp(node, scope.module):
        return Linear(1.0, 0.0, 0.0)
    if name in MILLISECOND_CLOCKS:
        return Linear(1000.0, 0.0, 0.0)
    if name in PASS_THROUGH and len(args) == 1:
        inner = linear(args[0], scope, depth + 1)
        return Linear(inner.clock, _floor(inner.lo), inner.hi)
    if name in ("max", "min") and len(args) >= 2 and len(args) == len(node.args):
        return _clamp(name, [linear(arg, scope, depth + 1) for arg in args])
    return UNKNOWN_NUMBER


def _is_datetime_timestamp(node: cst.Call, module: ModuleInfo) -> bool:
    """`datetime.now().timestamp()`"""
    func = node.func
    return (isinstance(func, cst.Attribute) and func.attr.value == "timestamp" and isinstance(func.value, cst.Call)
            and qualified_name(module, func.value.func) in DATETIME_NOW)


def _clamp(name: str, values: List[Linear]) -> Linear:
    """`max(x, 1)` is at least 1 whatever x is; `min(x, 30)` at most 30."""
    if any(value.clock for value in values):
        return UNKNOWN_NUMBER
    los = [value.lo for value in values]
    his = [value.hi for value in values]
    if name == "max":
        known = [lo for lo in los if lo is not None]
        return Linear(0.0, max(known) if known else None, None if None in his else max(his))
    known = [hi for hi in his if hi is not None]
    return Linear(0.0, None if None in los else min(los), min(known) if known else None)


def _add(left: Linear, right: Linear) -> Linear:
    lo = left.lo + right.lo if left.lo is not None and right.lo is not None else None
    hi = left.hi + right.hi if left.hi is not None and right.hi is not None else None
    return Linear(left.clock + right.clock, lo, hi)


def _scale(value: Linear, factor: float) -> Linear:
    lo = value.lo * factor if value.lo is not None else None
    hi = value.hi * factor if value.hi is not None else None
    return Linear(value.clock * factor, *((hi, lo) if factor < 0 else (lo, hi)))


def _floor(value: Optional[float]) -> Optional[float]:
    return float(math.floor(value)) if value is not None else None


# ---------------------------------------------------------------------------- KV options


OPTION_POSITIONS = {"get": 1, "getWithMetadata": 1, "put": 2, "list": 0}  # where an options dict goes
PLAIN_PARAMETERS = frozenset({"key", "value"})  # keyword spellings of positional parameters


@dataclass(frozen=True)
class Option:
    """One option passed to a call: its name, where it is written, and its value."""

    name: str
    node: cst.CSTNode  # the keyword argument, dict entry or `opts["name"] = ...` target
    value: cst.BaseExpression


def call_options(call: cst.Call, method: str, scope: Scope) -> List[Option]:
    """The options of a KV call: keyword arguments, an options dict (literal, or a name built nearby
    as a literal, `dict(...)` and `opts["x"] = ...`), and `**opts` of either kind."""
    options: List[Option] = []
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value not in PLAIN_PARAMETERS:
            options.append(Option(arg.keyword.value, arg, arg.value))
        elif arg.star == "**":
            options.extend(dict_options(arg.value, scope))
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    position = OPTION_POSITIONS.get(method)
    if position is not None and len(positional) > position:
        options.extend(dict_options(positional[position].value, scope))
    return options


def dict_options(node: Optional[cst.BaseExpression], scope: Scope, depth: int = 0) -> List[Option]:
    if isinstance(node, cst.Dict):
        found: List[Option] = []
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):  # {**base, ...}
                found.extend(dict_options(element.value, scope, depth + 1))
            elif string_value(element.key) is not None:
                found.append(Option(string_value(element.key), element, element.value))
        return found
    if isinstance(node, cst.Call) and dotted_name(node.func) == "dict":
        return [Option(arg.keyword.value, arg, arg.value) for arg in node.args if arg.keyword is not None]
    if isinstance(node, cst.Call) and last_name(node.func) == "to_js" and node.args and depth < MAX_DEPTH:
        return dict_options(node.args[0].value, scope, depth + 1)  # pyodide's to_js(dict, ...)
    if isinstance(node, cst.Name) and depth < MAX_DEPTH:
        built = dict_options(scope.value_of(node.value), scope, depth + 1)
        added = [Option(key, target, value) for target, value in scope.item_stores(node.value)
                 for key in [_subscript_key(target)] if key is not None]
        return built + added
    return []


def _subscript_key(target: cst.Subscript) -> Optional[str]:
    elements = target.slice
    if len(elements) == 1 and isinstance(elements[0].slice, cst.Index):
        return string_value(elements[0].slice.value)
    return None


# ---------------------------------------------------------------------------- control flow


def unconditional_calls(body: cst.BaseSuite) -> List[cst.Call]:
    """Calls made on every normal run of a block: those before any statement that may leave it
    early, outside branches and loops (`with` bodies and `try` bodies count as unconditional)."""
    calls, _ = _unconditional(_statements(body))
    return calls


def _unconditional(statements: List[cst.CSTNode]) -> Tuple[List[cst.Call], bool]:
    calls: List[cst.Call] = []
    for statement in statements:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                calls.extend(calls_in(small))
                if isinstance(small, (cst.Return, cst.Raise)):
                    return calls, True
            continue
        if isinstance(statement, (cst.With, cst.Try)):
            blocks = [statement.body] + ([statement.finalbody.body] if getattr(statement, "finalbody", None) else [])
            for block in blocks:
                inner, exited = _unconditional(_statements(block))
                calls.extend(inner)
                if exited:
                    return calls, True
        if not isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and may_exit(statement):
            return calls, True
    return calls, False


def _statements(suite: cst.BaseSuite) -> List[cst.CSTNode]:
    if isinstance(suite, cst.IndentedBlock):
        return list(suite.body)
    return [cst.SimpleStatementLine(body=suite.body)] if isinstance(suite, cst.SimpleStatementSuite) else []


def may_exit(node: cst.CSTNode) -> bool:
    """A `return` or `raise` somewhere in the statement (outside nested functions)."""
    return any(isinstance(child, (cst.Return, cst.Raise)) for child in walk(node))


def calls_in_while_loops(function: cst.FunctionDef, module: ModuleInfo, name: str) -> List[cst.Call]:
    """Calls of `name` (qualified, e.g. `asyncio.sleep`) inside `while` loops of a function that
    are not short counted retries (`while attempt < 3: ... attempt += 1`, like `for _ in range(3)`)."""
    found: Dict[int, cst.Call] = {}
    for loop in walk(function.body, into_scopes=True):
        if isinstance(loop, cst.While) and not _is_counted(loop):
            for call in calls_in(loop.body, into_scopes=True):
                if qualified_name(module, call.func) == name:
                    found[id(call)] = call
    return list(found.values())


MAX_RETRIES = 10


def _is_counted(loop: cst.While) -> bool:
    """`while n < LIMIT` (any comparison with an integer up to MAX_RETRIES) with `n += ...` or
    `n -= ...` in the body."""
    test = loop.test
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.left, cst.Name)):
        return False
    limit = test.comparisons[0].comparator
    if not (isinstance(limit, cst.Integer) and limit.evaluated_value <= MAX_RETRIES):
        return False
    counter = test.left.value
    return any(isinstance(node, cst.AugAssign) and isinstance(node.target, cst.Name) and node.target.value == counter
               for node in walk(loop.body))


# ---------------------------------------------------------------------------- WebSockets

WEBSOCKET_WORDS = frozenset({"ws", "websocket", "socket", "sock"})


def websocket_accepts(function: cst.FunctionDef) -> List[cst.Call]:
    """`x.accept()` calls (no arguments) on a server-side WebSocket: `x` comes from a `WebSocketPair`,
    or its name says it is a socket (`ws`, `websocket`, `self.socket`) and it is not the client end
    of an outgoing connection (`response.webSocket`, which cannot hibernate)."""
    pair_names = _names_bound(function, lambda value, names: _mentions(value, names | {"WebSocketPair"}))
    outgoing = _names_bound(function,
                            lambda value, names: _mentions(value, names) or _reads_attribute(value, "webSocket"))
    found = []
    for call in calls_in(function, into_scopes=True):
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "accept" and not call.args):
            continue
        receiver = last_name(func.value)
        if receiver is None or receiver in outgoing:
            continue
        if receiver in pair_names or WEBSOCKET_WORDS & set(identifier_words(receiver)):
            found.append(call)
    return found


def _reads_attribute(node: cst.CSTNode, name: str) -> bool:
    return any(isinstance(child, cst.Attribute) and child.attr.value == name for child in walk(node))


def _names_bound(function: cst.FunctionDef, from_value: Callable[[cst.BaseExpression, Set[str]], bool]) -> Set[str]:
    """Names assigned from a value that `from_value` accepts, given the names found before it (so
    that `a = pair[0]` after `pair = WebSocketPair()` counts)."""
    names: Set[str] = set()
    for node in walk(function, into_scopes=True):
        if type(node) is cst.Assign and from_value(node.value, names):
            for target in node.targets:
                names.update(_target_names(target.target))
    return names


def _target_names(target: cst.BaseExpression) -> Iterator[str]:
    """`a, b = ...` -> a, b; `self.ws = ...` -> ws."""
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _target_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _target_names(target.value)
    else:
        name = last_name(target)
        if name is not None:
            yield name


def gated_by_fetched_response(function: cst.FunctionDef, target: cst.CSTNode) -> bool:
    """Whether `target` runs only under a condition on the response of an awaited GET `fetch`
    (`resp = await fetch(url)`, then `if resp.status == 404:`): what it does there records what
    the origin answered, as a cache does."""
    responses = _memo(function, "fetched", lambda: _names_bound(function, lambda value, names: _is_fetched(value)))
    if not responses:
        return False
    ancestors = _path_in_function(function, target)
    return any(isinstance(node, cst.If) and not contains(node.test, target) and _mentions(node.test, responses)
               for node in ancestors)


def guarded_by_module_cache(function: cst.FunctionDef, target: cst.CSTNode) -> bool:
    """Whether `target` runs only under a condition on a per-isolate cache: a module global the
    function rebinds (`global _flags` ... `if _flags is None or now - _flags_at > 60:`) or a
    module-level dict it fills (`if key not in _CACHE: _CACHE[key] = ...`)."""
    declared, local, caches = _memo(function, "caches", lambda: _cache_names(function))
    if not caches:
        return False  # no name of the function can be a per-isolate cache: no path to look along
    for node in _path_in_function(function, target):
        if not isinstance(node, cst.If) or contains(node.test, target):
            continue
        if _mentions(node.test, declared | (_filled(node.body) - local)):
            return True
    return False


def _cache_names(function: cst.FunctionDef) -> Tuple[Set[str], Set[str], Set[str]]:
    """The names `function` declares `global`, the other names it assigns (nested functions
    included), and the names a per-isolate cache of it may go by (those globals, and the
    non-local names it or a nested function fills). One walk: a dispatching `fetch` is long."""
    declared: Set[str] = set()
    assigned: Set[str] = set()
    filled: Set[str] = set()
    stack: List[Tuple[cst.CSTNode, bool]] = [(function, False)]  # (node, inside a nested scope)
    while stack:
        node, nested = stack.pop()
        kind = type(node)
        if kind is cst.Global and not nested:
            declared.update(name.name.value for name in node.names)
        elif kind is cst.Assign:
            for target in node.targets:
                assigned.update(_target_names(target.target))
        else:
            filled.update(name for name in (_filled_name(node),) if name is not None)
        inner = nested or (node is not function and is_scope(node))
        stack.extend((child, inner) for child in children(node))
    local = assigned - declared
    return declared, local, declared | (filled - local)


def _filled(node: cst.CSTNode) -> Set[str]:
    """Names assigned by subscript under `node` (`_CACHE[key] = ...` fills `_CACHE`)."""
    return {name for element in walk(node) for name in (_filled_name(element),) if name is not None}


def _filled_name(node: cst.CSTNode) -> Optional[str]:
    """The name an assignment to a subscript fills (`_CACHE[key] = ...`: `_CACHE`), when `node` is one."""
    if type(node) is cst.AssignTarget and type(node.target) is cst.Subscript:
        return last_name(node.target.value)
    return None


def _is_fetched(value: cst.BaseExpression) -> bool:
    """`await fetch(url)`, `await env.ORIGIN.fetch(url)`: a GET (no method other than GET, no body)."""
    if not (isinstance(value, cst.Await) and isinstance(value.expression, cst.Call)):
        return False
    call = value.expression
    if last_name(call.func) != "fetch":
        return False
    for child in walk(call):  # keyword arguments and options dicts alike
        if isinstance(child, cst.Arg):
            name = child.keyword.value if child.keyword is not None else None
        else:
            name = string_value(child.key) if isinstance(child, cst.DictElement) else None
        if name == "body" or (name == "method" and string_value(child.value) not in ("GET", "get")):
            return False
    return True


def _mentions(node: cst.CSTNode, names: Set[str]) -> bool:
    return any(isinstance(child, cst.Name) and child.value in names for child in walk(node))


# ---------------------------------------------------------------------------- conditions and asserts


def condition_texts(function: cst.CSTNode) -> Set[str]:
    """Source text of every name and attribute tested in a condition (`if kv:`, `x or y`, `a if kv else b`)."""
    texts: Set[str] = set()
    module = cst.Module(body=[])
    for node in walk(function, into_scopes=True):
        tests: List[cst.CSTNode] = []
        if isinstance(node, (cst.If, cst.While, cst.IfExp)):
            tests.append(node.test)
        elif isinstance(node, cst.BooleanOperation):
            tests.append(node.left)
        for test in tests:
            texts.update(module.code_for_node(child) for child in walk(test)
                         if isinstance(child, (cst.Name, cst.Attribute)))
    return texts


def guarding_tests(root: cst.CSTNode, target: cst.CSTNode) -> List[cst.CSTNode]:
    """The conditions `target` runs under in `root`: the tests of the `if`, `while`, conditional
    expressions and `match` whose branches hold it, the left side of an `and`/`or` whose right side
    holds it, and the tests of its function's `if` statements that may leave early
    (`if not hasattr(env, "X"): return`)."""
    path = path_to(root, target)
    tests: List[cst.CSTNode] = []
    for parent, child in zip(path, path[1:]):
        if isinstance(parent, (cst.If, cst.While, cst.IfExp)) and child is not parent.test:
            tests.append(parent.test)
        elif isinstance(parent, cst.BooleanOperation) and child is parent.right:
            tests.append(parent.left)
        elif isinstance(parent, cst.Match) and child is not parent.subject:
            tests.append(parent.subject)
    function = next((node for node in reversed(path) if isinstance(node, cst.FunctionDef)), None)
    if function is not None:
        tests.extend(node.test for node in walk(function) if isinstance(node, cst.If) and may_exit(node.body))
    return tests


def names_in(node: cst.CSTNode) -> Set[str]:
    """The names, attribute names and string constants `node` mentions (`hasattr(env, "X")` -> hasattr, env, X)."""
    found: Set[str] = set()
    for child in walk(node):
        if isinstance(child, cst.Name):
            found.add(child.value)
        elif isinstance(child, cst.SimpleString):
            found.add(string_value(child) or "")
    return found


def is_none_handled(root: cst.CSTNode, access: cst.CSTNode) -> bool:
    """Whether code handles `access` (a `getattr(env, X, None)` probe) being None: the probe is a
    condition or the left side of `or`/`and`, or the name or attribute it is assigned to is tested
    in a condition (of its function, or of its class for `self.x`)."""
    path = path_to(root, access)
    for parent, child in zip(path, path[1:]):
        if isinstance(parent, (cst.If, cst.While, cst.IfExp)) and child is parent.test:
            return True
        if isinstance(parent, cst.BooleanOperation) and child is parent.left:
            return True
    assignment = next((node for node in reversed(path) if isinstance(node, cst.Assign)), None)
    if assignment is None:
        return False
    module = cst.Module(body=[])
    for target in assignment.targets:
        kind = cst.ClassDef if isinstance(target.target, cst.Attribute) else cst.FunctionDef
        scope = next((node for node in reversed(path[: path.index(assignment)]) if isinstance(node, kind)), root)
        if module.code_for_node(target.target) in condition_texts(scope):
            return True
    return False


def assertion_on(function: cst.FunctionDef, call: cst.Call) -> Optional[cst.CSTNode]:
    """The first assertion in `function` that checks the result of `call`: an `assert` or an
    `assert*` method call (`self.assertEqual`) over the call itself or a name derived from it."""
    derived: Set[str] = set()
    for node in walk(function.body):
        if not isinstance(node, cst.BaseSmallStatement):
            continue
        uses = contains(node, call) or _mentions(_assigned_part(node), derived)
        if uses and _is_assertion(node):
            return node
        if uses and isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
            targets = node.targets if isinstance(node, cst.Assign) else [node]
            for target in targets:
                derived.update(_target_names(target.target))
    return None


def _assigned_part(node: cst.BaseSmallStatement) -> cst.CSTNode:
    """What a statement reads: the value of an assignment, else the whole statement."""
    if isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign)) and node.value is not None:
        return node.value
    return node


def _is_assertion(node: cst.BaseSmallStatement) -> bool:
    if isinstance(node, cst.Assert):
        return True
    return isinstance(node, cst.Expr) and any(
        (last_name(call.func) or "").lower().startswith("assert") for call in calls_in(node))


# Callables that build a test double (besides the project's own classes: `FakeKV()`).
DOUBLE_FACTORIES = frozenset({"SimpleNamespace", "Mock", "MagicMock", "AsyncMock", "NonCallableMock", "create_autospec"})


def fixture_builds_doubles(modules: Iterable[ModuleInfo], test_module: ModuleInfo, name: str,
                           project_classes: Collection[str]) -> bool:
    """Whether the pytest fixture `name` a test in `test_module` receives (defined there or in a
    `conftest.py` of its folder or one above) builds test doubles: an instance of a project class
    (`FakeKV()`) or of a mock (`SimpleNamespace(KV=...)`). Such an `env` holds no binding."""
    folder = PurePath(test_module.path).parent
    candidates = [test_module] + [module for module in modules if PurePath(module.path).name == "conftest.py"
                                  and (PurePath(module.path).parent == folder
                                       or PurePath(module.path).parent in folder.parents)]
    for module in candidates:
        function = module.functions.get(name)
        if function is None or not _is_fixture(function.parse()):
            continue
        return any(last_name(call.func) in DOUBLE_FACTORIES or last_name(call.func) in project_classes
                   for call in calls_in(function.parse()))
    return False


def _is_fixture(function: cst.FunctionDef) -> bool:
    """`@pytest.fixture`, `@fixture`, `@pytest.fixture(scope=...)`."""
    for decorator in function.decorators:
        node = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
        if last_name(node) == "fixture":
            return True
    return False


def mocks_method(function: cst.FunctionDef, methods: FrozenSet[str]) -> bool:
    """The function (or its decorators) replaces one of `methods` on some object: `kv.get = AsyncMock()`,
    `monkeypatch.setattr(kv, "get", fake)`, `patch.object(env.CACHE, "get")`, `mocker.patch("...get")`."""
    for node in walk(function):
        if isinstance(node, cst.Assign) and any(
                isinstance(t.target, cst.Attribute) and t.target.attr.value in methods for t in node.targets):
            return True
        if isinstance(node, cst.Call) and last_name(node.func) in ("setattr", "object", "patch"):
            texts = [string_value(arg.value) or "" for arg in node.args]
            if any(text.rsplit(".", 1)[-1] in methods for text in texts):
                return True
    return False
