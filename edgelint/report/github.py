"""GitHub Actions workflow commands: `::error file=…,line=…::message`, shown as PR annotations.

The runner reads every output line as a potential command, so a crafted file name or message must
not be able to end the command early or start a new one: values are escaped exactly as the runner
unescapes them (actions/toolkit `escapeData` / `escapeProperty`).
"""
from __future__ import annotations

from typing import Sequence

from edgelint.findings import Finding
from edgelint.fingerprints import normalized_path

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def render(findings: Sequence[Finding]) -> str:
    return "".join(_command(f) + "\n" for f in findings)


def _command(finding: Finding) -> str:
    title = f"{finding.code} {finding.name}".rstrip()
    properties = (
        ("file", normalized_path(finding.path)),
        ("line", finding.line),
        ("col", finding.column),
        ("endLine", finding.end_line),
        ("endColumn", finding.end_column),
        ("title", title),
    )
    listed = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties)
    return f"::{COMMANDS[finding.severity]} {listed}::{escape_data(finding.message)}"


def escape_data(text: str) -> str:
    # '%' first, so that the escapes added afterwards are not escaped again.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
