"""Reporters: each turns findings into one output format. A new format is one module plus one line."""
from __future__ import annotations

from typing import Callable, Dict

from edgelint.report import github, json_format, junit, sarif, text

Reporter = Callable[..., str]  # (findings) -> report; WITH_NOTIFICATIONS also take the problems
# Formats that carry the run's problems (unreadable files, configuration errors) beside the findings.
WITH_NOTIFICATIONS = ("json", "sarif")

REPORTERS: Dict[str, Reporter] = {
    "text": text.render,
    "json": json_format.render,
    "sarif": sarif.render,
    "github": github.render,
    "junit": junit.render,
}
