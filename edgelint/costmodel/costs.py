"""Monthly cost per product and line item at a given traffic, with the plan's allowances, and the
capacity warnings: hot KV keys, single objects over their throughput guidance, objects kept active."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from edgelint.costmodel.counts import Count
from edgelint.costmodel.pricing import ITEMS, Prices
from edgelint.costmodel.routes import Line, Route
from edgelint.costmodel.traffic import RouteRate

KV_ITEMS = {"read": "kv_reads", "write": "kv_writes", "delete": "kv_deletes", "list": "kv_lists"}
ROW_ITEMS = {"read": "do_rows_read", "write": "do_rows_written", "delete": "do_rows_written"}
KEEPALIVE_CODE = "EDG205"
REARMED = re.compile(r"re-arms itself ([0-9.]+) s ahead")  # EDG205's message for a short self-re-arming alarm
Units = Tuple[float, float]  # (fewest, most) per second


@dataclass(frozen=True)
class Assumptions:
    items_per_loop: float = 1.0
    connection_seconds: float = 300.0  # how long a non-hibernating WebSocket keeps its object active

    def describe(self) -> List[str]:
        return [f"{self.items_per_loop:g} item(s) per loop",
                f"a WebSocket accepted without hibernation stays open {self.connection_seconds:g} s and keeps "
                "its object active (one object per connection: an upper bound)",
                "a storage get/put/delete reads/writes one row; other storage calls (list, sql) are not counted",
                "an object request costs no duration beyond keep-alives (short requests)"]


@dataclass
class LineItem:
    item: str
    monthly: Units
    included: Optional[float]  # per month; None: the price file has no figure for the plan
    cost: Units  # in dollars (Paid plan; always 0 on the Free plan)
    over_free: bool = False  # the Free plan's daily allowance is exceeded

    @property
    def product(self) -> str:
        return ITEMS[self.item][0]

    @property
    def unit(self) -> str:
        return ITEMS[self.item][1]


@dataclass
class CapacityWarning:
    kind: str  # hot-key, single-object, keep-alive, free-plan
    message: str


@dataclass
class Estimate:
    plan: str
    items: List[LineItem]
    warnings: List[CapacityWarning]
    rates: List[RouteRate]
    usage: Dict[str, Units] = field(default_factory=dict)  # line item -> units per second

    @property
    def total(self) -> Units:
        return sum(item.cost[0] for item in self.items), sum(item.cost[1] for item in self.items)


class Usage:
    """Units per second of every line item, and per hot key and per single object, at given rates."""

    def __init__(self, routes: Sequence[Route], assumptions: Assumptions, gb_per_second: float):
        self.routes = routes
        self.assumptions = assumptions
        self.gb_per_second = gb_per_second
        self.items: Dict[str, List[float]] = defaultdict(lambda: [0.0, 0.0])
        self.hot_keys: Dict[Tuple[str, str], float] = defaultdict(float)  # (binding, key) -> writes/s
        self.objects: Dict[Tuple[str, str], float] = defaultdict(float)  # (binding, name) -> requests/s
        self.kept_active: Dict[str, float] = defaultdict(float)  # object method -> GB-s per second

    def add(self, route: Route, rate: float) -> None:
        for line in route.lines:
            self._line(line, rate)

    def _line(self, line: Line, rate: float) -> None:
        if line.product == "kv":
            self._add(KV_ITEMS[line.action], line.count, rate)
            if line.action in ("write", "delete") and line.key_kind == "constant":
                self.hot_keys[(line.binding, line.key)] += rate * self._most(line.count)
        elif line.product == "durable_object":
            self._add("do_requests", line.count, rate)
            if line.key_kind == "constant":
                self.objects[(line.binding, line.key)] += rate * self._most(line.count)
            self._object_method(line, rate)

    def _object_method(self, request: Line, rate: float) -> None:
        """What the request runs inside the object: storage rows, and duration when it keeps the object active."""
        method = next((route for route in self.routes
                       if route.kind == "object" and route.label == request.target), None)
        if method is None:
            return
        for line in method.lines:
            item = ROW_ITEMS.get(line.action) if line.product == "storage" else None
            if item is not None:
                self._add(item, request.count.times(line.count), rate)
        if any(finding.code == KEEPALIVE_CODE for finding in method.findings):
            seconds = self.assumptions.connection_seconds * self.gb_per_second
            self._add("do_duration", request.count, rate * seconds)
            self.kept_active[method.label] += rate * seconds * self._most(request.count)

    def _most(self, count: Count) -> float:
        return count.at(self.assumptions.items_per_loop)[1]

    def _add(self, item: str, count: Count, rate: float) -> None:
        low, high = count.at(self.assumptions.items_per_loop)
        self.items[item][0] += rate * low
        self.items[item][1] += rate * high


def estimate(routes: Sequence[Route], rates: Sequence[RouteRate], prices: Prices, plan: str,
             assumptions: Assumptions) -> Estimate:
    usage = Usage(routes, assumptions, prices.limit("do_gb_per_active_second"))
    for rate in rates:
        usage.add(rate.route, rate.per_second)
    items = [_line_item(name, tuple(usage.items[name]), prices, plan) for name in ITEMS if name in usage.items]
    warnings = _capacity(usage, prices) + _rearming_alarms(routes, prices)
    warnings += [_over_free_plan(item, prices) for item in items if item.over_free]
    return Estimate(plan, items, warnings, list(rates), {name: tuple(units) for name, units in usage.items.items()})


def _line_item(name: str, per_second: Units, prices: Prices, plan: str) -> LineItem:
    monthly = (per_second[0] * prices.month_seconds, per_second[1] * prices.month_seconds)
    figures = prices.item(plan, name)
    if plan == "free":
        if "included_per_day" not in figures:
            return LineItem(name, monthly, None, (0.0, 0.0))
        included = float(figures["included_per_day"]) * _days(prices)
        return LineItem(name, monthly, included, (0.0, 0.0), over_free=monthly[1] > included)
    included = float(figures.get("included", 0))
    price = float(figures.get("per_million", 0)) / 1e6
    return LineItem(name, monthly, included, tuple(max(units - included, 0.0) * price for units in monthly))


def _rearming_alarms(routes: Sequence[Route], prices: Prices) -> List[CapacityWarning]:
    """Objects whose alarm re-arms itself a few seconds ahead (EDG205): awake all month, whatever the traffic."""
    warnings = []
    for route in routes:
        for finding in route.findings:
            period = REARMED.search(finding.message) if finding.code == KEEPALIVE_CODE else None
            if route.kind == "object" and period is not None:
                gb_seconds = prices.month_seconds * prices.limit("do_gb_per_active_second")
                alarms = prices.month_seconds / float(period.group(1))
                warnings.append(CapacityWarning(
                    "keep-alive", f"{route.label} re-arms itself every {period.group(1)} s: each such object is "
                                  f"active all month, {_number(gb_seconds)} GB-s and {_number(alarms)} alarm requests"))
    return warnings


def _over_free_plan(item: LineItem, prices: Prices) -> CapacityWarning:
    daily, allowed = item.monthly[1] / _days(prices), (item.included or 0) / _days(prices)
    return CapacityWarning("free-plan", f"{item.product} {item.unit}: {_number(daily)} a day exceed the Free plan's "
                                        f"{_number(allowed)}: operations beyond it fail")


def _days(prices: Prices) -> int:
    return prices.month_seconds // 86_400


def _capacity(usage: Usage, prices: Prices) -> List[CapacityWarning]:
    warnings = []
    key_limit = prices.limit("kv_writes_per_second_per_key")
    for (binding, key), writes in sorted(usage.hot_keys.items()):
        if writes > key_limit:
            warnings.append(CapacityWarning("hot-key", f"KV key {key} on {binding} is written {_number(writes)}/s: "
                                                       f"KV accepts {key_limit:g} write/s per key (429 beyond)"))
    object_limit = prices.limit("do_requests_per_second_per_object")
    for (binding, name), requests in sorted(usage.objects.items()):
        if requests > object_limit:
            warnings.append(CapacityWarning(
                "single-object", f"one object {binding}({name}) receives {_number(requests)} requests/s: "
                                 f"over the guidance of ~{object_limit:g}/s per object"))
    for method, gb_seconds in sorted(usage.kept_active.items()):
        warnings.append(CapacityWarning(
            "keep-alive", f"{method} keeps its object active (ws.accept() without hibernation): "
                          f"{_number(gb_seconds * prices.month_seconds)} GB-s a month"))
    return warnings


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or value == int(value) else f"{value:,.2f}"


def money(value: float) -> str:
    return f"${value:,.2f}"


def units(value: float) -> str:
    return _number(value)
