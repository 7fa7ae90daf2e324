"""How many times something happens in one invocation: a range over the branches taken, plus a
range per item of the loops around it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Hashable, Iterable, Mapping, Tuple

from edgelint.costmodel.sites import Choice, Decision, Site


@dataclass(frozen=True)
class Count:
    low: int = 0
    high: int = 0
    item_low: int = 0  # per item of an enclosing loop
    item_high: int = 0

    def __add__(self, other: "Count") -> "Count":
        return Count(self.low + other.low, self.high + other.high, self.item_low + other.item_low,
                     self.item_high + other.item_high)

    def times(self, other: "Count") -> "Count":
        """Each of these runs `other` (a stub call running an object's method)."""
        return Count(self.low * other.low, self.high * other.high,
                     self.item_low * (other.low + other.item_low) + self.low * other.item_low,
                     self.item_high * (other.high + other.item_high) + self.high * other.item_high)

    def at(self, items: float) -> Tuple[float, float]:
        """The (fewest, most) times at `items` per loop."""
        return self.low + self.item_low * items, self.high + self.item_high * items

    def __str__(self) -> str:
        once = _range(self.low, self.high)
        if not self.item_high:
            return once
        per_item = f"{_range(self.item_low, self.item_high)} per item"
        return per_item if not self.high else f"{once} + {per_item}"


def _range(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}..{high}"


@dataclass
class _Node:
    """Operations under one combination of arms, and the decisions taken below it."""

    here: int = 0
    decisions: Dict[Decision, Dict[Hashable, "_Node"]] = field(default_factory=dict)

    def add(self, choices: Tuple[Choice, ...]) -> None:
        node = self
        for decision, arm in choices:
            node = node.decisions.setdefault(decision, {}).setdefault(arm, _Node())
        node.here += 1

    def span(self, arms: Mapping[Decision, FrozenSet[Hashable]]) -> Tuple[int, int]:
        low = high = self.here
        for decision, taken in self.decisions.items():
            spans = [node.span(arms) for node in taken.values()]
            empty_arm = len(taken) < len(arms.get(decision, frozenset(taken)))
            low += 0 if empty_arm else min(span[0] for span in spans)
            high += max(span[1] for span in spans)
        return low, high


def count_sites(sites: Iterable[Site], arms: Mapping[Decision, FrozenSet[Hashable]],
                fixed: FrozenSet[Choice] = frozenset()) -> Count:
    """The count of operations at `sites` per invocation; the `fixed` choices are known taken."""
    once, per_item = _Node(), _Node()
    for site in sites:
        choices = tuple(choice for choice in site.choices if choice not in fixed)
        (per_item if site.loops else once).add(choices)
    low, high = once.span(arms)
    item_low, item_high = per_item.span(arms)
    return Count(low, high, item_low, item_high)


def consistent(choices: Iterable[Choice], fixed: Mapping[Decision, Hashable]) -> bool:
    """Whether `choices` can all be taken while the `fixed` arms are."""
    return all(fixed.get(decision, arm) == arm for decision, arm in choices)
