"""Findings and fixes: what every reporter, the noqa filter and the fixer work with."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple

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
    related: Tuple[str, ...] = ()  # caller chain, for messages and SARIF related locations
    context: str = ""  # the source line, for fingerprints

    @property
    def sort_key(self) -> Tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)


@dataclass(frozen=True)
class Report:
    """What a rule reports, before positions are known: a node in a module."""

    code: str
    module_path: str
    node: cst.CSTNode
    message: str
    fix_edit: Optional[str] = None  # kind of automatic fix ("insert-await")
    related: Tuple[str, ...] = field(default=())
