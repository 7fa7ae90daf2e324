"""Findings and fixes: what every reporter, the noqa filter and the fixer work with."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import PurePath
from typing import Optional, Sequence, Tuple

import libcst as cst


@dataclass(frozen=True)
class Edit:
    """Replace the text between two 1-based (line, column) positions with `content`."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str


@dataclass(frozen=True)
class Fix:
    message: str
    applicability: str  # "safe" | "unsafe"
    edits: Tuple[Edit, ...]


@dataclass(frozen=True)
class RelatedLocation:
    """Another place that makes a finding: the other end of a pattern, a helper line, a caller."""

    message: str
    path: str
    line: int
    column: int  # 1-based
    end_line: int
    end_column: int


@dataclass
class Finding:
    code: str
    message: str
    path: str
    line: int
    column: int  # 1-based
    end_line: int
    end_column: int
    severity: str = "error"
    name: str = ""
    fix: Optional[Fix] = None
    related: Tuple[RelatedLocation, ...] = ()
    context: str = ""  # the source line, for fingerprints

    @property
    def sort_key(self) -> Tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)


@dataclass(frozen=True)
class Related:
    """A related location before positions are known. `kind` is "end" for the other places of
    the pattern (named in the message with their line) and "call" for the calls leading there."""

    kind: str
    message: str
    module_path: str
    node: cst.CSTNode
    label: str = ""  # what the message's short summary says of it: the caller, for a call


@dataclass(frozen=True)
class Report:
    """What a rule reports, before positions are known: a node in a module."""

    code: str
    module_path: str
    node: cst.CSTNode
    message: str
    fix_edit: Optional[str] = None  # kind of automatic fix ("insert-await")
    related: Tuple[Related, ...] = field(default=())


def merge_related(first: Report, second: Report) -> Report:
    """One finding reached twice (two callers compose the same pattern): its related places, once each."""
    known = {(place.kind, place.message, place.module_path, id(place.node)) for place in first.related}
    extra = tuple(place for place in second.related
                  if (place.kind, place.message, place.module_path, id(place.node)) not in known)
    return replace(first, related=first.related + extra) if extra else first


def related_summary(report: Report, located: Sequence[Tuple[Related, RelatedLocation]]) -> str:
    """The short form of the related places that ends a message: `(read in get_json() at
    kvstore.py:14; reached from fetch())`."""
    ends = [f"{place.message} at {_where(report.module_path, location)}" for place, location in located
            if place.kind == "end"]
    callers = list(dict.fromkeys(place.label for place, _ in located if place.kind == "call"))
    if callers:
        ends.append("reached from " + " -> ".join(f"{name}()" for name in callers))
    return f" ({'; '.join(ends)})" if ends else ""


def _where(path: str, location: RelatedLocation) -> str:
    if location.path == path:
        return f"line {location.line}"
    return f"{PurePath(location.path).name}:{location.line}"
