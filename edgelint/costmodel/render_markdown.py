"""The model as Markdown: for a pull request comment or the GitHub job summary."""
from __future__ import annotations

from typing import List, Sequence

from edgelint.costmodel import render_mermaid, render_text
from edgelint.costmodel.report import ModelReport
from edgelint.costmodel.routes import Route


def render(reports: List[ModelReport]) -> str:
    parts = ["# edgelint model\n", "```mermaid\n" + render_mermaid.render(reports) + "```\n"]
    for report in reports:
        parts += [route_section(route) for route in report.model.routes]
        if report.estimate is not None:
            parts.append("## Estimate\n\n```text\n" + render_text.estimate_text(
                report.estimate, report.prices, report.assumptions) + "```\n")
            parts += ["```text\n" + render_text.comparison_text(comparison) + "```\n"
                      for comparison in report.comparisons]
        else:
            parts.append(render_text.no_estimate(report) + "\n")
    return "\n".join(parts)


def route_section(route: Route) -> str:
    lines = [f"## `{_cell(route.label)}`", "", f"{route.kind}: `{route.entry}`", ""]
    if route.lines:
        lines += markdown_table([render_text.HEADER] + [render_text.row(line) for line in route.lines])
    else:
        lines.append("No KV or Durable Object operations.")
    lines.append("")
    lines += [f"- {finding.code} {finding.name} at `{finding.path}:{finding.line}`" for finding in route.findings]
    return "\n".join(lines).rstrip() + "\n"


def markdown_table(rows: Sequence[tuple]) -> List[str]:
    header, *body = rows
    lines = ["| " + " | ".join(_cell(cell) for cell in header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in body]


def _cell(value: object) -> str:
    """A table cell: pipes escaped, backticks kept out of code spans."""
    return str(value).replace("|", "\\|").replace("`", "'")
