"""Findings and fixes: what every reporter, the noqa filter and the fixer work with."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional, Tuple

if TYPE_CHECKING:  # annotations only: a run the cache answers never loads libcst
    import libcst as cst


# Findings the engine itself produces (documented in edgelint.rules beside the rules' codes).
SYNTAX_ERROR = "EDG999"
INTERNAL_ERROR = "EDG998"

Subject = Tuple[Tuple[str, int, int], ...]  # a recording of an operation: its call chain, positioned


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
    """An automatic fix: what it does, whether it is safe, and its edits."""

    message: str
    applicability: str  # "safe" | "unsafe"
    edits: Tuple[Edit, ...]

    def applies(self, unsafe: bool) -> bool:
        """Whether `--fix` applies it (an unsafe fix only with `--unsafe-fixes`)."""
        return self.applicability == "safe" or unsafe


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
    """One problem a rule reports: where it lands, its message, its related places and its fix."""

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
    # The recordings of the operations the finding is about: each the calls from the analysis root
    # to the operation, as (path, line, column). A rule that supersedes another hides the other's
    # findings about the same recordings (projects.without_superseded).
    subjects: Tuple[Subject, ...] = ()
    supersedes: Tuple[str, ...] = ()  # the codes the finding's rule supersedes

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
    part: int = 0  # the first line of the top-level statement holding the node (0: not known)


@dataclass(frozen=True)
class Report:
    """What a rule reports, before positions are known: a node in a module. `root` is the
    analysis root whose analysis it comes from (model.project.RootKey), for the cache."""

    code: str
    module_path: str
    node: cst.CSTNode
    message: str
    fix_edit: Optional[str] = None  # kind of automatic fix ("insert-await")
    related: Tuple[Related, ...] = field(default=())
    root: Tuple[str, str] = ("", "")
    part: int = 0  # the first line of the top-level statement holding the node (0: not known)
    # The operations' recordings: each the calls from the root to the operation (model.placement.passes).
    subjects: Tuple[Tuple[Tuple[str, cst.CSTNode, int], ...], ...] = ()


@dataclass(frozen=True)
class Choice:
    """One recording of a call that a single-call rule looks at (model.placement): for a wrong
    one, its reports in every frame it may land in, outermost first; for a right one, the calls it
    passes through (where a wrong recording of the same call must not land)."""

    code: str
    module_path: str
    node: cst.CSTNode  # the call recorded
    options: Tuple[Report, ...]
    passes: Tuple[Tuple[str, cst.CSTNode, int], ...]  # (module path, call, first line of its statement)
    root: Tuple[str, str]
    part: int = 0
