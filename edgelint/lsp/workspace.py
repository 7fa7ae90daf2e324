"""What the language server lints: the project of each changed file, with the editor's open
buffers laid over the files on disk. Pure engine calls, no protocol: the server runs them on a
worker thread and turns the results into diagnostics.

Each workspace folder is linted as `edgelint check` run in it would lint it (its files, settings
per file, the folder as the root of files no wrangler config governs); a file outside every
folder is linted with the project around it, as the flake8 plugin does.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

from edgelint.cache import Stats, stat_of, unchanged
from edgelint.config import CONFIG_FILES, Resolver
from edgelint.discovery import discover
from edgelint.errors import Cancelled, ConfigError
from edgelint.linting import AnalysisMemories, lint_files
from edgelint.findings import Finding
from edgelint.projects import group_projects, load_source, project_files_of, walked_directories
from edgelint.rules import KNOWN_CODES, RULE_OPTIONS
from edgelint.wrangler import WRANGLER_FILES, forget_configs

SETTINGS_FILES = frozenset((*CONFIG_FILES, *WRANGLER_FILES))


@dataclass
class FileResult:
    """One file of a linted project: its findings and, when it has some, its text as linted."""

    path: str
    findings: List[Finding]
    text: Optional[str]


@dataclass
class Outcome:
    """A lint of the projects of some changed files: every file of those projects, the problems (a
    file that cannot be read) to log, and the configuration errors to show."""

    files: Dict[str, FileResult]
    problems: List[str]
    config_errors: List[str] = field(default_factory=list)  # one line each, naming the file: for the user


def is_settings_file(path: str) -> bool:
    """Whether a change to `path` can change settings or bindings (edgelint's or wrangler's config)."""
    return os.path.basename(path) in SETTINGS_FILES


class Workspace:
    """The folders the editor opened and the settings that govern their files."""

    def __init__(self, folders: Iterable[str] = ()):
        self.folders: List[str] = sorted({os.path.abspath(folder) for folder in folders})
        self.resolver = Resolver(KNOWN_CODES, RULE_OPTIONS)
        self.memories = AnalysisMemories()
        # folder -> the records (edgelint.cache.Stats) of the directories walked to find its files, and them
        self._discovered: Dict[str, Tuple[List[List[Any]], List[str]]] = {}

    def reload_settings(self) -> None:
        """Forget every configuration read: edgelint's settings and wrangler's bindings and files
        (the engine keeps them for the life of a process)."""
        self.resolver = Resolver(KNOWN_CODES, RULE_OPTIONS)
        self.memories.clear()
        self._discovered.clear()
        forget_configs()

    def folder_of(self, path: str) -> Optional[str]:
        """The innermost workspace folder holding `path` (None: outside every folder)."""
        holding = [folder for folder in self.folders if path == folder or path.startswith(folder + os.sep)]
        return max(holding, key=len) if holding else None

    def lint(self, changed: Iterable[str], buffers: Mapping[str, str],
             stop: Optional[Callable[[], bool]] = None) -> Outcome:
        """Lint the project of each changed Python file once, with `buffers` (path -> unsaved text)
        over the files on disk. `stop()` true (a newer edit) ends it with errors.Cancelled."""
        outcome = Outcome({}, [])
        for path in sorted(set(changed)):
            if path in outcome.files or not path.endswith(".py"):
                continue
            try:
                self._lint_project_of(path, buffers, outcome, stop)
            except Cancelled:
                raise
            except ConfigError as exc:  # the user's to mend: shown, and the server goes on
                if str(exc) not in outcome.config_errors:
                    outcome.config_errors.append(str(exc))
            except Exception as exc:  # noqa: BLE001 - a bug: logged, the server goes on
                outcome.problems.append(f"{path}: {type(exc).__name__}: {exc}")
        return outcome

    def _lint_project_of(self, path: str, buffers: Mapping[str, str], outcome: Outcome,
                         stop: Optional[Callable[[], bool]]) -> None:
        folder = self.folder_of(path)
        if folder is None:
            root, files = project_files_of(path, self.resolver)
        else:
            root, files = Path(folder), self._files_of(folder)
        if path not in files:
            files.append(path)  # an open file the configuration excludes is still the user's to see
        group = next(group for group in group_projects(files, self.resolver, root) if path in group.sources)
        paths = list(group.sources)
        if path not in buffers and not os.path.isfile(path):  # deleted: its project without it
            paths.remove(path)
            outcome.files[path] = FileResult(path, [], None)
        overrides = {file: text for file, text in buffers.items() if file in group.sources}
        # Each analysis starts from what the last one in this process left (the first from what the
        # disk cache holds); nothing is written to the disk cache, which holds files as saved.
        result = lint_files(paths, self.resolver, root, overrides=overrides, memories=self.memories, stop=stop)
        result.raise_config_error()
        outcome.problems.extend(result.errors)
        by_path: Dict[str, List[Finding]] = {file: [] for file in group.sources}
        for finding in result.findings:
            by_path.setdefault(finding.path, []).append(finding)
        for file, findings in by_path.items():
            outcome.files[file] = FileResult(file, findings, _text(result.sources, file) if findings else None)


    def _files_of(self, folder: str) -> List[str]:
        """The folder's files as `edgelint check` finds them; walked again only when a directory
        it walked changed (a file added, removed or renamed changes its directory's mtime)."""
        known = self._discovered.get(folder)
        if known is not None and all(unchanged(record, stat_of(record[0])) for record in known[0]):
            return list(known[1])
        stats = Stats()
        walked = walked_directories(Path(folder), self.resolver)
        records = [stats.record(directory) for directory in walked or ()]  # before the files are found
        files = [os.path.abspath(found) for found in discover([folder], self.resolver, [])]
        if walked is not None:
            self._discovered[folder] = (records, files)
        return list(files)


def _text(sources: Mapping, path: str) -> Optional[str]:
    source = sources.get(path)
    if source is None:
        return None
    load_source(source)
    return source.text
