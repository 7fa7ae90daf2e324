"""What users see, pinned: text snapshots and the `messages`/`fixed` of rule examples.

With EDGELINT_UPDATE_SNAPSHOTS=1 the tests rewrite what they pin instead of failing: snapshot
files, and the `messages=`/`fixed=` arguments of the `Example(...)` calls in the rule modules
(only those arguments' text changes; review with `git diff`).
"""
from __future__ import annotations

import inspect
import os
import re
from pathlib import Path
from typing import List, Optional, Sequence, Type

import libcst as cst
from libcst.metadata import CodePosition, MetadataWrapper, PositionProvider

from edgelint.rules.base import Rule

UPDATE = os.environ.get("EDGELINT_UPDATE_SNAPSHOTS") == "1"
HOW_TO_UPDATE = "after a deliberate change, run EDGELINT_UPDATE_SNAPSHOTS=1 pytest tests/test_rule_examples.py"
WIDTH = 100  # characters of a message per source line
MAX_LINE = 120


def check_snapshot(path: Path, actual: str) -> None:
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="\n")
    expected = path.read_text(encoding="utf-8") if path.is_file() else None
    assert actual == expected, f"{path.name} differs from what edgelint prints; {HOW_TO_UPDATE}"


def pin_example(rule: Type[Rule], index: int, messages: Sequence[str], fixed: Optional[str]) -> None:
    """Write `messages` (and, for a fixable rule, `fixed`) into the source of `rule.invalid[index]`."""
    path = Path(inspect.getsourcefile(rule))
    values = {"messages": _tuple_source(messages)}
    if rule.fixable:
        values["fixed"] = "None" if fixed is None else _code_source(fixed)
    for keyword, value in values.items():  # one argument at a time: positions change
        text = path.read_text(encoding="utf-8")
        path.write_text(_with_argument(text, rule.__name__, index, keyword, value), encoding="utf-8")


def _with_argument(text: str, class_name: str, index: int, keyword: str, value: str) -> str:
    wrapper = MetadataWrapper(cst.parse_module(text))
    positions = wrapper.resolve(PositionProvider)
    call = _invalid_calls(wrapper.module, class_name)[index]
    starts = [0] + [match.end() for match in re.finditer("\n", text)]

    def offset(position: CodePosition) -> int:
        return starts[position.line - 1] + position.column

    def end(node: cst.BaseExpression) -> int:  # a node's position leaves its parentheses out
        return offset(positions[node.rpar[-1] if getattr(node, "rpar", None) else node].end)

    existing = [arg for arg in call.args if arg.keyword is not None and arg.keyword.value == keyword]
    if existing:
        start, stop, separator = offset(positions[existing[0]].start), end(existing[0].value), ""
    else:
        start = stop = end(call.args[-1].value)
        line = text[text.rfind("\n", 0, start) + 1:start]
        too_long = len(line) + len(keyword) + 5 > MAX_LINE
        separator = ",\n" + re.match(r"[ \t]*", line).group() + "    " if too_long else ", "
    before = text[:start] + separator
    pad = re.match(r"[ \t]*", before[before.rfind("\n") + 1:]).group()
    first, *rest = f"{keyword}={value}".split("\n")
    return "\n".join([before + first] + [pad + line if line else line for line in rest]) + text[stop:]


def _invalid_calls(module: cst.Module, class_name: str) -> List[cst.Call]:
    """The `Example(...)` calls of `invalid = (...)` in class `class_name`, in order."""
    for statement in module.body:
        if isinstance(statement, cst.ClassDef) and statement.name.value == class_name:
            for line in statement.body.body:
                assign = line.body[0] if isinstance(line, cst.SimpleStatementLine) else None
                if (isinstance(assign, cst.Assign) and isinstance(assign.value, cst.Tuple)
                        and any(isinstance(t.target, cst.Name) and t.target.value == "invalid" for t in assign.targets)):
                    calls = [element.value for element in assign.value.elements]
                    assert all(isinstance(call, cst.Call) for call in calls), f"{class_name}.invalid: not all Example(...)"
                    return calls
    raise AssertionError(f"no `invalid = (Example(...), ...)` in class {class_name}")


def _tuple_source(messages: Sequence[str]) -> str:
    """A tuple of string literals, each message wrapped at spaces over lines (relative indent)."""
    lines = ["("]
    for message in messages:
        chunks = _chunks(message)
        lines += [f"    {_literal(chunk)}" for chunk in chunks[:-1]] + [f"    {_literal(chunks[-1])},"]
    return "\n".join(lines + [")"])


def _chunks(message: str) -> List[str]:
    chunks = [""]
    for word in re.findall(r"\S+\s*|\s+", message) or [""]:
        if chunks[-1] and len(chunks[-1]) + len(word) > WIDTH:
            chunks.append("")
        chunks[-1] += word
    return chunks


def _literal(text: str) -> str:
    """A string literal, in double quotes unless the text has some."""
    literal = repr(text)
    return literal if '"' in text else f'"{literal[1:-1]}"'


def _code_source(code: str) -> str:
    """A triple-quoted literal laid out like an example's code (dedented when read)."""
    escaped = code.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    body = "\n".join(f"    {line}" if line.strip() else "" for line in escaped.strip("\n").splitlines())
    return f'"""\n{body}\n"""'
