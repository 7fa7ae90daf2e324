"""Automatic fixes: which calls can take one, the edits a finding carries, and applying them to files.

A rule marks a Report with the kind of fix (`fix_edit`); the engine turns it into a `Fix` whose
edits sit at real source positions (the same ones every reporter shows). `edgelint check --fix`
applies those edits to the decoded text, re-parses the result, and replaces the file atomically in
its original encoding; `--diff` shows the same change as a unified diff.
"""
from __future__ import annotations

import os
import re
import tokenize
from dataclasses import dataclass
from io import BytesIO
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

import libcst as cst

from edgelint.atomic import write_atomic
from edgelint.findings import Edit, Finding, Fix
from edgelint.positions import children, is_scope
from edgelint.textio import NEWLINE, content_digest, line_starts

INSERT_AWAIT = "insert-await"
SAFE = "safe"  # fixes marked "unsafe" apply only with --unsafe-fixes

# ---------------------------------------------------------------------------- which calls can be fixed


def awaitable_statement_calls(tree: cst.Module) -> Set[int]:
    """ids of the Call nodes in `tree` that `await ` can be put in front of: calls that form a whole
    expression statement directly inside an `async def`. The innermost scope decides: `await` in a
    nested sync def, a lambda or a class body does not compile."""
    calls: Set[int] = set()
    stack: List[Tuple[cst.CSTNode, Optional[cst.CSTNode]]] = [(tree, None)]
    while stack:
        node, scope = stack.pop()
        if (isinstance(node, cst.Expr) and isinstance(node.value, cst.Call) and isinstance(scope, cst.FunctionDef)
                and scope.asynchronous):
            calls.add(id(node.value))
        inner = node if is_scope(node) else scope
        stack.extend((child, inner) for child in children(node))
    return calls


# ---------------------------------------------------------------------------- fixes on findings


def _insert_await(line: int, column: int) -> Fix:
    return Fix("Insert `await`", SAFE, (Edit(line, column, line, column, "await "),))


FIX_BUILDERS: Dict[str, Callable[[int, int], Fix]] = {INSERT_AWAIT: _insert_await}


def fix_for(kind: Optional[str], tree: cst.Module, source: str, node: cst.CSTNode, line: int,
            column: int) -> Optional[Fix]:
    """The Fix of kind `kind` for `node`, which starts at 1-based (`line`, `column`) of `source`.

    No fix when the node's code is not found exactly there: a wrong position would put the edit
    somewhere else (inside a string, say) and still leave valid code behind.
    """
    if kind is None:
        return None
    bare = node.with_changes(lpar=[], rpar=[]) if getattr(node, "lpar", None) else node
    first_line = NEWLINE.split(tree.code_for_node(bare), 1)[0]
    starts = line_starts(source)
    try:
        offset = _offset(source, starts, line, column)
    except ValueError:
        return None
    return FIX_BUILDERS[kind](line, column) if source.startswith(first_line, offset) else None


# ---------------------------------------------------------------------------- applying edits to text


def _offset(text: str, starts: Sequence[int], line: int, column: int) -> int:
    if not 0 < line <= len(starts):
        raise ValueError(f"edit line {line} outside the file")
    end = starts[line] if line < len(starts) else len(text)
    length = len(NEWLINE.sub("", text[starts[line - 1]:end]))
    if not 0 < column <= length + 1:
        raise ValueError(f"edit column {column} outside line {line}")
    return starts[line - 1] + column - 1


