"""A JSON list of findings with positions, fix and documentation URL.

The run's problems that are not findings (a file that cannot be read, a configuration error) follow
as items with the same keys, `code` null and `name` "notification": the document stays the list it
has always been (ruff's shape), and a consumer that reads only findings skips items without a code."""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Dict, Optional, Sequence

from edgelint.findings import Finding, Fix
from edgelint.rules import RULES_BY_CODE


def as_dict(finding: Finding) -> Dict[str, Any]:
    rule = RULES_BY_CODE.get(finding.code)
    return {
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity,
        "message": finding.message,
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "fix": _fix(finding.fix),
        "related": [asdict(place) for place in finding.related],
        "url": rule.url() if rule else None,
    }


def _fix(fix: Optional[Fix]) -> Optional[Dict[str, Any]]:
    if fix is None:
        return None
    return {"applicability": fix.applicability, "message": fix.message, "edits": [asdict(e) for e in fix.edits]}


def render(findings: Sequence[Finding], notifications: Sequence[str] = ()) -> str:
    return json.dumps([*(as_dict(f) for f in findings), *map(_notification, notifications)], indent=2) + "\n"


def _notification(text: str) -> Dict[str, Any]:
    """A problem "PATH: PROBLEM" that is not a finding."""
    path, _, problem = text.partition(": ")
    return {"code": None, "name": "notification", "severity": "error", "message": problem or path, "path": path,
            "line": None, "column": None, "end_line": None, "end_column": None, "fix": None, "related": [],
            "url": None}
