"""The model as JSON (schema `edgelint-model/1`, documented in docs/model.md)."""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Dict, List

from edgelint.costmodel.alternatives import Comparison
from edgelint.costmodel.costs import Assumptions, Estimate
from edgelint.costmodel.report import ModelReport
from edgelint.costmodel.routes import Line, Route

SCHEMA = "edgelint-model/1"


def render(reports: List[ModelReport]) -> str:
    document = {"schema": SCHEMA, "projects": [report_object(report) for report in reports]}
    return json.dumps(document, indent=2) + "\n"


def report_object(report: ModelReport) -> Dict[str, Any]:
    prices = report.prices
    return {"root": str(report.model.settings.root or ""),
            "routes": [route_object(route) for route in report.model.routes],
            "prices": {"date": prices.date, "origin": prices.origin, "month_days": prices.month_seconds // 86_400},
            "estimate": None if report.estimate is None else estimate_object(report.estimate, report.assumptions),
            "comparisons": [comparison_object(comparison) for comparison in report.comparisons]}


def comparison_object(comparison: Comparison) -> Dict[str, Any]:
    return {"code": comparison.code, "route": comparison.route, "fix": comparison.fix,
            "before": {"min": comparison.before.total[0], "max": comparison.before.total[1]},
            "after": {"min": comparison.after.total[0], "max": comparison.after.total[1]},
            "warnings_gone": comparison.warnings_gone(), "warnings_new": comparison.warnings_new()}


def estimate_object(estimate: Estimate, assumptions: Assumptions) -> Dict[str, Any]:
    return {"plan": estimate.plan,
            "traffic": [{"route": rate.route.label, "entry": rate.route.entry, "per_second": rate.per_second,
                         "source": rate.source} for rate in estimate.rates],
            "line_items": [{"item": item.item, "product": item.product, "unit": item.unit,
                            "monthly_min": item.monthly[0], "monthly_max": item.monthly[1],
                            "included": item.included, "cost_min": item.cost[0], "cost_max": item.cost[1],
                            "over_free_plan": item.over_free} for item in estimate.items],
            "total": {"min": estimate.total[0], "max": estimate.total[1]},
            "warnings": [{"kind": warning.kind, "message": warning.message} for warning in estimate.warnings],
            "assumptions": assumptions.describe()}


def route_object(route: Route) -> Dict[str, Any]:
    return {"label": route.label, "entry": route.entry, "kind": route.kind, "object_class": route.object_class or None,
            "operations": [_line(line) for line in route.lines],
            "findings": [{"code": f.code, "path": f.path, "line": f.line, "message": f.message}
                         for f in route.findings]}


def _line(line: Line) -> Dict[str, Any]:
    count = asdict(line.count)
    return {"product": line.product, "action": line.action, "method": line.method, "binding": line.binding,
            "key": line.key, "key_kind": line.key_kind, "target": line.target or None,
            "count": {"min": count["low"], "max": count["high"], "per_item_min": count["item_low"],
                      "per_item_max": count["item_high"], "text": str(line.count)}}
