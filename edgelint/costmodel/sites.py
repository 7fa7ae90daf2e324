"""Where an operation runs inside one invocation of its entry point: the branch arms it needs
and the loops around it, read from the syntax of every function on its call chain.

A *decision* is one `if`, conditional expression, `and`/`or`, `try` or `match` in one activation of a function
(the same helper called twice decides twice). An operation needs one arm of each decision on its
way; statements after `if ...: return` need the arm that does not return.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Hashable, List, Optional, Sequence, Tuple

import libcst as cst

from edgelint.model.interpreter import pattern_routes, route_literals
from edgelint.model.operations import Operation
from edgelint.model.project import Project, RoutePath
from edgelint.positions import children

Decision = Tuple[int, int]  # (activation, id of the node that decides)
Choice = Tuple[Decision, Hashable]  # the decision and the arm taken
BODY, ELSE = "body", "else"
EVALUATED, SHORT_CIRCUITED = "evaluated", "short-circuited"  # the right operand of `and` / `or`
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)


@dataclass(frozen=True)
class RouteArm:
    """An `if` arm that selects a route (`if path.startswith("/views/"):`)."""

    label: str
    choices: Tuple[Choice, ...]  # every choice that leads into the arm, this one last


@dataclass(frozen=True)
class Site:
    choices: Tuple[Choice, ...]  # outermost first
    loops: int  # enclosing loops (and comprehensions) on the whole call chain
    route: Optional[RouteArm]  # the innermost route arm around the operation


class Sites:
    """Sites of a project's operations, with the arms each decision has (for minimum counts)."""

    def __init__(self, project: Project):
        self.project = project
        self.arms: Dict[Decision, FrozenSet[Hashable]] = {}
        self._parents: Dict[int, Dict[int, cst.CSTNode]] = {}  # id(function tree) -> child id -> parent

    def of(self, op: Operation) -> Site:
        choices: List[Choice] = []
        loops = 0
        route: Optional[RouteArm] = None
        frames = op.context.frames
        for depth, frame in enumerate(frames):
            node = frames[depth + 1].call if depth + 1 < len(frames) else op.node
            function = self.project.function_named(frame.qualname)
            if node is None or function is None:
                continue
            found, found_loops, arm = self._within(function.parse(), node, frame.activation, choices)
            choices.extend(found)
            loops += found_loops
            route = arm or route
        return Site(tuple(choices), loops, route)

    def _within(self, tree: cst.FunctionDef, node: cst.CSTNode, activation: int,
                outer: Sequence[Choice]) -> Tuple[List[Choice], int, Optional[RouteArm]]:
        """The choices (outermost first) and loops between the function `tree` and `node`."""
        parents = self._parent_map(tree)
        steps: List[Tuple[List[Choice], Optional[str]]] = []  # innermost first
        loops = 0
        child = node
        while id(child) in parents:
            parent = parents[id(child)]
            loops += _is_loop_part(parent, child)
            steps.append((self._choices(parent, child, activation), _route_label(parent, child)))
            child = parent
        ordered: List[Choice] = []
        route: Optional[RouteArm] = None
        for step, label in reversed(steps):
            ordered.extend(step)
            if label is not None:  # the last one set is the innermost
                route = RouteArm(label, tuple(outer) + tuple(ordered))
        return ordered, loops, route

    def _choices(self, parent: cst.CSTNode, child: cst.CSTNode, activation: int) -> List[Choice]:
        """The choices that entering `child` of `parent` needs."""
        key = (activation, id(parent))
        if isinstance(parent, (cst.If, cst.IfExp)) and child is not parent.test:
            self.arms[key] = frozenset({BODY, ELSE})
            return [(key, BODY if child is parent.body else ELSE)]
        if isinstance(parent, cst.BooleanOperation) and child is parent.right:
            # `a or await kv.get(k)`: the right operand runs only when the left does not decide.
            self.arms[key] = frozenset({EVALUATED, SHORT_CIRCUITED})
            return [(key, EVALUATED)]
        if isinstance(parent, cst.Try) and isinstance(child, cst.ExceptHandler):
            self.arms[key] = frozenset(["ok", *range(len(parent.handlers))])
            return [(key, _position(parent.handlers, child))]
        if isinstance(parent, cst.Match) and isinstance(child, cst.MatchCase):
            last = parent.cases[-1].pattern
            exhaustive = isinstance(last, cst.MatchAs) and last.pattern is None and parent.cases[-1].guard is None
            self.arms[key] = frozenset([*range(len(parent.cases)), *([] if exhaustive else ["none"])])
            return [(key, _position(parent.cases, child))]
        if isinstance(parent, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            return self._after_early_returns(parent.body[:_position(parent.body, child)], activation)
        return []

    def _after_early_returns(self, earlier: Sequence[cst.CSTNode], activation: int) -> List[Choice]:
        """What reaching a statement says of the `if`s before it: it took their arms that do not return."""
        choices: List[Choice] = []
        for statement in earlier:
            if isinstance(statement, cst.If):
                choices.extend(self._continuing(statement, activation))
        return choices

    def _continuing(self, statement: cst.If, activation: int) -> List[Choice]:
        key = (activation, id(statement))
        body_leaves = _leaves(statement.body)
        orelse = statement.orelse
        else_leaves = orelse is not None and (_leaves(orelse.body) if isinstance(orelse, cst.Else)
                                              else _all_arms_leave(orelse))
        if body_leaves == else_leaves:
            return []  # both continue (no constraint), or neither does (unreachable: left unconstrained)
        self.arms[key] = frozenset({BODY, ELSE})
        if not body_leaves:
            return [(key, BODY)]
        choices: List[Choice] = [(key, ELSE)]
        if isinstance(orelse, cst.If):
            choices.extend(self._continuing(orelse, activation))
        return choices

    def _parent_map(self, tree: cst.FunctionDef) -> Dict[int, cst.CSTNode]:
        parents = self._parents.get(id(tree))
        if parents is None:
            parents = self._parents[id(tree)] = {}
            stack: List[cst.CSTNode] = [tree.body]
            while stack:
                parent = stack.pop()
                for child in children(parent):
                    if isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                        continue  # another scope: its calls run when it is called
                    parents[id(child)] = parent
                    stack.append(child)
        return parents


def _position(nodes: Sequence[cst.CSTNode], node: cst.CSTNode) -> int:
    """The index of `node` itself among `nodes` (equal statements elsewhere do not count)."""
    return next(index for index, candidate in enumerate(nodes) if candidate is node)


def _leaves(block: cst.BaseSuite) -> bool:
    """Whether a block always returns or raises."""
    if not isinstance(block, cst.IndentedBlock) or not block.body:
        statements = block.body if isinstance(block, cst.SimpleStatementSuite) else []
        return any(isinstance(statement, (cst.Return, cst.Raise)) for statement in statements)
    last = block.body[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return any(isinstance(statement, (cst.Return, cst.Raise)) for statement in last.body)
    return isinstance(last, cst.If) and _all_arms_leave(last)


def _all_arms_leave(statement: cst.If) -> bool:
    orelse = statement.orelse
    if orelse is None or not _leaves(statement.body):
        return False
    return _leaves(orelse.body) if isinstance(orelse, cst.Else) else _all_arms_leave(orelse)


def _is_loop_part(parent: cst.CSTNode, child: cst.CSTNode) -> bool:
    """Whether `child` runs once per item of `parent` (a loop body, a comprehension's element)."""
    if isinstance(parent, (cst.For, cst.While)):
        return child is parent.body
    if isinstance(parent, cst.CompFor):
        return child is not parent.iter
    if isinstance(parent, _COMPREHENSIONS):
        return child is not parent.for_in
    return False


def _route_label(parent: cst.CSTNode, child: cst.CSTNode) -> Optional[str]:
    """The route an `if` arm or a `case` selects: `GET /views/*` for `method == "GET" and
    path.startswith("/views/")`, `/admin/reset` for `case ["admin", "reset"]:`."""
    if isinstance(parent, cst.Match) and isinstance(child, cst.MatchCase):
        return _shown(pattern_routes(child.pattern), [], prefix=False)
    if not isinstance(parent, cst.If) or child is not parent.body:
        return None
    paths, methods = route_literals(parent.test)
    return _shown(paths, methods, prefix="startswith" in cst.Module([]).code_for_node(parent.test))


def _shown(paths: Sequence[RoutePath], methods: Sequence[str], prefix: bool) -> Optional[str]:
    texts = [path if isinstance(path, str) else "/" + "/".join(path) for path in paths]
    if not texts:
        return None
    shown = " | ".join(text + "*" if prefix else text for text in texts)
    return f"{'|'.join(methods)} {shown}".strip()
