"""What a call passes and what can be called: argument lists, and references to project code
(functions bound to an instance, nested functions with their scope, partial applications, modules)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, List, Tuple, Union

import libcst as cst

from edgelint.model.values import Value, union_reads

if TYPE_CHECKING:
    from edgelint.model.project import FunctionInfo, ModuleInfo


@dataclass
class Args:
    """A call's arguments as values: positional, keyword and unpacked (`*args`, `**kwargs`)."""

    positional: List[Value]
    keywords: Dict[str, Value]
    extra: List[Value] = field(default_factory=list)

    def all(self) -> Tuple[Value, ...]:
        return tuple(self.positional) + tuple(self.keywords.values()) + tuple(self.extra)

    def reads(self) -> FrozenSet[int]:
        return union_reads(v.reads for v in self.all())


@dataclass(frozen=True)
class BoundMethod:
    """A method of a project class with `self` bound (`store.get_json`)."""

    function: "FunctionInfo"
    self_value: Value


@dataclass(frozen=True)
class LocalFunction:
    """A nested function or lambda, run in the scope of the activation that defined it."""

    node: Union[cst.FunctionDef, cst.Lambda]
    closure: Any  # the defining model.interpreter.Interpreter


@dataclass(frozen=True)
class Partial:
    """`functools.partial(function, *args, **keywords)`: called later with more arguments."""

    function: Value
    args: Args


@dataclass(frozen=True)
class ModuleRef:
    """A module as a value (`from app import store`, then `store.save(...)`)."""

    module: "ModuleInfo"
