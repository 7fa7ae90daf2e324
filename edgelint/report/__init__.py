"""Reporters: each turns findings into one output format. A new format is one module plus one line."""
from __future__ import annotations

from typing import Callable, Dict, Sequence

from edgelint.findings import Finding
from edgelint.report import github, json_format, junit, sarif, text

Reporter = Callable[[Sequence[Finding]], str]

REPORTERS: Dict[str, Reporter] = {
    "text": text.render,
    "json": json_format.render,
    "sarif": sarif.render,
    "github": github.render,
    "junit": junit.render,
}
