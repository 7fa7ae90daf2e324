"""The comparison the guide asks for: the Worker's cost and capacity as written and as a finding's
recommended fix would make it, at the same traffic.

- EDG101 (KV read-modify-write): the read and the write become one request to a Durable Object
  named by the key, which reads and writes one storage row.
- EDG202 (config read from one object): the request becomes a KV read of a constant key.
- EDG205 (object kept awake by `ws.accept()`): the object hibernates and bills no idle duration.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Set

from edgelint.costmodel.costs import Assumptions, Estimate, KEEPALIVE_CODE, estimate
from edgelint.costmodel.counts import Count
from edgelint.costmodel.pricing import Prices
from edgelint.costmodel.routes import Line, ProjectModel, Route, subject_chains
from edgelint.costmodel.traffic import RouteRate
from edgelint.findings import Finding

COMPARED = ("EDG101", "EDG202", KEEPALIVE_CODE)
ONE = Count(1, 1)


@dataclass
class Comparison:
    code: str
    route: str
    fix: str  # what the fix changes, in words
    before: Estimate
    after: Estimate

    @property
    def saving(self) -> tuple:
        return tuple(before - after for before, after in zip(self.before.total, self.after.total))

    def warnings_gone(self) -> List[str]:
        after = {warning.message for warning in self.after.warnings}
        return [warning.message for warning in self.before.warnings if warning.message not in after]

    def warnings_new(self) -> List[str]:
        before = {warning.message for warning in self.before.warnings}
        return [warning.message for warning in self.after.warnings if warning.message not in before]


def comparisons(model: ProjectModel, before: Estimate, prices: Prices, assumptions: Assumptions) -> List[Comparison]:
    """One comparison per compared finding on a route with traffic (or on an object such a route calls)."""
    found = []
    seen: Set[tuple] = set()
    for route in model.routes:
        for finding in route.findings:
            fix = FIXES.get(finding.code)
            key = (finding.code, finding.path, finding.line)
            if fix is None or key in seen:
                continue
            seen.add(key)
            changed = fix(model, route, finding)
            if changed is None:
                continue
            routes, words = changed
            after = estimate(routes, _rerated(before.rates, routes), prices, before.plan, assumptions)
            if after.total != before.total or after.warnings != before.warnings:
                found.append(Comparison(finding.code, route.label, words, before, after))
    return found


def _rerated(rates: Sequence[RouteRate], routes: Sequence[Route]) -> List[RouteRate]:
    """The same rates, for the changed copies of the routes (matched by position)."""
    return [dataclasses.replace(rate, route=routes[index]) for rate in rates
            for index in [_index(rate.route, routes)] if index is not None]


def _index(route: Route, routes: Sequence[Route]) -> Optional[int]:
    same = (route.entry, route.label)
    return next((index for index, other in enumerate(routes) if (other.entry, other.label) == same), None)


def _involved(line: Line, finding: Finding) -> bool:
    """Whether the finding is about the line's operations (reached the same way), or reported at one."""
    subjects = subject_chains(finding)
    return any(place.chain in subjects or place.chain[0] == (finding.path, finding.line) for place in line.places)


def _counter_object(model: ProjectModel, route: Route, finding: Finding):
    involved = [line for line in route.lines if line.product == "kv" and _involved(line, finding)]
    writes = [line for line in involved if line.action == "write"]
    if not writes:
        return None
    objects = [Route(f"counter object for {line.key}", "", "object", [
        Line("storage", "read", "storage", line.key, line.key_kind, ONE),
        Line("storage", "write", "storage", line.key, line.key_kind, ONE)]) for line in writes]
    requests = [Line("durable_object", "request", "(new namespace)", line.key, line.key_kind, line.count,
                     target=object_route.label) for line, object_route in zip(writes, objects)]
    lines = [line for line in route.lines if line not in involved] + requests
    keys = ", ".join(line.key for line in writes)
    return _replaced(model.routes, route, lines) + objects, f"keep {keys} in a Durable Object addressed by the key"


def _config_in_kv(model: ProjectModel, route: Route, finding: Finding):
    involved = [line for line in route.lines if line.product == "durable_object" and _involved(line, finding)]
    if not involved:
        return None
    reads = [Line("kv", "read", "(KV)", line.key, "constant", line.count) for line in involved]
    lines = [line for line in route.lines if line not in involved] + reads
    return _replaced(model.routes, route, lines), "read the config from KV (cacheTtl) instead of one object"


def _hibernation(model: ProjectModel, route: Route, finding: Finding):
    calm = dataclasses.replace(route, findings=[other for other in route.findings if other is not finding])
    routes = [calm if other is route else other for other in model.routes]
    return routes, "accept the WebSocket with ctx.acceptWebSocket() (hibernation): no idle duration"


def _replaced(routes: Sequence[Route], route: Route, lines: List[Line]) -> List[Route]:
    return [dataclasses.replace(route, lines=lines) if other is route else other for other in routes]


FIXES: Dict[str, Callable] = {"EDG101": _counter_object, "EDG202": _config_in_kv, KEEPALIVE_CODE: _hibernation}
