"""The model as one self-contained HTML page: the diagram drawn as inline SVG (no script, no
network), the table of every route, the estimate and the comparisons."""
from __future__ import annotations

from html import escape
from typing import Dict, List, Sequence, Tuple

from edgelint.costmodel import render_text
from edgelint.costmodel.render_mermaid import Flowchart, flowchart
from edgelint.costmodel.report import ModelReport
from edgelint.costmodel.routes import Route

BOX_WIDTH, BOX_HEIGHT, COLUMN_GAP, ROW_GAP, MARGIN = 300, 34, 120, 14, 20
FILLS = {"route": "#e8f0fe", "helper": "#f1f3f4", "kv": "#e6f4ea", "durable_object": "#fef7e0", "storage": "#e6f4ea"}
HOT_FILL, HOT_STROKE = "#fde8e8", "#c5221f"
STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #202124; }
table { border-collapse: collapse; margin: 8px 0 4px; }
th { background: #dadce0; text-align: left; }
th, td { border: 1px solid #bdc1c6; padding: 3px 8px; font-size: 14px; }
pre { background: #f8f9fa; padding: 8px; }
svg text { font: 12px monospace; }
"""


def render(reports: List[ModelReport]) -> str:
    body = ["<h1>edgelint model</h1>", diagram(flowchart(reports))]
    for report in reports:
        body += [route_section(route) for route in report.model.routes]
        if report.estimate is not None:
            body.append("<h2>Estimate</h2><pre>" + escape(render_text.estimate_text(
                report.estimate, report.prices, report.assumptions)) + "</pre>")
            body += ["<pre>" + escape(render_text.comparison_text(comparison)) + "</pre>"
                     for comparison in report.comparisons]
        else:
            body.append(f"<p>{escape(render_text.no_estimate(report))}</p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>edgelint model</title>"
            f"<style>{STYLE}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")


def route_section(route: Route) -> str:
    parts = [f"<h2>{escape(route.label)}</h2>", f"<p>{escape(route.kind)}: <code>{escape(route.entry)}</code></p>"]
    if route.lines:
        parts.append(html_table([render_text.HEADER] + [render_text.row(line) for line in route.lines]))
    parts += [f"<p>{escape(finding.code)} {escape(finding.name)} at "
              f"<code>{escape(finding.path)}:{finding.line}</code></p>" for finding in route.findings]
    return "\n".join(parts)


def html_table(rows: Sequence[tuple]) -> str:
    header, *body = rows
    cells = ["<tr>" + "".join(f"<th>{escape(str(cell))}</th>" for cell in header) + "</tr>"]
    cells += ["<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in body]
    return "<table>" + "".join(cells) + "</table>"


def diagram(chart: Flowchart) -> str:
    """The flowchart laid out in columns by distance from the routes, edges left to right."""
    places = _layout(chart)
    width = max((x for x, _ in places.values()), default=0) + BOX_WIDTH + 2 * MARGIN
    height = max((y for _, y in places.values()), default=0) + BOX_HEIGHT + 2 * MARGIN
    shapes = [_edge(places[source], places[target], labels) for (source, target), labels in chart.edges.items()]
    hot = set(chart.hot)
    for (kind, label), node in chart.nodes.items():
        x, y = places[node]
        fill, stroke = (HOT_FILL, HOT_STROKE) if node in hot else (FILLS[kind], "#5f6368")
        shapes.append(f'<rect x="{x}" y="{y}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="6" fill="{fill}" '
                      f'stroke="{stroke}" stroke-width="{3 if node in hot else 1}"/>'
                      f'<text x="{x + 8}" y="{y + 22}">{escape(_clip(label))}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            f'aria-label="routes, helpers, keys and objects">' + "".join(shapes) + "</svg>")


def _layout(chart: Flowchart) -> Dict[str, Tuple[int, int]]:
    depth = {node: 0 for node in chart.routes}
    for _ in range(len(chart.nodes)):  # longest distance from a route (bounded: a cycle cannot loop)
        changed = False
        for source, target in chart.edges:
            if depth.get(source, 0) + 1 > depth.get(target, 0) and target not in chart.routes:
                depth[target] = depth.get(source, 0) + 1
                changed = True
        if not changed:
            break
    rows: Dict[int, int] = {}
    places = {}
    for node in chart.nodes.values():
        column = depth.get(node, 0)
        row = rows.get(column, 0)
        rows[column] = row + 1
        places[node] = (MARGIN + column * (BOX_WIDTH + COLUMN_GAP), MARGIN + row * (BOX_HEIGHT + ROW_GAP))
    return places


def _edge(start: Tuple[int, int], end: Tuple[int, int], labels: List[str]) -> str:
    x1, y1 = start[0] + BOX_WIDTH, start[1] + BOX_HEIGHT // 2
    x2, y2 = end[0], end[1] + BOX_HEIGHT // 2
    middle = (x1 + x2) // 2
    path = f'<path d="M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}" fill="none" stroke="#80868b"/>'
    label = f'<text x="{middle - 40}" y="{(y1 + y2) // 2 - 3}">{escape(", ".join(labels))}</text>' if labels else ""
    return path + label


def _clip(label: str, limit: int = 40) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"
