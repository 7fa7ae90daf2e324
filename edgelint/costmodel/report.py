"""One project's model with its estimate at the given traffic: what every format renders."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

from edgelint.costmodel.alternatives import Comparison, comparisons
from edgelint.costmodel.costs import Assumptions, Estimate, estimate
from edgelint.costmodel.pricing import Prices, load_prices
from edgelint.costmodel.routes import ProjectModel
from edgelint.costmodel.traffic import Traffic, route_rates
from edgelint.errors import ConfigError

MODEL_KEYS = ("prices",)  # what [tool.edgelint.model] may hold


@dataclass
class ModelReport:
    model: ProjectModel
    prices: Prices
    assumptions: Assumptions
    estimate: Optional[Estimate] = None
    comparisons: List[Comparison] = field(default_factory=list)


def build_report(model: ProjectModel, traffic: Optional[Traffic], plan: str, assumptions: Assumptions) -> ModelReport:
    options = model.settings.model
    where = model.settings.path or "configuration"
    unknown = sorted(set(options) - set(MODEL_KEYS))
    if unknown:
        raise ConfigError(where, f"unknown key 'model.{unknown[0]}' in [tool.edgelint]")
    prices = load_prices(options.get("prices", {}), where)
    report = ModelReport(model, prices, assumptions)
    if traffic is not None:
        report.estimate = estimate(model.routes, route_rates(traffic, model.routes), prices, plan, assumptions)
        report.comparisons = comparisons(model, report.estimate, prices, assumptions)
    return report


def reports_of(models: List[ProjectModel], traffic: Optional[Traffic], plan: str,
               assumptions: Assumptions) -> List[ModelReport]:
    return [build_report(model, traffic, plan, assumptions) for model in models]
