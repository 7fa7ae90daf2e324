"""`--add-noqa`: suppress every current finding with a `# noqa: EDGnnn` comment.

flake8 searches `# noqa` in the lines that a multi-line string or a backslash joins and uses only
the first match, so all codes for such a range go into one comment: merged into an existing
`# noqa: X` comment (the user's codes and formatting kept), otherwise appended to the reported
line, or to the range's last line when the reported line ends inside a string or with a backslash.
Only comments change (checked on the tokens before writing); files keep their encoding and line
endings and are replaced atomically. Findings that could not be suppressed are handed back.
"""
from __future__ import annotations

import io
import re
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple

from edgelint.atomic import write_atomic
from edgelint.findings import Finding
from edgelint.noqa import NOQA_INLINE, NoqaIndex, codes_on_line
from edgelint.rules import ENGINE_CODES

Span = Tuple[int, int]  # first and last physical line that flake8 searches together for `# noqa`
SEPARATOR = re.compile(r"[A-Z]+[0-9]+([,\s]+)[A-Z]", re.IGNORECASE)


@dataclass
class AddNoqaResult:
    added: int = 0  # (line, code) suppressions added
    files: int = 0  # files changed
    remaining: List[Finding] = field(default_factory=list)  # findings that could not be suppressed


def add_noqa(findings: Sequence[Finding]) -> AddNoqaResult:
    """Add suppressions for `findings` to their files. Syntax and internal errors are never suppressed."""
    result = AddNoqaResult()
    by_path: Dict[str, List[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.code in ENGINE_CODES:
            result.remaining.append(finding)
        else:
            by_path[finding.path].append(finding)
    for path, file_findings in by_path.items():
        added = _add_to_file(path, file_findings, result.remaining)
        if added:
            result.added += added
            result.files += 1
    return result


def _add_to_file(path: str, findings: List[Finding], remaining: List[Finding]) -> int:
    rewritten = _rewrite(path, {(f.line, f.code) for f in findings})
    if rewritten is None:
        remaining.extend(findings)
        return 0
    new_text, added = rewritten
    check = NoqaIndex(new_text)
    remaining.extend(f for f in findings if not check.suppresses(f.line, f.code))
    return added


def _rewrite(path: str, wanted: Set[Tuple[int, str]]) -> Optional[Tuple[str, int]]:
    """Add the suppressions to the file; None when nothing could be added."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)  # "utf-8-sig" keeps the BOM out of the text and puts it back on encode
        new_text, added = insert_noqa(text, wanted)
        # A guard, not a branch we expect: whatever happens, only comments may change.
        if not added or _code_tokens(new_text) != _code_tokens(text):
            return None
        write_atomic(path, new_text.encode(encoding))
    except (OSError, SyntaxError, UnicodeError, LookupError):
        return None
    return new_text, added


def insert_noqa(text: str, wanted: Set[Tuple[int, str]]) -> Tuple[str, int]:
    """`text` with `# noqa` codes for each (line, code) in `wanted`, and how many were added."""
    lines = io.StringIO(text, newline="").readlines()  # line endings kept as they are
    tokens = _tokens(text)
    if tokens is None:
        return text, 0
    index = NoqaIndex(text)
    groups: Dict[Span, Dict[int, Set[str]]] = defaultdict(lambda: defaultdict(set))
    for line, code in wanted:
        groups[index.noqa_range(line)][line].add(code)
    added = 0
    for span, codes_by_line in groups.items():
        added += _suppress(lines, tokens, span, codes_by_line)
    return "".join(lines), added


def _suppress(lines: List[str], tokens: List[tokenize.TokenInfo], span: Span,
              codes_by_line: Dict[int, Set[str]]) -> int:
    codes = set().union(*codes_by_line.values())
    existing = _first_noqa(lines, span)
    if existing is not None:
        return _merge(lines, tokens, existing, codes)
    target = next((n for n in sorted(codes_by_line) if _commentable(lines, tokens, n)), span[1])
    if not 0 < target <= len(lines):
        return 0
    content, ending = _split_ending(lines[target - 1])
    lines[target - 1] = content.rstrip(" \t") + f"  # noqa: {', '.join(sorted(codes))}" + ending
    return len(codes)


def _first_noqa(lines: List[str], span: Span) -> Optional[int]:
    """The physical line holding the `# noqa` flake8 reads for this range."""
    for number in range(span[0], span[1] + 1):
        if 0 < number <= len(lines) and NOQA_INLINE.search(lines[number - 1]):
            return number
    return None


def _merge(lines: List[str], tokens: List[tokenize.TokenInfo], number: int, codes: Set[str]) -> int:
    line = lines[number - 1]
    match = NOQA_INLINE.search(line)
    present = tuple(codes_on_line(line))
    # Same test as NoqaIndex.suppresses (and flake8): exact codes or prefixes, case-sensitive.
    missing = sorted(code for code in codes if not code.startswith(present))
    # A bare `# noqa` suppresses everything; a match inside a string literal is not ours to edit.
    if not present or not missing or not _in_comment(tokens, number, match.start()):
        return 0
    codes_text = match.group("codes")
    separator = _separator(codes_text)
    insert_at = match.start("codes") + len(codes_text.rstrip(", \t\r\n"))
    lines[number - 1] = line[:insert_at] + separator + separator.join(missing) + line[insert_at:]
    return len(missing)


def _separator(codes_text: str) -> str:
    """The separator the user put between codes (", " when there is only one code)."""
    between = SEPARATOR.search(codes_text)
    return between.group(1) if between else ", "


def _commentable(lines: List[str], tokens: List[tokenize.TokenInfo], number: int) -> bool:
    """Whether a comment can be appended to physical line `number` without changing the code."""
    if not 0 < number <= len(lines):
        return False
    if any(t.start[0] <= number < t.end[0] for t in tokens):
        return False  # the line ends inside a multi-line string
    content, _ = _split_ending(lines[number - 1])
    has_comment = any(t.type == tokenize.COMMENT and t.start[0] == number for t in tokens)
    return has_comment or not content.endswith("\\")


def _in_comment(tokens: List[tokenize.TokenInfo], number: int, column: int) -> bool:
    return any(t.type == tokenize.COMMENT and t.start[0] == number and t.start[1] <= column for t in tokens)


def _split_ending(line: str) -> Tuple[str, str]:
    content = line.rstrip("\r\n")
    return content, line[len(content):]


def _tokens(text: str) -> Optional[List[tokenize.TokenInfo]]:
    try:
        return list(tokenize.generate_tokens(io.StringIO(text, newline="").readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None


def _code_tokens(text: str) -> Optional[List[Tuple[int, str]]]:
    """Every token but comments: equal before and after means only comments changed."""
    tokens = _tokens(text)
    if tokens is None:
        return None
    return [(t.type, t.string) for t in tokens if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE)]
