"""Types of command-line values that `edgelint check` and `edgelint model` share."""
from __future__ import annotations

import argparse
from typing import Callable, List, Optional, TypeVar

Number = TypeVar("Number", int, float)


def patterns(text: str) -> List[str]:
    """A comma-separated list of patterns (`--exclude`)."""
    return [pattern.strip() for pattern in text.split(",") if pattern.strip()]


def codes(text: str) -> List[str]:
    """A comma-separated list of rule codes or prefixes (`--select`), upper-cased."""
    return [code.strip().upper() for code in text.split(",") if code.strip()]


def at_least_zero(convert: Callable[[str], Number], expected: str) -> Callable[[str], Number]:
    """A number `convert` reads, refused below zero with "expected `expected`"."""

    def number(text: str) -> Number:
        try:
            value: Optional[Number] = convert(text)
        except ValueError:
            value = None
        if value is None or value < 0:
            raise argparse.ArgumentTypeError(f"expected {expected}, not {text!r}")
        return value

    return number
