"""From the rules' reports to findings, through candidates the cache can keep.

Rules report about nodes of parsed code (`findings.Report`, `findings.Choice`), filed under the
analysis root whose analysis they come from. `place` gives each its positions — the node's span,
the spans of its related places, its source line and fix — and so turns it into plain data
(`Candidate`, `Pending`) that a later run can reuse for a root whose modules did not change.
`combine` makes the findings from the candidates of all roots, whether just computed or kept:
single-call findings land in the innermost frame that no right recording of the same call passes
through (model.placement), and each (code, place) is one finding, with the related places of every
root that reported it.
"""
from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

import libcst as cst

from edgelint.findings import Choice, Finding, Fix, RelatedLocation, Report, Subject
from edgelint.positions import PositionIndex, Span

Locator = Tuple[Any, ...]  # path and span: a node of unchanged code, across runs
# A call of unchanged code across runs, found without positioning it: (path, "ref", first line of
# its top-level statement, its ordinal among the statement's calls) or, failing that, its locator.
CallRef = Tuple[Any, ...]


@dataclass(frozen=True)
class Place:
    """A related place with its position (`findings.Related` once positioned)."""

    kind: str
    message: str
    path: str
    span: Span
    label: str


@dataclass(frozen=True)
class Candidate:
    """A finding-to-be, positioned: what a root's analysis reported at one place."""

    code: str
    path: str
    span: Span
    message: str
    context: str
    fix: Optional[Fix]
    related: Tuple[Place, ...]
    ref: Optional[CallRef] = None  # for a `Pending` option: the call it lands on
    subjects: Tuple[Subject, ...] = ()

    @property
    def locator(self) -> Locator:
        return (self.path, *self.span)


@dataclass(frozen=True)
class Pending:
    """A positioned `findings.Choice`: `options` by frame for a wrong recording, `passes` for a right one."""

    code: str
    call: CallRef
    options: Tuple[Candidate, ...]
    passes: Tuple[CallRef, ...]


Item = Union[Candidate, Pending]


class Positions:
    """Spans of nodes, one module's position index at a time (it holds a copy of the module's lines)."""

    def __init__(self, index_of: Callable[[str], Optional[PositionIndex]]):
        self._index_of = index_of
        self._path: Optional[str] = None
        self._index: Optional[PositionIndex] = None

    def index(self, path: str) -> Optional[PositionIndex]:
        if path != self._path:
            self._path, self._index = path, self._index_of(path)
        return self._index


def place(reports: Sequence[Union[Report, Choice]], positions: Positions,
          fix_for: Callable[[Report, PositionIndex, Span], Optional[Fix]],
          failed: Callable[[str, BaseException], None]) -> List[Tuple[Tuple[str, str], Item]]:
    """(root, candidate) for each report, in order; `failed(path, error)` hears of a report whose
    position or fix cannot be computed (it is left out)."""
    located = _Located()
    for path, (nodes, calls, landing) in _by_module(reports).items():  # each module's index built once
        index = positions.index(path)
        for node, part in nodes:
            try:
                located.spans[id(node)] = index.span(node, part) if index is not None else (1, 0, 1, 0)
            except Exception as exc:  # noqa: BLE001 - reported by the report that needs it
                failed(path, exc)
        for node, part in calls:
            try:
                located.refs[id(node)] = _call_ref(path, node, part, index)
            except Exception as exc:  # noqa: BLE001
                failed(path, exc)
        for report in landing:
            span = located.spans.get(id(report.node))
            if span is None or index is None:
                continue
            try:
                fix = fix_for(report, index, span) if report.fix_edit is not None else None
            except Exception as exc:  # noqa: BLE001 - a fix that cannot be computed
                failed(path, exc)
                continue
            line = span[0]
            located.lines[id(report)] = (index.lines[line - 1].strip() if 0 < line <= len(index.lines) else "", fix)
    placed: List[Tuple[Tuple[str, str], Item]] = []
    for report in reports:
        item = located.pending(report) if isinstance(report, Choice) else located.candidate(report)
        if item is not None:
            placed.append((report.root, item))
    return placed


class _Located:
    """Spans of nodes, and source lines and fixes of reports, as `place` found them."""

    def __init__(self) -> None:
        self.spans: Dict[int, Span] = {}
        self.refs: Dict[int, CallRef] = {}
        self.lines: Dict[int, Tuple[str, Optional[Fix]]] = {}

    def candidate(self, report: Report, ref: Optional[CallRef] = None) -> Optional[Candidate]:
        span = self.spans.get(id(report.node))
        if span is None or id(report) not in self.lines:
            return None  # its position or fix could not be computed: reported as an internal error
        context, fix = self.lines[id(report)]
        related = tuple(Place(place.kind, place.message, place.module_path, self.spans[id(place.node)], place.label)
                        for place in report.related if id(place.node) in self.spans)
        subjects = tuple(tuple((path, *self.spans[id(node)][:2]) for path, node, _ in chain if id(node) in self.spans)
                         for chain in report.subjects)
        return Candidate(report.code, report.module_path, span, report.message, context, fix, related, ref, subjects)

    def pending(self, choice: Choice) -> Optional[Pending]:
        call = self.refs.get(id(choice.node))
        options = [self.candidate(option, self.refs.get(id(option.node))) for option in choice.options]
        if call is None or None in options:
            return None
        return Pending(choice.code, call, tuple(options),
                       tuple(self.refs[id(node)] for _, node, _ in choice.passes if id(node) in self.refs))


def _call_ref(path: str, node: cst.CSTNode, part: int, index: Optional[PositionIndex]) -> CallRef:
    ref = index.ref(node, part) if index is not None else None
    return (path, "ref", *ref) if ref is not None else (path, "span", *(index.span(node, part) if index else ()))


Wanted = Dict[int, Tuple["cst.CSTNode", int]]  # id -> (node, first line of the statement holding it)


def _by_module(reports: Iterable[Union[Report, Choice]]
               ) -> Dict[str, Tuple[List[Tuple[cst.CSTNode, int]], List[Tuple[cst.CSTNode, int]], List[Report]]]:
    """Per module (in path order): the nodes to position, the calls to identify (`CallRef`), and
    the reports that land there."""
    wanted: Dict[str, Tuple[Wanted, Wanted, List[Report]]] = {}

    def entry(path: str) -> Tuple[Wanted, Wanted, List[Report]]:
        return wanted.setdefault(path, ({}, {}, []))

    def want_report(report: Report) -> None:
        entry(report.module_path)[0].setdefault(id(report.node), (report.node, report.part))
        entry(report.module_path)[2].append(report)
        for related in report.related:
            entry(related.module_path)[0].setdefault(id(related.node), (related.node, related.part))
        for chain in report.subjects:
            for path, node, part in chain:
                entry(path)[0].setdefault(id(node), (node, part))

    for report in reports:
        if not isinstance(report, Choice):
            want_report(report)
            continue
        entry(report.module_path)[1].setdefault(id(report.node), (report.node, report.part))
        for option in report.options:
            want_report(option)
            entry(option.module_path)[1].setdefault(id(option.node), (option.node, option.part))
        for path, node, part in report.passes:
            entry(path)[1].setdefault(id(node), (node, part))
    return {path: (list(spans.values()), list(calls.values()), landing)
            for path, (spans, calls, landing) in sorted(wanted.items())}


def combine(items: Iterable[Item], rule_of: Callable[[str], Tuple[str, str, Tuple[str, ...]]]) -> List[Finding]:
    """The findings of all roots' candidates, in order; `rule_of(code)` gives the severity, the
    rule's name and the codes it supersedes."""
    items = list(items)
    passed: Dict[Tuple[str, CallRef], Set[CallRef]] = {}
    for item in items:
        if isinstance(item, Pending) and not item.options:
            passed.setdefault((item.code, item.call), set()).update(item.passes)
    merged: Dict[Tuple[str, Locator], Candidate] = {}
    for item in items:
        candidate = _resolve(item, passed) if isinstance(item, Pending) else item
        if candidate is None:
            continue
        key = (candidate.code, candidate.locator)
        earlier = merged.get(key)
        merged[key] = candidate if earlier is None else _merged(earlier, candidate)
    return [_finding(candidate, *rule_of(candidate.code)) for candidate in merged.values()]


def _resolve(pending: Pending, passed: Dict[Tuple[str, CallRef], Set[CallRef]]) -> Optional[Candidate]:
    """A wrong recording's finding: in the innermost frame no right recording passes through."""
    right = passed.get((pending.code, pending.call), set())
    return next((option for option in reversed(pending.options) if option.ref not in right), None)


def _merged(first: Candidate, second: Candidate) -> Candidate:
    """One finding reached twice (two callers compose the same pattern): its related places and
    the recordings it is about, once each."""
    known = {(place.kind, place.message, place.path, place.span) for place in first.related}
    extra = tuple(place for place in second.related if (place.kind, place.message, place.path, place.span) not in known)
    subjects = tuple(dict.fromkeys(first.subjects + second.subjects))
    if not extra and subjects == first.subjects:
        return first
    return dataclasses.replace(first, related=first.related + extra, subjects=subjects)


def _finding(candidate: Candidate, severity: str, name: str, supersedes: Tuple[str, ...]) -> Finding:
    line, column, end_line, end_column = candidate.span
    related = tuple(RelatedLocation(place.message, place.path, place.span[0], place.span[1] + 1, place.span[2],
                                    place.span[3] + 1) for place in candidate.related)
    message = candidate.message + _summary(candidate)
    return Finding(candidate.code, message, candidate.path, line, column + 1, end_line, end_column + 1, severity,
                   name, candidate.fix, related, candidate.context, candidate.subjects, supersedes)


def _summary(candidate: Candidate) -> str:
    """The short form of the related places that ends a message: `(read in get_json() at
    kvstore.py:14; reached from fetch())`."""
    ends = [f"{place.message} at {_where(candidate.path, place)}" for place in candidate.related if place.kind == "end"]
    callers = list(dict.fromkeys(place.label for place in candidate.related if place.kind == "call"))
    if callers:
        ends.append("reached from " + " -> ".join(f"{name}()" for name in callers))
    return f" ({'; '.join(ends)})" if ends else ""


def _where(path: str, place: Place) -> str:
    if place.path == path:
        return f"line {place.span[0]}"
    return f"{PurePath(place.path).name}:{place.span[0]}"


def respelled_finding(finding: Finding, spell: Callable[[str], str]) -> Finding:
    """`finding` with every path passed through `spell` (see `respelled`)."""
    subjects = tuple(tuple((spell(path), *position) for path, *position in chain) for chain in finding.subjects)
    return dataclasses.replace(finding, path=spell(finding.path), subjects=subjects, related=tuple(
        dataclasses.replace(place, path=spell(place.path)) for place in finding.related))


def respelled(items: Iterable[Item], spell: Callable[[str], str]) -> List[Item]:
    """`items` with every path passed through `spell` (the cache keeps them absolute; a run shows
    them as its arguments spelled them). An item whose paths all stay as they are is kept as it is."""
    return [_respelled_pending(item, spell) if isinstance(item, Pending) else _respelled(item, spell) for item in items]


def _respelled(candidate: Candidate, spell: Callable[[str], str]) -> Candidate:
    path = spell(candidate.path)
    if (path == candidate.path and all(spell(place.path) == place.path for place in candidate.related)
            and (candidate.ref is None or spell(candidate.ref[0]) == candidate.ref[0])
            and all(spell(subject[0]) == subject[0] for chain in candidate.subjects for subject in chain)):
        return candidate
    related = tuple(Place(place.kind, place.message, spell(place.path), place.span, place.label)
                    for place in candidate.related)
    ref = (spell(candidate.ref[0]), *candidate.ref[1:]) if candidate.ref is not None else None
    subjects = tuple(tuple((spell(path), *position) for path, *position in chain) for chain in candidate.subjects)
    return Candidate(candidate.code, path, candidate.span, candidate.message, candidate.context,
                     candidate.fix, related, ref, subjects)


def _respelled_pending(pending: Pending, spell: Callable[[str], str]) -> Pending:
    options = tuple(_respelled(option, spell) for option in pending.options)
    if (spell(pending.call[0]) == pending.call[0] and all(map(operator.is_, options, pending.options))
            and all(spell(place[0]) == place[0] for place in pending.passes)):
        return pending
    return Pending(pending.code, (spell(pending.call[0]), *pending.call[1:]), options,
                   tuple((spell(place[0]), *place[1:]) for place in pending.passes))
