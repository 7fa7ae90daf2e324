"""Findings in the Language Server Protocol's terms: ranges in the client's position units,
diagnostics, text edits."""
from __future__ import annotations

from typing import Callable, Dict, Iterable, List, Optional

from lsprotocol import types
from pygls.uris import from_fs_path
from pygls.workspace import PositionCodec

from edgelint.findings import Edit, Finding
from edgelint.rules import DOCUMENTED
from edgelint.textio import NEWLINE

SOURCE = "edgelint"
FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.edgelint"
SEVERITIES = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
              "info": types.DiagnosticSeverity.Information}


def uri_of(path: str) -> str:
    return from_fs_path(path) or path


class Positions:
    """Converts edgelint's positions (1-based lines, 1-based columns counted in characters) to
    the client's (0-based, in the position encoding negotiated at initialize), reading each
    file's lines once through `text_of`."""

    def __init__(self, codec: PositionCodec, text_of: Callable[[str], Optional[str]]):
        self.codec = codec
        self.text_of = text_of
        self._lines: Dict[str, List[str]] = {}

    def lines(self, path: str) -> List[str]:
        if path not in self._lines:
            self._lines[path] = NEWLINE.split(self.text_of(path) or "")
        return self._lines[path]

    def position(self, path: str, line: int, column: int) -> types.Position:
        return self.codec.position_to_client_units(self.lines(path), types.Position(line - 1, column - 1))

    def range(self, path: str, line: int, column: int, end_line: int, end_column: int) -> types.Range:
        return types.Range(self.position(path, line, column), self.position(path, end_line, end_column))

    def characters(self, path: str, client_range: types.Range) -> types.Range:
        """A client's range in characters (0-based), as the findings count them."""
        server_range = self.codec.range_from_client_units(self.lines(path), client_range)
        return types.Range(types.Position(server_range.start.line, server_range.start.character),
                           types.Position(server_range.end.line, server_range.end.character))

    def whole(self, path: str) -> types.Range:
        lines = self.lines(path)
        return types.Range(types.Position(0, 0), self.position(path, len(lines), len(lines[-1]) + 1))


def diagnostic(finding: Finding, positions: Positions) -> types.Diagnostic:
    rule = DOCUMENTED.get(finding.code)
    url = rule.url() if rule is not None else None
    related = [types.DiagnosticRelatedInformation(
        types.Location(uri_of(place.path),
                       positions.range(place.path, place.line, place.column, place.end_line, place.end_column)),
        place.message) for place in finding.related]
    return types.Diagnostic(
        range=positions.range(finding.path, finding.line, finding.column, finding.end_line, finding.end_column),
        message=finding.message, severity=SEVERITIES.get(finding.severity, types.DiagnosticSeverity.Error),
        code=finding.code, code_description=types.CodeDescription(href=url) if url else None, source=SOURCE,
        related_information=related or None)


def text_edits(path: str, edits: Iterable[Edit], positions: Positions) -> List[types.TextEdit]:
    return [types.TextEdit(positions.range(path, edit.line, edit.column, edit.end_line, edit.end_column),
                           edit.content) for edit in edits]


def contains(finding: Finding, characters: types.Range) -> bool:
    """Whether a range in characters (0-based) meets the finding's span."""
    start = (finding.line - 1, finding.column - 1)
    end = (finding.end_line - 1, finding.end_column - 1)
    return (characters.start.line, characters.start.character) <= end and \
        start <= (characters.end.line, characters.end.character)
