"""Shared test helpers: write a small project to disk and lint it through the engine."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Iterable, Set, Tuple

from edgelint.config import load_settings
from edgelint.discovery import DEFAULT_EXCLUDES, discover
from edgelint.engine import lint_files
from edgelint.rules import KNOWN_CODES, RULE_OPTIONS
from edgelint.rules.base import EXPECT_MARKER

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
Marker = Tuple[str, int, str]  # (relative path, line, code)


def write_project(root: Path, files: Dict[str, str]) -> None:
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def lint_directory(root: Path, use_filter: bool = True):
    settings = load_settings(root, KNOWN_CODES, RULE_OPTIONS)
    errors: list = []
    files = discover([str(root)], list(DEFAULT_EXCLUDES) + settings.exclude, settings.root, errors)
    result = lint_files(files, settings, root, use_filter=use_filter)
    assert not errors, errors
    return result


def found_markers(root: Path, findings: Iterable) -> Set[Marker]:
    return {(Path(os.path.relpath(f.path, root)).as_posix(), f.line, f.code) for f in findings}


def expected_markers(root: Path) -> Set[Marker]:
    expected: Set[Marker] = set()
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = EXPECT_MARKER.search(line)
            if match:
                for code in match.group(1).replace(",", " ").split():
                    expected.add((relative, number, code))
    return expected
