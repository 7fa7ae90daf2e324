"""The model as a Mermaid flowchart: routes -> helpers -> KV keys and Durable Objects, with hot
keys (a constant key written on the request path) and single objects (a constant name requested
on the request path) marked. GitHub and most docs sites render it as a picture."""
from __future__ import annotations

from typing import Dict, List, Tuple

from edgelint.costmodel.report import ModelReport
from edgelint.costmodel.routes import Line, Route

SHAPES = {"route": '["{}"]', "helper": '("{}")', "kv": '[("{}")]', "durable_object": '{{{{"{}"}}}}',
          "storage": '[("{}")]'}
STYLES = ("classDef route fill:#e8f0fe,stroke:#1a73e8", "classDef hot fill:#fde8e8,stroke:#c5221f,stroke-width:3px")
REQUEST_KINDS = ("request", "rpc")


class Flowchart:
    def __init__(self) -> None:
        self.nodes: Dict[Tuple[str, str], str] = {}  # (kind, label) -> id
        self.statements: List[str] = []
        self.edges: Dict[Tuple[str, str], List[str]] = {}  # (from, to) -> edge labels
        self.hot: List[str] = []
        self.routes: List[str] = []

    def node(self, kind: str, label: str) -> str:
        key = (kind, label)
        if key not in self.nodes:
            self.nodes[key] = f"n{len(self.nodes)}"
            self.statements.append(f"  {self.nodes[key]}{SHAPES[kind].format(escape(label))}")
        return self.nodes[key]

    def edge(self, source: str, target: str, label: str = "") -> None:
        labels = self.edges.setdefault((source, target), [])
        if label and label not in labels:
            labels.append(label)

    def add_route(self, route: Route) -> None:
        start = self.node("route", f"{route.label}")
        self.routes.append(start)
        for line in route.lines:
            source = start
            for place in line.places[:1]:  # the helpers on the way (every op of a line shares its key and call)
                for qualname in place.helpers:
                    helper = self.node("helper", qualname.split(":", 1)[-1])
                    self.edge(source, helper)
                    source = helper
            target = self.node(line.product, target_label(line, route.object_class))
            self.edge(source, target, f"{line.action} {line.count}")
            if route.kind in REQUEST_KINDS and is_bottleneck(line):
                self.hot.append(target)

    def text(self) -> str:
        lines = ["flowchart LR"] + self.statements
        for (source, target), labels in self.edges.items():
            arrow = f'-->|"{escape(", ".join(labels))}"|' if labels else "-->"
            lines.append(f"  {source} {arrow} {target}")
        lines += [f"  {style}" for style in STYLES]
        if self.routes:
            lines.append(f"  class {','.join(self.routes)} route")
        if self.hot:
            lines.append(f"  class {','.join(dict.fromkeys(self.hot))} hot")
        return "\n".join(lines) + "\n"


def target_label(line: Line, object_class: str) -> str:
    if line.product == "durable_object":
        return f"{line.binding}({line.key}) {line.target}".strip()
    if line.product == "storage":
        return f"{object_class} storage: {line.key}"
    return f"{line.binding}: {line.key}" if line.key else line.binding


def is_bottleneck(line: Line) -> bool:
    """A constant KV key written, or one object requested by a constant name, on every request."""
    if line.key_kind != "constant":
        return False
    return line.product == "durable_object" or (line.product == "kv" and line.action in ("write", "delete"))


def escape(text: str) -> str:
    """Text for a quoted Mermaid label: quotes and markup characters as entity codes."""
    return "".join(_ENTITIES.get(character, character) for character in text)


_ENTITIES = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "#": "#35;", "|": "#124;"}


def flowchart(reports: List[ModelReport]) -> Flowchart:
    chart = Flowchart()
    for report in reports:
        for route in report.model.routes:
            chart.add_route(route)
    return chart


def render(reports: List[ModelReport]) -> str:
    return flowchart(reports).text()
