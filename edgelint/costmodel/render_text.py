"""The model as text: a table per route."""
from __future__ import annotations

from typing import List

from edgelint.costmodel.alternatives import Comparison
from edgelint.costmodel.costs import Assumptions, Estimate, money, units
from edgelint.costmodel.pricing import Prices
from edgelint.costmodel.report import ModelReport
from edgelint.costmodel.routes import Line, Route

HEADER = ("operation", "binding", "key / object name", "key is", "per invocation")


def render(reports: List[ModelReport]) -> str:
    parts = []
    for report in reports:
        parts += [route_table(route) for route in report.model.routes]
        if report.estimate is not None:
            parts.append(estimate_text(report.estimate, report.prices, report.assumptions))
            parts += [comparison_text(comparison) for comparison in report.comparisons]
        else:
            parts.append(no_estimate(report) + "\n")
    return "\n".join(parts)


def no_estimate(report: ModelReport) -> str:
    return f"No traffic given (--traffic): no cost estimate. Prices of {report.prices.date}."


def route_table(route: Route) -> str:
    title = f"{route.label}  [{route.kind}: {route.entry}]"
    rows = [HEADER] + [row(line) for line in route.lines]
    lines = [title] + (table(rows) if route.lines else ["  no KV or Durable Object operations"])
    lines += [f"  finding: {finding.path}:{finding.line}: {finding.code} {finding.name}" for finding in route.findings]
    return "\n".join(lines) + "\n"


def row(line: Line) -> tuple:
    operation = {"kv": "KV", "durable_object": "DO", "storage": "storage"}[line.product] + f" {line.action}"
    if line.target:
        operation += f" -> {line.target}"
    return (operation, line.binding, line.key, line.key_kind, str(line.count))


def table(rows: List[tuple], indent: str = "  ") -> List[str]:
    """Rows as aligned columns (the first row is the header)."""
    widths = [max(len(str(row[column])) for row in rows) for column in range(len(rows[0]))]
    return [indent + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def estimate_text(estimate: Estimate, prices: Prices, assumptions: Assumptions) -> str:
    """The monthly cost per line item, the traffic it assumes and the capacity warnings."""
    plan = "Paid" if estimate.plan == "paid" else "Free"
    lines = [f"Estimate: {plan} plan, {prices.month_seconds // 86_400}-day month, "
             f"prices of {prices.date} ({prices.origin})", "traffic (requests/s):"]
    rates = [(rate.route.label, units(rate.per_second), rate.source) for rate in estimate.rates]
    lines += table([("route", "rate", "")] + rates)
    lines.append("cost:")
    rows = [("product", "line item", "per month", "included", "cost")]
    rows += [(item.product, item.unit, _span(item.monthly, units),
              "no figure" if item.included is None else units(item.included), _span(item.cost, money))
             for item in estimate.items]
    rows.append(("total", "", "", "", _span(estimate.total, money)))
    lines += table(rows)
    lines += ["capacity:"] + [f"  {warning.kind}: {warning.message}" for warning in estimate.warnings] \
        if estimate.warnings else ["capacity: no warning"]
    lines += ["assumptions:"] + [f"  {text}" for text in assumptions.describe()]
    return "\n".join(lines) + "\n"


def _span(values: tuple, shown) -> str:
    low, high = (shown(value) for value in values)
    return low if low == high else f"{low}..{high}"


def comparison_text(comparison: Comparison) -> str:
    """A finding's fix: the Worker's monthly cost and capacity as written and as fixed."""
    before, after = comparison.before.total, comparison.after.total
    lines = [f"{comparison.code} on {comparison.route}: {comparison.fix}",
             f"  as written {_span(before, money)} a month; fixed {_span(after, money)} a month"]
    lines += [f"  gone: {message}" for message in comparison.warnings_gone()]
    lines += [f"  new: {message}" for message in comparison.warnings_new()]
    return "\n".join(lines) + "\n"
