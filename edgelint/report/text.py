"""`path:line:col: CODE message`, one finding a line (ruff's concise format)."""
from __future__ import annotations

from typing import Sequence

from edgelint.findings import Finding


def render(findings: Sequence[Finding]) -> str:
    return "".join(f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}\n" for f in findings)
