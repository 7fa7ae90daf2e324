"""Errors that end a run with exit code 2 and one clear line."""
from __future__ import annotations

import re
import sys
from typing import Optional, Pattern


class ConfigError(Exception):
    """A configuration problem: the file it is in and what is wrong."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class Cancelled(Exception):
    """An analysis stopped because its result would be thrown away (a newer edit in an editor)."""


def missing_package(name: str) -> str:
    """What to say when this Python lacks a package edgelint depends on (an install without its
    dependencies, or edgelint's source run by another interpreter)."""
    return (f"the Python running edgelint ({sys.executable}) lacks the package {name!r}: "
            f"install edgelint with its dependencies (pip install edgelint) in that environment")


def line_of(text: str, key: str, after: Optional[Pattern[str]] = None) -> int:
    """The line of `key` in a TOML or JSON config (a table header naming it, `key =`, `"key":`),
    searched from the first match of `after`; 1 when it is not found."""
    name = re.escape(key)
    pattern = re.compile(rf"^[ \t]*(\[[^\]]*\b{name}\b[^\]]*\]|\"?{name}\"?[ \t]*=)|\"{name}\"\s*:", re.M)
    start = after.search(text) if after is not None else None
    match = pattern.search(text, start.start() if start else 0)
    return text.count("\n", 0, match.start()) + 1 if match else 1