def edit_spans(text: str, edits: Iterable[Edit]) -> List[Tuple[int, int, str]]:
    """(start, end, content) character offsets of `edits` in `text`."""
    starts = line_starts(text)
    spans = []
    for edit in edits:
        start = _offset(text, starts, edit.line, edit.column)
        end = _offset(text, starts, edit.end_line, edit.end_column)
        if end < start:
            raise ValueError(f"edit ends before it starts at {edit.line}:{edit.column}")
        spans.append((start, end, edit.content))
    return spans


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """`text` with non-overlapping `edits` applied; everything outside their spans is kept as is."""
    pieces: List[str] = []
    position = 0
    for start, end, content in sorted(edit_spans(text, edits), key=lambda span: span[:2]):
        if start < position:
            raise ValueError("overlapping edits")
        pieces.extend((text[position:start], content))
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _compatible(fixes: Iterable[Fix], text: str) -> List[Fix]:
    """The fixes that do not overlap an earlier one (ruff's rule: first come, rest wait for a re-run)."""
    taken: List[Tuple[int, int]] = []
    chosen: List[Fix] = []
    for fix in fixes:
        spans = [(start, end) for start, end, _ in edit_spans(text, fix.edits)]
        if any((start < other_end and other_start < end) or start == other_start
               for start, end in spans for other_start, other_end in taken):
            continue
        taken.extend(spans)
        chosen.append(fix)
    return chosen


# ---------------------------------------------------------------------------- planning and writing


@dataclass
class FileFix:
    """The fixes planned for one file: its text before and after them."""

    path: str
    before: str  # decoded text, as linted
    after: str
    fixed: int  # findings whose fix is applied


def plan_fixes(findings: Sequence[Finding], texts: Mapping[str, Optional[str]],
               unsafe: bool) -> Tuple[List[FileFix], List[str]]:
    """What `--fix` would change in each file, and the files it refuses to change (with why)."""
    by_path: Dict[str, List[Fix]] = {}
    for finding in sorted(findings, key=lambda f: f.sort_key):
        if finding.fix is not None and finding.fix.applies(unsafe):
            by_path.setdefault(finding.path, []).append(finding.fix)
    planned: List[FileFix] = []
    problems: List[str] = []
    for path, fixes in by_path.items():
        before = texts.get(path)
        if before is None:
            continue
        try:
            chosen = _compatible(fixes, before)
            after = apply_edits(before, (edit for fix in chosen for edit in fix.edits))
            _check_result(path, before, after)
        except (ValueError, SyntaxError, RecursionError, cst.ParserSyntaxError) as exc:
            reason = (str(exc).splitlines() or [type(exc).__name__])[0]
            problems.append(f"{path}: fix not applied, the result would not be valid: {reason}")
            continue
        if after != before:
            planned.append(FileFix(path, before, after, len(chosen)))
    return planned, problems


def _check_result(path: str, before: str, after: str) -> None:
    """Never write code that does not parse (libcst), nor code that no longer compiles (e.g. a
    misplaced `await`) when the original did."""
    cst.parse_module(after)
    try:
        compile(before, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError):
        return
    compile(after, path, "exec", dont_inherit=True)


def encode_like(text: str, data: bytes) -> bytes:
    """`text` in the encoding `data` was read with (BOM and coding cookie included)."""
    encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
    return text.encode(encoding)


def write_fix(file_fix: FileFix, digest: str) -> Optional[str]:
    """Replace the file with the fixed text; a problem description when it must not be touched.
    `digest` is the content digest of the bytes that were linted."""
    target = os.path.realpath(file_fix.path)  # through a symlink, not over it
    try:
        data = _read(target)
        if content_digest(data) != digest:
            return f"{file_fix.path}: changed on disk while linting; fix not applied"
        if encode_like(file_fix.before, data) != data:
            return f"{file_fix.path}: its bytes cannot be written back exactly in their encoding; fix not applied"
        write_atomic(target, encode_like(file_fix.after, data))
    except (OSError, UnicodeError, SyntaxError) as exc:
        return f"{file_fix.path}: fix not written: {exc}"
    return None


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def render_diff(file_fixes: Iterable[FileFix]) -> str:
    """A unified diff of every planned change, as `patch -p0` and code review tools read it."""
    import difflib  # --diff only: not at the start-up of every lint run

    chunks: List[str] = []
    for file_fix in file_fixes:
        lines = difflib.unified_diff(_diff_lines(file_fix.before), _diff_lines(file_fix.after),
                                     fromfile=file_fix.path, tofile=file_fix.path)
        chunks.extend(lines)
    return "".join(chunks)


def _diff_lines(text: str) -> List[str]:
    lines = [match.group(0) for match in re.finditer(r".*?(?:\r\n|\r|\n)|.+$", text, re.DOTALL) if match.group(0)]
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines
