"""Reporters: each turns findings into one output format. A new format is one module plus one line."""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Callable, Dict, Iterator

Reporter = Callable[..., str]  # (findings) -> report; WITH_NOTIFICATIONS also take the problems
# Formats that carry the run's problems (unreadable files, configuration errors) beside the findings.
WITH_NOTIFICATIONS = ("json", "sarif")

# Format -> the module whose `render` writes it.
MODULES: Dict[str, str] = {
    "text": "text",
    "json": "json_format",
    "sarif": "sarif",
    "github": "github",
    "junit": "junit",
}


class _Reporters(Mapping):
    """Format -> reporter, the reporter's module imported when it is first asked for (a run
    imports the one it writes: the others cost start-up time)."""

    def __getitem__(self, name: str) -> Reporter:
        return importlib.import_module(f"edgelint.report.{MODULES[name]}").render

    def __iter__(self) -> Iterator[str]:
        return iter(MODULES)

    def __len__(self) -> int:
        return len(MODULES)


REPORTERS: Mapping[str, Reporter] = _Reporters()
