"""The rule set's codes and options, loaded when first asked for.

Loading every rule costs more than a run the cache answers: the CLI and the flake8 plugin hand
these to the configuration code, which reads them only when a configuration or the command line
names a code or sets a rule's option.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Iterator


def _rules() -> Any:
    import edgelint.rules

    return edgelint.rules


class KnownCodes(Sequence):
    """edgelint.rules.KNOWN_CODES, imported on first use."""

    def __getitem__(self, index: Any) -> Any:
        return _rules().KNOWN_CODES[index]

    def __len__(self) -> int:
        return len(_rules().KNOWN_CODES)


class RuleOptions(Mapping):
    """edgelint.rules.RULE_OPTIONS, imported on first use."""

    def __getitem__(self, code: str) -> Any:
        return _rules().RULE_OPTIONS[code]

    def __iter__(self) -> Iterator[str]:
        return iter(_rules().RULE_OPTIONS)

    def __len__(self) -> int:
        return len(_rules().RULE_OPTIONS)


KNOWN_CODES = KnownCodes()
RULE_OPTIONS = RuleOptions()
