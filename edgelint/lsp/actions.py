"""Code actions and hover for the findings of one file, as last linted: a finding's safe fix,
`# noqa: CODE` on its line (merged as `--add-noqa` merges), every safe fix at once
(`source.fixAll.edgelint`), and the rule's documentation."""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from lsprotocol import types

from edgelint.add_noqa import insert_noqa
from edgelint.findings import Finding
from edgelint.fixes import SAFE, plan_fixes
from edgelint.lsp.protocol import FIX_ALL_KIND, Positions, contains, diagnostic, text_edits, uri_of
from edgelint.rules import DOCUMENTED, ENGINE_CODES


@dataclass
class LintedFile:
    """A file's findings and the text (and editor version) they were found in."""

    path: str
    text: str
    version: Optional[int]
    findings: List[Finding]


def code_actions(linted: LintedFile, client_range: types.Range, only: Optional[Sequence[str]],
                 positions: Positions) -> List[types.CodeAction]:
    actions: List[types.CodeAction] = []
    if _wanted(types.CodeActionKind.QuickFix, only):
        characters = positions.characters(linted.path, client_range)
        for finding in linted.findings:
            if contains(finding, characters):
                actions.extend(_quick_fixes(linted, finding, positions))
    if _wanted(FIX_ALL_KIND, only):
        actions.extend(_fix_all(linted, positions))
    return actions


def _wanted(kind: str, only: Optional[Sequence[str]]) -> bool:
    """Whether the client asked for actions of `kind` (a kind covers its dotted sub-kinds)."""
    return not only or any(kind == wanted or kind.startswith(f"{wanted}.") for wanted in only)


def _quick_fixes(linted: LintedFile, finding: Finding, positions: Positions) -> List[types.CodeAction]:
    found = [diagnostic(finding, positions)]
    actions = []
    if finding.fix is not None and finding.fix.applicability == SAFE:
        actions.append(types.CodeAction(
            f"{finding.fix.message} ({finding.code})", kind=types.CodeActionKind.QuickFix, diagnostics=found,
            is_preferred=True, edit=_edit(linted, text_edits(linted.path, finding.fix.edits, positions))))
    if finding.code not in ENGINE_CODES:
        edits = _noqa_edits(linted, finding, positions)
        if edits:
            actions.append(types.CodeAction(f"Suppress {finding.code} on this line (# noqa)",
                                            kind=types.CodeActionKind.QuickFix, diagnostics=found,
                                            edit=_edit(linted, edits)))
    return actions


def _noqa_edits(linted: LintedFile, finding: Finding, positions: Positions) -> List[types.TextEdit]:
    """The lines `--add-noqa` would change for this finding, each replaced whole (line ends kept)."""
    before = _lines(linted.text)
    after = _lines(insert_noqa(linted.text, {(finding.line, finding.code)})[0])
    return [types.TextEdit(positions.range(linted.path, number, 1, number, len(_content(old)) + 1), _content(new))
            for number, (old, new) in enumerate(zip(before, after), start=1) if old != new]


def _fix_all(linted: LintedFile, positions: Positions) -> List[types.CodeAction]:
    planned, _ = plan_fixes(linted.findings, {linted.path: linted.text}, unsafe=False)
    if not planned:
        return []
    edit = types.TextEdit(positions.whole(linted.path), planned[0].after)
    return [types.CodeAction("Fix all edgelint problems", kind=FIX_ALL_KIND, edit=_edit(linted, [edit]))]


def _edit(linted: LintedFile, edits: List[types.TextEdit]) -> types.WorkspaceEdit:
    if linted.version is None:
        return types.WorkspaceEdit(changes={uri_of(linted.path): edits})
    document = types.OptionalVersionedTextDocumentIdentifier(uri_of(linted.path), linted.version)
    return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(document, edits)])


def hover(linted: LintedFile, client_position: types.Position, positions: Positions) -> Optional[types.Hover]:
    """The documentation of the rules whose findings cover the position, as Markdown."""
    characters = positions.characters(linted.path, types.Range(client_position, client_position))
    documented: Dict[str, str] = {}
    for finding in linted.findings:
        rule = DOCUMENTED.get(finding.code)
        if rule is not None and contains(finding, characters):
            documented.setdefault(finding.code, rule.documentation())
    if not documented:
        return None
    return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, "\n---\n\n".join(documented.values())))


def _lines(text: str) -> List[str]:
    return io.StringIO(text, newline="").readlines()  # line ends kept, as insert_noqa keeps them


def _content(line: str) -> str:
    return line.rstrip("\r\n")
