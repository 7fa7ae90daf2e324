"""Where a finding lands: in the frame where the fix goes (rules.md, "Where a finding lands").

An operation is recorded once per activation chain that reaches it (`Operation.context.frames`,
from the analysis root to the function holding the call). A finding about it lands on a *frame*
of that chain, at the call of that frame which performs the operation or leads towards it:

- a pattern of two operations (a read and a write) lands in the innermost frame both share;
- a single-call finding lands where its decisive input (a constant key, a TTL, a name) was
  written: the value is followed out through the parameters it came in by (`Value.via`);
- a call that is wrong on some paths and right on others lands in the innermost frame that only
  the wrong paths reach, never on the helper line that is right for the other callers (decided
  over every root's recordings of the call: edgelint.candidates.combine).

The frames between the root and the landing frame, and the operations themselves when they sit
deeper, travel with the finding as related locations.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, List, Optional, Tuple

import libcst as cst

from edgelint.model.operations import Operation
from edgelint.model.values import Value

if TYPE_CHECKING:
    from edgelint.model.project import ModuleInfo


@dataclass(frozen=True)
class Site:
    """A node in a module: where a finding or one of its related locations is."""

    module: "ModuleInfo"
    node: cst.CSTNode
    part: int = 0  # the first line of the top-level statement holding it (0: not known)


def innermost(op: Operation) -> int:
    """The depth of the frame that holds `op` itself."""
    return max(len(op.context.frames) - 1, 0)


def landing(op: Operation, depth: int) -> Site:
    """The call at frame `depth` of `op`'s chain that is `op` or leads to it. A frame entered
    without a call site (a callback run by code outside the project) passes to the next one."""
    frames = op.context.frames
    for below in range(depth + 1, len(frames)):
        frame = frames[below]
        if frame.call is not None and frame.caller is not None:
            return Site(frame.caller, frame.call, frame.part)
    return Site(op.module, op.node, op.part)


def frame_depth(op: Operation, activation: int) -> Optional[int]:
    """The depth of `activation` in `op`'s chain (None: it is not on the chain)."""
    return next((depth for depth, frame in enumerate(op.context.frames) if frame.activation == activation), None)


def shared_depth(first: Operation, second: Operation) -> int:
    """The depth of the innermost activation both operations run in."""
    depth = 0
    for index, (mine, theirs) in enumerate(zip(first.context.frames, second.context.frames)):
        if mine.activation != theirs.activation:
            break
        depth = index
    return depth


def input_depth(op: Operation, value: Optional[Value]) -> int:
    """The frame that wrote `value`: the innermost one it did not come into as a parameter."""
    frames = op.context.frames
    depth = innermost(op)
    if value is None:
        return depth
    while depth > 0 and frames[depth].activation in value.via:
        depth -= 1
    return depth


def passes(op: Operation) -> Iterator[Tuple[str, cst.CSTNode, int]]:
    """The calls on `op`'s chain, with their module paths and statements: where a finding about it
    could land."""
    yield op.module.path, op.node, op.part
    for frame in op.context.frames:
        if frame.call is not None and frame.caller is not None:
            yield frame.caller.path, frame.call, frame.part


def root_of(op: Operation) -> Tuple[str, str]:
    """The analysis root (model.project.RootKey) whose analysis recorded `op`."""
    frames = op.context.frames
    return (frames[0].qualname if frames else "", op.context.path.value)


def call_path(op: Operation, depth: int) -> List[Tuple[str, str, Site]]:
    """The calls from the root down to frame `depth`: (caller, callee, where the call is)."""
    frames = op.context.frames
    path: List[Tuple[str, str, Site]] = []
    for caller, callee in zip(frames[:depth], frames[1:depth + 1]):
        if callee.call is not None and callee.caller is not None:
            path.append((short_name(caller.qualname), short_name(callee.qualname),
                         Site(callee.caller, callee.call, callee.part)))
    return path


def short_name(qualname: str) -> str:
    """`src.shop.kvstore:KVStore.get_json` -> `KVStore.get_json`; locals keep their function name."""
    name = qualname.split(":", 1)[-1]
    return name.replace(".<locals>.", ".")
