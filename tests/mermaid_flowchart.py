"""A parser for the part of Mermaid's flowchart grammar that `edgelint model --format mermaid`
writes (https://mermaid.js.org/syntax/flowchart.html): it accepts what Mermaid renders and raises
on anything else, so that a test can check the diagram without a browser."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Set, Tuple

_ID = r"[A-Za-z][A-Za-z0-9_]*"
_TEXT = r'"(?P<text>(?:[^"#]|#[a-z]+;|#[0-9]+;)*)"'  # a quoted label: quotes and '#' only as entity codes
_SHAPES = {"rectangle": (r"\[", r"\]"), "rounded": (r"\(", r"\)"), "cylinder": (r"\[\(", r"\)\]"),
           "hexagon": (r"\{\{", r"\}\}")}
_NODE = [(shape, re.compile(rf"^(?P<id>{_ID}){opening}{_TEXT}{closing}$")) for shape, (opening, closing)
         in sorted(_SHAPES.items(), key=lambda item: -len(item[1][0]))]
_EDGE = re.compile(rf"^(?P<source>{_ID}) -->(?:\|{_TEXT}\|)? (?P<target>{_ID})$")
_CLASS_DEF = re.compile(rf"^classDef (?P<name>{_ID}) (?P<styles>[a-z-]+:[^,\s]+(?:,[a-z-]+:[^,\s]+)*)$")
_CLASS = re.compile(rf"^class (?P<ids>{_ID}(?:,{_ID})*) (?P<name>{_ID})$")
_HEADER = re.compile(r"^(flowchart|graph) (TB|TD|BT|RL|LR)$")


class MermaidError(ValueError):
    pass


@dataclass
class Chart:
    nodes: Dict[str, Tuple[str, str]] = field(default_factory=dict)  # id -> (shape, label)
    edges: List[Tuple[str, str, str]] = field(default_factory=list)  # (source, target, label)
    classes: Dict[str, Set[str]] = field(default_factory=dict)  # class name -> node ids

    def ids_labelled(self, label: str) -> Set[str]:
        return {node for node, (_, text) in self.nodes.items() if text == label}


def parse(text: str) -> Chart:
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("%%")]
    if not lines or not _HEADER.match(lines[0]):
        raise MermaidError(f"not a flowchart header: {lines[:1]}")
    chart = Chart()
    defined: Set[str] = set()
    for number, line in enumerate(lines[1:], 2):
        if _statement(chart, defined, line) is None:
            raise MermaidError(f"line {number}: not flowchart syntax: {line!r}")
    used = {node for source, target, _ in chart.edges for node in (source, target)}
    used |= {node for nodes in chart.classes.values() for node in nodes}
    if used - set(chart.nodes):
        raise MermaidError(f"undeclared nodes: {sorted(used - set(chart.nodes))}")
    if set(chart.classes) - defined:
        raise MermaidError(f"classes without classDef: {sorted(set(chart.classes) - defined)}")
    return chart


def _statement(chart: Chart, defined: Set[str], line: str):
    for shape, pattern in _NODE:
        match = pattern.match(line)
        if match:
            if match["id"] in chart.nodes:
                raise MermaidError(f"node {match['id']} declared twice")
            chart.nodes[match["id"]] = (shape, match["text"])
            return match
    match = _EDGE.match(line)
    if match:
        chart.edges.append((match["source"], match["target"], match["text"] or ""))
        return match
    match = _CLASS_DEF.match(line)
    if match:
        defined.add(match["name"])
        return match
    match = _CLASS.match(line)
    if match:
        chart.classes.setdefault(match["name"], set()).update(match["ids"].split(","))
    return match
