"""Traffic: requests per second to the whole Worker or to a route, from the command line
(`--traffic 100`, `--traffic "GET /views/*=200"`, `--traffic 3000000/month`) or a TOML file
(`[traffic] "GET /views/*" = 200`, `worker = 100`)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from edgelint.costmodel.routes import Route
from edgelint.errors import ConfigError
from edgelint.tomlcompat import load_toml

WORKER = "worker"  # the key for the whole Worker in a traffic file
PERIODS = {"s": 1, "second": 1, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "day": 86_400,
           "month": 30 * 86_400}
_RATE = re.compile(r"^\s*([0-9][0-9_.,]*)\s*(?:/\s*([a-z]+))?\s*$")


@dataclass(frozen=True)
class Traffic:
    worker: Optional[float]  # requests per second to the whole Worker
    routes: Tuple[Tuple[str, float], ...]  # (route as given, requests per second)


@dataclass(frozen=True)
class RouteRate:
    route: Route
    per_second: float
    source: str  # "given", or "share of the Worker's" when the Worker's rate was split evenly


def parse_rate(text: Union[str, int, float], where: str) -> float:
    """Requests per second from `100`, `100/s`, `2000000/month`, `5/min`."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        number, period = float(text), "s"
    else:
        match = _RATE.match(str(text).lower())
        if match is None or (match.group(2) or "s") not in PERIODS:
            raise ConfigError(where, f"expected a rate such as 100, 100/s or 3000000/month, not {text!r}")
        number, period = float(match.group(1).replace("_", "").replace(",", "")), match.group(2) or "s"
    if number < 0:
        raise ConfigError(where, f"a rate cannot be negative: {text!r}")
    return number / PERIODS[period]


def parse_traffic(values: Sequence[str], file: Optional[str]) -> Optional[Traffic]:
    """The traffic of the command line's `--traffic` values and `--traffic-file` (None: none given)."""
    pairs: List[Tuple[str, Union[str, float], str]] = []  # (route, rate, where it was given)
    if file:
        table = load_toml(_read(file), file).get("traffic")
        if not isinstance(table, dict):
            raise ConfigError(file, "expected a [traffic] table of route = requests per second")
        pairs += [(key, value, f"{file}: traffic.{key}") for key, value in table.items()]
    for value in values:
        route, _, rate = value.rpartition("=")
        pairs.append((route.strip() or WORKER, rate, f"--traffic {value}"))
    if not pairs:
        return None
    worker = None
    routes = []
    for key, value, where in pairs:
        rate = parse_rate(value, where)
        if key == WORKER:
            worker = rate
        else:
            routes.append((key, rate))
    return Traffic(worker, tuple(routes))


def _read(file: str) -> str:
    try:
        return Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(file, f"cannot read the traffic file: {exc}") from None


def route_rates(traffic: Traffic, routes: Sequence[Route]) -> List[RouteRate]:
    """The rate of each route: as given, and the Worker's rate not given to a route split evenly
    over the other request routes (the model cannot know how requests divide)."""
    given: Dict[int, float] = {}
    for name, rate in traffic.routes:
        matched = [index for index, route in enumerate(routes) if matches(name, route)]
        if not matched:
            known = ", ".join(sorted({route.label for route in routes if route.kind != "object"}))
            raise ConfigError(f"--traffic {name}", f"no such route; the routes are: {known}")
        for index in matched:
            given[index] = given.get(index, 0.0) + rate
    rates = [RouteRate(routes[index], rate, "given") for index, rate in given.items()]
    rest = [route for index, route in enumerate(routes) if index not in given and route.kind == "request"]
    if traffic.worker is not None and rest:
        share = max(traffic.worker - sum(given.values()), 0.0) / len(rest)
        rates += [RouteRate(route, share, "share of the Worker's") for route in rest]
    return rates


def matches(name: str, route: Route) -> bool:
    """`GET /views/*` names the route `/views/*` (no method known) and `GET /views/*`; the entry
    point's name (`Default.scheduled`) names its routes."""
    if name in (route.label, route.entry, route.entry.split(":", 1)[-1]):
        return True
    method, _, path = name.partition(" ")
    label_methods, _, label_path = route.label.rpartition(" ")
    if not path or path != label_path or not label_path.startswith("/"):
        return False
    return not label_methods or method.upper() in label_methods.split("|")
