"""flake8 adapter: `flake8 --select EDG` reports what `edgelint check` reports for the same file.

flake8 hands us one file at a time; edgelint's rules need the project around it (helpers in other
modules, the wrangler config). The project is found from the file name, analysed once and cached
for the life of the flake8 process; only the file flake8 is checking is read from `lines` (so
unsaved editor buffers are linted as they are). flake8 applies `# noqa` itself.
"""
from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any, Dict, Iterator, List, Sequence, Tuple, Type

from edgelint import __version__
from edgelint.config import Settings, load_settings
from edgelint.engine import LintResult, lint_files, project_files_of
from edgelint.errors import ConfigError
from edgelint.noqa import file_is_ignored
from edgelint.rules import KNOWN_CODES, RULE_OPTIONS

_PROJECT_CACHE: Dict[Tuple[str, ...], LintResult] = {}
_FILES_CACHE: Dict[Tuple[str, str], Tuple[Path, List[str], Tuple[str, ...]]] = {}


class Plugin:
    name = "edgelint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str, lines: Sequence[str]):
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[Tuple[int, int, str, Type[Any]]]:
        text = "".join(self.lines)
        if file_is_ignored(text, include_flake8=False):
            return
        try:
            findings = lint_in_project(self.filename, text)
        except ConfigError as exc:
            yield 1, 0, f"EDG998 configuration error: {exc}", type(self)
            return
        for finding in findings:
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)


def lint_in_project(filename: str, text: str) -> List:
    """Findings for one file, analysed together with the project it belongs to."""
    target = os.path.abspath(filename)
    settings = load_settings(Path(target), KNOWN_CODES, RULE_OPTIONS)
    root, files, stamps = _project_of(os.path.dirname(target), settings)
    if target not in files:
        files = files + [target]
    on_disk = _read(target)
    key = (str(root), settings.fingerprint(), stamps)
    result = _PROJECT_CACHE.get(key) if on_disk == text else None
    if result is None:
        overrides = {} if on_disk == text else {target: text}
        result = lint_files(files, settings, root, overrides=overrides, apply_noqa=False)
        if not overrides:
            _PROJECT_CACHE[key] = result
    return [finding for finding in result.findings if os.path.abspath(finding.path) == target]


def _project_of(directory: str, settings: Settings) -> Tuple[Path, List[str], Tuple[str, ...]]:
    """A directory's project files and their stamps, looked up once per flake8 process (flake8
    checks the files of one run as they are on disk; without this each file re-walks the project)."""
    key = (directory, settings.fingerprint())
    found = _FILES_CACHE.get(key)
    if found is None:
        root, files = project_files_of(os.path.join(directory, "_"), settings)
        found = _FILES_CACHE[key] = (root, files, tuple(_stamp(path) for path in files))
    return found


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return ""


def _stamp(path: str) -> str:
    try:
        status = os.stat(path)
    except OSError:
        return path
    return f"{path}:{status.st_mtime_ns}:{status.st_size}"
