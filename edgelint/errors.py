"""Errors that end a run with exit code 2 and one clear line."""
from __future__ import annotations


class ConfigError(Exception):
    """A configuration problem: the file it is in and what is wrong."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem
