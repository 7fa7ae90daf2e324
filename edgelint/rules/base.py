"""What every rule is: metadata, documentation, examples, and a query over the project model.

Each rule module defines one `Rule` subclass. Its examples are run as tests
(tests/test_rule_examples.py) and its documentation is printed by `edgelint rule CODE`, so code,
docs and tests come from one place. In examples, `# expect: EDGnnn` marks each reported line.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

import libcst as cst

from edgelint.findings import Choice, Related, Report
from edgelint.model.operations import Operation
from edgelint.model.placement import (
    call_path,
    innermost,
    input_depth,
    landing,
    passes,
    root_of,
    shared_depth,
    short_name,
)
from edgelint.model.project import Project
from edgelint.model.values import Term, Value, clock_period, is_constant

DOCS_URL = "https://github.com/edgelint/edgelint/blob/main/docs/rules.md#{code}"

# The wrangler config every rule example runs with (unless the example brings its own files).
EXAMPLE_WRANGLER = """\
name = "example"
main = "src/entry.py"
compatibility_flags = ["python_workers"]

kv_namespaces = [
  { binding = "VIEWS", id = "1" }, { binding = "CACHE", id = "2" }, { binding = "TOKENS", id = "3" },
  { binding = "LOCKS", id = "4" }, { binding = "RATE", id = "5" }, { binding = "FLAGS", id = "6" },
  { binding = "SESSIONS", id = "7" }, { binding = "STATS", id = "8" },
]
r2_buckets = [{ binding = "FILES", bucket_name = "files" }]
ratelimits = [{ name = "LIMITER", namespace_id = "1001", simple = { limit = 100, period = 60 } }]

