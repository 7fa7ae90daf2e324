"""`path:line:col: CODE message`, one finding a line (ruff's concise format); with `full`, each
finding's source line with a caret under its column and its related locations (ruff's full format,
flake8's --show-source); with `colour`, ANSI colours as ruff uses them."""
from __future__ import annotations

from typing import Callable, Optional, Sequence

from edgelint.findings import Finding

SourceLine = Callable[[str, int], Optional[str]]  # (path, 1-based line) -> the line's text, if known
BOLD, RED, CYAN, RESET = "\x1b[1m", "\x1b[1;31m", "\x1b[36m", "\x1b[0m"


def render(findings: Sequence[Finding], full: bool = False, colour: bool = False,
           source_line: Optional[SourceLine] = None) -> str:
    return "".join(_finding(finding, full, colour, source_line) for finding in findings)


def _finding(finding: Finding, full: bool, colour: bool, source_line: Optional[SourceLine]) -> str:
    paint = _painter(colour)
    text = (f"{paint(finding.path, BOLD)}{paint(':', CYAN)}{finding.line}{paint(':', CYAN)}{finding.column}"
            f"{paint(':', CYAN)} {paint(finding.code, RED)} {finding.message}\n")
    if not full:
        return text
    line = source_line(finding.path, finding.line) if source_line is not None else None
    if line is not None:
        # Tabs kept in front of the caret, so that it lines up however the terminal expands them.
        prefix = "".join(char if char == "\t" else " " for char in line[:finding.column - 1])
        text += f"    {line}\n    {prefix}{paint('^', RED)}\n"
    text += "".join(f"    = {place.message}: {place.path}:{place.line}:{place.column}\n" for place in finding.related)
    return text + "\n"


def _painter(colour: bool) -> Callable[[str, str], str]:
    return (lambda text, code: f"{code}{text}{RESET}") if colour else (lambda text, code: text)
