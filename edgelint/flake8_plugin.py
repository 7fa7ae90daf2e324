"""flake8 adapter: `flake8 --select EDG` reports what `edgelint check` reports for the same file.

flake8 hands us one file at a time; edgelint's rules need the project around it (helpers in other
modules, the wrangler config). When the buffer flake8 passes is the file on disk, the answer comes
from edgelint's on-disk result cache, cheapest first:

1. a memo of what this plugin reported for the file's directory (edgelint.cache.Memo), valid while
   nothing it was derived from changed: the configuration files looked for, the directories of the
   project, its files and wrangler config. Checking it costs one `os.stat` per path and imports
   neither the configuration code, the parser nor the rules;
2. the project's entry, the one `edgelint check` reads and writes (same findings): the settings are
   loaded and the project's files listed, but nothing is parsed;
3. an analysis of the project, which writes the entry.

The last two write the memo. Past the memo, the work is handed to the resident edgelint
(edgelint.daemon), which has the imports and the last analysis at hand, when one listens. A buffer
that differs from the file (an unsaved editor buffer) is analysed with the project as it is, and
nothing is cached. Within one flake8 process, a project's
findings are also kept in memory for its other files. flake8 applies `# noqa` itself.

flake8's own selection (`--select`, `--ignore`, their `extend-` forms, `per-file-ignores`) comes
before edgelint's precedence, as edgelint's does: with `--extend-ignore EDG104`, the EDG101 that
EDG104 supersedes is reported. Memos and in-memory results are kept per selection.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Tuple, Type

from edgelint import __version__
from edgelint.cache import Memo, Stats, code_id, stat_of
from edgelint.errors import ConfigError
from edgelint.noqa import file_is_ignored
from edgelint.paths import absolute
from edgelint.registry import KNOWN_CODES, RULE_OPTIONS

if TYPE_CHECKING:
    from edgelint.config import Resolver
    from edgelint.findings import Finding
    from edgelint.projects import ProjectInput

Reported = Tuple[int, int, str]  # line, 0-based column, "CODE message"

# (root, selection) -> (key, findings): a project's findings while its key holds
_PROJECT_CACHE: Dict[Tuple[str, str], Tuple[Tuple[object, ...], List[Finding]]] = {}
_FILES_CACHE: Dict[Tuple[str, str], Tuple[Path, List[str], Tuple[Any, ...], Tuple[str, ...]]] = {}


class Plugin:
    name = "edgelint"
    version = __version__

    selection: Optional[Flake8Selection] = None  # set by parse_options

    def __init__(self, tree: ast.AST, filename: str, lines: Sequence[str]):
        self.filename = filename
        self.lines = lines

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        """flake8 hands every plugin its parsed options (in each worker process too)."""
        cls.selection = Flake8Selection(options)

    def run(self) -> Iterator[Tuple[int, int, str, Type[Any]]]:
        text = "".join(self.lines)
        if file_is_ignored(text, include_flake8=False):
            return
        try:
            reported = lint_for_flake8(self.filename, text, self.selection)
        except ConfigError as exc:
            yield 1, 0, f"EDG998 configuration error: {exc}", type(self)
            return
        for line, column, message in reported:
            yield line, column, message, type(self)


class Flake8Selection:
    """The codes flake8 itself drops for a file (its select/ignore options and per-file-ignores):
    dropped before precedence, so that they do not hide the codes they supersede."""

    OPTIONS = ("select", "extend_select", "ignore", "extend_ignore", "extended_default_select",
               "extended_default_ignore", "per_file_ignores")

    def __init__(self, options: Optional[argparse.Namespace]):  # None: outside flake8, nothing dropped
        self.options = options
        self.key = json.dumps(self.values()) if options else ""  # the same in the resident edgelint
        self._guides: Any = None

    def values(self) -> Optional[Dict[str, Any]]:
        """The options that make the selection (None outside flake8), as JSON can carry them."""
        return None if self.options is None else {name: getattr(self.options, name, None) for name in self.OPTIONS}

    def ignores(self, code: str, path: str) -> bool:
        if self.options is None:
            return False
        from flake8.style_guide import Decision, StyleGuideManager

        if self._guides is None:  # the formatter is only used to print, which this never does
            self._guides = StyleGuideManager(self.options, formatter=None)  # type: ignore[arg-type]
        guide = self._guides.style_guide_for(absolute(path))
        return guide.should_report_error(code) is Decision.Ignored


def lint_for_flake8(filename: str, text: str, selection: Optional[Flake8Selection] = None) -> List[Reported]:
    """`lint_in_project`, answered by the resident edgelint (edgelint.daemon) unless the memo
    answers: when none listens, linted here and one is started for the next run."""
    selection = selection or Flake8Selection(None)
    target = os.path.abspath(filename)
    on_disk = _read(target) == text
    memoized = _memoized(target, selection) if on_disk else None
    if memoized is not None:
        return memoized
    from edgelint import daemon

    address = daemon.address() if daemon.enabled() else None
    answer = daemon.ask(address, {"code": code_id(), "cwd": os.getcwd(), "path": target, "text": text,
                                  "options": selection.values()}) if address is not None else None
    if answer is not None and "config_error" in answer:
        raise ConfigError(*answer["config_error"])
    if answer is not None and "reported" in answer:
        return [(line, column, message) for line, column, message in answer["reported"]]
    reported = _lint(target, None if on_disk else text, selection)  # it was off, busy, stuck, failed or stale
    if address is not None and (answer is None or answer.get("stale")):  # none listens, or one that now leaves
        daemon.start(address)
    return reported


def lint_in_project(filename: str, text: str, selection: Optional[Flake8Selection] = None,
                    memo: bool = True) -> List[Reported]:
    """What flake8 reports for one file, analysed together with the project it belongs to (`memo`
    False: the caller found no memo that answers)."""
    selection = selection or Flake8Selection(None)
    target = os.path.abspath(filename)
    if _read(target) != text:  # an editor's unsaved buffer: linted as it is, not cached
        return _lint(target, text, selection)
    memoized = _memoized(target, selection) if memo else None
    return memoized if memoized is not None else _lint(target, None, selection)


def _memoized(target: str, selection: Flake8Selection) -> Optional[List[Reported]]:
    by_file = Memo(os.path.dirname(target), selection.key).load()
    if by_file is None or os.path.basename(target) not in by_file:
        return None
    return [(line, column, message) for line, column, message in by_file[os.path.basename(target)]]


def _lint(target: str, buffer: Any, selection: Flake8Selection) -> List[Reported]:
    """Load the settings, find the project, take its findings from the cache or analyse it; for a
    buffer that is the file on disk (`buffer` None), remember what is reported in its directory."""
    from edgelint.config import Resolver

    stats = Stats()  # before anything is read: what changes later is not trusted
    resolver = Resolver(KNOWN_CODES, RULE_OPTIONS)
    directory = os.path.dirname(target)
    root, group, stamps, configs = _group_of(target, resolver, stats)
    if buffer is not None:
        from edgelint.linting import lint_files

        result = lint_files(list(group.sources), resolver, root, overrides={target: buffer}, apply_noqa=False,
                            host_ignores=selection.ignores)
        result.raise_config_error()
        return [_reported(finding) for finding in result.findings if absolute(finding.path) == target]
    wrangler = tuple(stats.take(absolute(path)) for path in group.wrangler)
    key = (str(group.root), group.wrangler, wrangler, *((s.path, s.fingerprint()) for s in group.all_settings()),
           stamps, selection.key)
    kept = _PROJECT_CACHE.pop((str(group.root), selection.key), None)  # the latest only: a resident host edits on
    if kept is None or kept[0] != key:
        kept = (key, _project_findings(group, resolver, root, selection, stats))
    findings = kept[1]
    if all(map(stats.old_enough, (*stamps, *wrangler))):  # stats that a later write must change
        _PROJECT_CACHE[(str(group.root), selection.key)] = kept
    by_file: Dict[str, List[Reported]] = {os.path.basename(path): [] for path in group.sources
                                          if os.path.dirname(absolute(path)) == directory}
    for finding in findings:
        if os.path.dirname(absolute(finding.path)) == directory:
            by_file[os.path.basename(finding.path)].append(_reported(finding))
    _remember(target, resolver, root, group, by_file, stats, configs, selection)
    return by_file[os.path.basename(target)]


def _group_of(target: str, resolver: Resolver, stats: Stats) -> Tuple[Path, ProjectInput, Tuple[Any, ...],
                                                                      Tuple[str, ...]]:
    """The project root of a file, the project it belongs to, the stamps of its files and the
    configuration files looked for (`_project_of`)."""
    from edgelint.projects import group_projects

    root, files, stamps, configs = _project_of(os.path.dirname(target), resolver, stats)
    if target not in files:
        files = files + [target]
    group = next(group for group in group_projects(files, resolver, root) if target in group.sources)
    return root, group, stamps, configs


def prepare(filename: str) -> None:
    """Load what linting the file after an edit needs and a resident host keeps: its project's last
    analysis memory (edgelint.cache holds what it unpickled). The resident edgelint does this when
    it has been idle a moment after answering for the file: the next edit is then answered without
    unpickling the memory first."""
    from edgelint.config import Resolver
    from edgelint.projects import CachedProject

    _, group, _, _ = _group_of(os.path.abspath(filename), Resolver(KNOWN_CODES, RULE_OPTIONS), Stats())
    CachedProject(group, use_filter=True).analysis()


def _project_findings(group: ProjectInput, resolver: Resolver, root: Path, selection: Flake8Selection,
                      stats: Stats) -> List[Finding]:
    """A project's selected findings, from the result cache when nothing changed (then neither the
    parser nor the rules are imported), else from an analysis that updates the cache."""
    from edgelint.linting import lint_files

    result = lint_files(list(group.sources), resolver, root, apply_noqa=False, use_cache=True,
                        host_ignores=selection.ignores, stats=stats)
    result.raise_config_error()
    return result.findings


def _remember(target: str, resolver: Resolver, root: Path, group: ProjectInput, by_file: Dict[str, List[Reported]],
              stats: Stats, configs: Sequence[str], selection: Flake8Selection) -> None:
    """Write the directory's memo, witnessed by every path the answer was derived from: the
    configuration files looked for (edgelint's from every directory of the project up, wrangler's
    from the directory up to the one found), the directories of the project (a file added or
    removed), its files and wrangler config."""
    from edgelint.projects import walked_directories
    from edgelint.wrangler import WRANGLER_FILES, find_wrangler_config

    directory = Path(os.path.dirname(target))
    if group.root != directory.resolve() and group.root not in directory.resolve().parents:
        return  # a wrangler config elsewhere (`wrangler-config`): the memo would not be found
    directories = walked_directories(root, resolver)
    if directories is None:
        return
    witnesses = [*configs, *resolver.probed]
    if not resolver.settings_for(target).wrangler_config:
        witnesses += _probes(directory.resolve(), WRANGLER_FILES, find_wrangler_config(directory))
    witnesses += [*directories, *group.sources, *group.wrangler]
    Memo(str(directory), selection.key).store(group.root, by_file, [absolute(path) for path in witnesses], stats)


def _probes(start: Path, names: Sequence[str], found: Any) -> List[str]:
    """The candidate files a search upward from `start` looked at, up to the folder of the one `found`."""
    probes: List[str] = []
    stop = Path(found).parent if found else None
    for folder in [start, *start.parents]:
        probes.extend(str(folder / name) for name in names)
        if folder == stop:
            break
    return probes


def _project_of(directory: str, resolver: Resolver, stats: Stats) -> Tuple[Path, List[str], Tuple[Any, ...],
                                                                           Tuple[str, ...]]:
    """A directory's project files, their stamps and the configuration files looked for while
    walking it, walked once per process while neither the directories walked nor the
    configurations change (a long-running host sees edits; without this each file of one flake8
    run would re-walk the project). The files are stamped with `stats` (the cache's lookup and
    the memo take them of no file again)."""
    from edgelint.projects import project_files_of, walked_directories

    key = (directory, resolver.settings_for(os.path.join(directory, "_")).fingerprint())
    found = _FILES_CACHE.get(key)
    if found is not None:
        root, files, folders, configs = found
        if all(stat_of(path) == path_stamp for path, path_stamp in zip(folders[::2], folders[1::2])):
            # No directory listing and no configuration changed: the same files (an edit in place
            # changes a file's stats alone; a file added, removed or renamed changes its directory's).
            return root, files, tuple(stats.take(absolute(path)) for path in files), configs
    root, files = project_files_of(os.path.join(directory, "_"), resolver)
    stamps = tuple(stats.take(absolute(path)) for path in files)
    configs = tuple(sorted(resolver.probed))
    walked = walked_directories(root, resolver) or [""]  # "": a symbolic link walked, never trusted again
    folders = tuple(part for folder in [*walked, *configs] for part in (folder, stat_of(folder) if folder else "?"))
    if all(stamp != "?" and stats.old_enough(stamp) for stamp in folders[1::2]):  # stats a later change must change
        _FILES_CACHE[key] = (root, files, folders, configs)
    else:
        _FILES_CACHE.pop(key, None)
    return root, files, stamps, configs


def _reported(finding: Finding) -> Reported:
    return finding.line, finding.column - 1, f"{finding.code} {finding.message}"


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return ""