[durable_objects]
bindings = [
  { name = "COUNTER", class_name = "Counter" },
  { name = "ROOMS", class_name = "Room" },
  { name = "CONFIG", class_name = "ConfigStore" },
]
"""

EXPECT_MARKER = re.compile(r"#\s*expect:\s*((?:EDG\d{3}[,\s]*)+)")


@dataclass(frozen=True)
class Example:
    """A small project: `code` is `path`; `files` adds modules or replaces the wrangler config.

    An invalid example also pins what users see: `messages`, those of its rule's findings in line
    order, and for a fixable rule `fixed`, `path` once every fix is applied (None: no fix offered).
    """

    code: str
    files: Mapping[str, str] = field(default_factory=dict)
    path: str = "src/entry.py"
    messages: Tuple[str, ...] = ()
    fixed: Optional[str] = None

    def project_files(self) -> Dict[str, str]:
        files = {"wrangler.toml": EXAMPLE_WRANGLER}
        files.update(self.files)
        files[self.path] = _dedent(self.code)
        return files

    def expected(self) -> set:
        """(path, line, code) for every `# expect:` marker in every file of the example."""
        found = set()
        for path, text in self.project_files().items():
            if not path.endswith(".py"):
                continue
            for number, line in enumerate(text.splitlines(), start=1):
                match = EXPECT_MARKER.search(line)
                if match:
                    found.update((path, number, code) for code in re.findall(r"EDG\d{3}", match.group(1)))
        return found


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[str]  # "error" | "warning"
    summary: ClassVar[str]  # one line: what is reported
    fixable: ClassVar[bool] = False
    # Documentation, in the order `edgelint rule CODE` prints it.
    what: ClassVar[str]
    why: ClassVar[str]
    example: ClassVar[str]
    use_instead: ClassVar[str]
    fix_safety: ClassVar[str] = "There is no automatic fix: the change moves state to another primitive."
    references: ClassVar[Tuple[str, ...]] = ()
    # The project `example` and `use_instead` are linted in, as an Example's `files` and `path`.
    snippet_files: ClassVar[Mapping[str, str]] = {}
    snippet_path: ClassVar[str] = "src/entry.py"
    invalid: ClassVar[Tuple[Example, ...]] = ()
    valid: ClassVar[Tuple[Example, ...]] = ()
    options: ClassVar[Mapping[str, type]] = {}  # accepted keys under [tool.edgelint.rules.CODE]
    # Codes whose findings about the same operations this rule's findings replace, when both are
    # selected for the file (a rate limiter is reported as EDG104, not also as EDG101).
    supersedes: ClassVar[Tuple[str, ...]] = ()

    def check(self, project: Project, options: Mapping[str, Any]) -> Iterable[Report]:
        raise NotImplementedError

    def report(self, op: Operation, message: str, *, depth: Optional[int] = None, role: str = "",
               other: Optional[Tuple[str, Operation]] = None, **extra: Any) -> Report:
        """A finding about `op`, landing in frame `depth` of its chain (model.placement; default:
        the frame holding `op`). `other` is the other end of a pattern, as (role, operation)."""
        depth = innermost(op) if depth is None else depth
        site = landing(op, depth)
        ends = [(other[1], other[0])] if other is not None else []
        ends.append((op, role or op.method))
        # In the order they run: the read before the write, whatever the finding is about.
        related = [_end(role, end) for end, role in sorted(ends, key=lambda item: item[0].id)
                   if end.node is not site.node]
        related.extend(callers(op, depth))
        subjects = tuple(tuple(passes(end)) for end, _ in ends)
        return Report(self.code, site.module.path, site.node, message, related=tuple(related), root=root_of(op),
                      part=site.part, subjects=subjects, **extra)

    def report_calls(self, ops: Sequence[Operation], offending: Callable[[Operation], bool],
                     message: Callable[[Operation], str],
                     decisive: Optional[Callable[[Operation], Optional[Value]]] = None) -> Iterator[Choice]:
        """Single-call findings: each offending operation among `ops` lands where its `decisive`
        input (a constant key or name) was written, in the innermost frame that no right recording
        of the same call passes through (resolved over all roots: edgelint.candidates)."""
        for op in ops:
            if not offending(op):
                yield Choice(self.code, op.module.path, op.node, (), tuple(passes(op)), root_of(op), op.part)
                continue
            deepest = innermost(op) if decisive is None else input_depth(op, decisive(op))
            options = tuple(self.report(op, message(op), depth=depth) for depth in range(deepest + 1))
            yield Choice(self.code, op.module.path, op.node, options, (), root_of(op), op.part)

    def report_pattern(self, op: Operation, role: str, other: Operation, other_role: str, message: str,
                       **extra: Any) -> Report:
        """A finding about two operations of one flow: in the innermost frame that holds both."""
        return self.report(op, message, depth=shared_depth(op, other), role=role, other=(other_role, other), **extra)

    @classmethod
    def url(cls) -> str:
        return DOCS_URL.format(code=cls.code.lower())

    @classmethod
    def documentation(cls, level: int = 1) -> str:
        """Markdown whose title is a heading of `level` (`edgelint rule CODE`: 1; docs/rules.md: 2)."""
        sub = "#" * (level + 1)
        sections = [
            f"{'#' * level} {cls.code} {cls.name}",
            cls.summary,
            f"Severity: {cls.severity}. Automatic fix: {'yes' if cls.fixable else 'no'}. Options: {cls._options()}.",
            f"{sub} What it does\n" + _para(cls.what),
            f"{sub} Why is this bad?\n" + _para(cls.why),
            f"{sub} Example\n```python\n" + _dedent(cls.example).strip("\n") + "\n```",
            f"{sub} Use instead\n```python\n" + _dedent(cls.use_instead).strip("\n") + "\n```",
            f"{sub} Fix safety\n" + _para(cls.fix_safety),
        ]
        if cls.references:
            sections.append(f"{sub} References\n" + "\n".join(f"- {ref}" for ref in cls.references))
        return "\n\n".join(sections) + "\n"

    @classmethod
    def _options(cls) -> str:
        if not cls.options:
            return "none"
        listed = ", ".join(f"`{name}` ({'list of strings' if kind is list else kind.__name__})"
                           for name, kind in cls.options.items())
        return f"{listed} under `[tool.edgelint.rules.{cls.code}]`"


def callers(op: Operation, depth: int) -> List[Related]:
    """The calls from the analysis root down to frame `depth` of `op`, as related locations."""
    return [Related("call", f"{caller}() calls {callee}()", place.module.path, place.node, caller, place.part)
            for caller, callee, place in call_path(op, depth)]


def _end(role: str, op: Operation) -> Related:
    owner = f" in {short_name(op.function.qualname)}()" if op.function is not None else ""
    return Related("end", f"{role}{owner}", op.module.path, op.node, part=op.part)


def _para(text: str) -> str:
    return _dedent(text).strip()


def _dedent(text: str) -> str:
    import textwrap  # documentation and examples only: not at the start-up of every lint run

    return textwrap.dedent(text)


# ---- message helpers shared by rules


def source_of(op: Operation, node: Optional[cst.CSTNode]) -> str:
    if node is None:
        return "?"
    text = op.module.tree.code_for_node(node).strip()
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def key_of(op: Operation) -> str:
    """The key as the message shows it: its value when known (through helpers), else its source."""
    if op.key is not None and op.key[0] == "lit" and isinstance(op.key[1], str):
        return _one_line(json.dumps(op.key[1], ensure_ascii=False))
    if op.key_value is not None and op.key_value.via:  # built by a caller: as the caller's values make it
        rendered = term_source(op.key_value.term)
        if rendered is not None and len(rendered) <= 60:
            return _one_line(rendered)
    node = op.key_node
    if isinstance(node, cst.Name) and op.key_origin is not None:
        return source_of(op, op.key_origin)  # what the variable or helper parameter was set from
    return source_of(op, node)


def term_source(term: Term, nested: bool = False) -> Optional[str]:
    """Python source for a term built of literals, parameters, env vars, attributes, subscripts,
    calls and f-strings (None when a part has no name: a variable of unknown origin)."""
    head = term[0]
    if head == "lit":
        return repr(term[1]) if nested or not isinstance(term[1], str) else json.dumps(term[1], ensure_ascii=False)
    if head == "param":
        return term[2]
    if head == "envvar":
        return f"env.{term[1]}"
    if head not in ("attr", "sub", "call", "fmt"):
        return None  # a variable of unknown origin, arithmetic, the clock, ...
    parts = [term_source(part, True) for part in _term_parts(term)]
    if None in parts:
        return None
    if head == "attr":
        return f"{parts[0]}.{term[2]}"
    if head == "sub":
        return f"{parts[0]}[{parts[1]}]"
    if head == "call" and term[1].startswith("."):
        return f"{parts[0]}{term[1]}({', '.join(parts[1:])})"
    if head == "call":
        return f"{term[1]}({', '.join(parts)})"
    if head == "fmt":
        text = "".join(str(part[1]).replace("{", "{{").replace("}", "}}") if part[0] == "lit" else f"{{{rendered}}}"
                       for part, rendered in zip(term[1], parts))
        return f'f"{text}"'
    return None


def _term_parts(term: Term) -> Tuple[Term, ...]:
    head = term[0]
    if head == "attr":
        return (term[1],)
    if head == "sub":
        return (term[1], term[2])
    if head == "call":
        return tuple(term[2])
    return tuple(term[1])  # fmt


def _one_line(text: str) -> str:
    """Non-ASCII letters as they are; anything that could break the one-line message escaped
    (json.dumps leaves U+2028 and other separators as they are)."""
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)


def shared_key(op: Operation) -> Optional[str]:
    """What a key every request shares is called in messages: "constant", or "per-day" (and so on)
    for a key built from the clock cut to a period; None for a key that varies by request."""
    if op.key is None or not is_constant(op.key):
        return None
    period = clock_period(op.key)
    return f"per-{period}" if period is not None and period != "second" else "constant"


def address_hint(op: Operation) -> str:
    """What a Durable Object replacing this key should be addressed by: the key's variable parts
    (a key every request shares has none: see `shared_key`)."""
    if op.key_value is not None and op.key_value.via:  # built by a caller: its variable parts
        term = op.key_value.term
        variable = [part for part in (term[1] if term[0] == "fmt" else (term,)) if not is_constant(part)]
        rendered = [term_source(part, True) for part in variable]
        if rendered and None not in rendered:
            return _one_line(", ".join(rendered))
    node = op.key_origin if isinstance(op.key_node, cst.Name) and op.key_origin is not None else op.key_node
    if isinstance(node, cst.FormattedString):
        parts = [source_of(op, part.expression) for part in node.parts if isinstance(part, cst.FormattedStringExpression)]
        if parts:
            return ", ".join(parts)
    if isinstance(node, (cst.Name, cst.Attribute, cst.Subscript, cst.Call)):
        return source_of(op, node)
    return "the natural unit of the data (user, room, tenant)"
