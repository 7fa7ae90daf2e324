"""Files -> projects: which files are analysed together, their texts, and a project's cached findings.

The part of the engine that a run answered from the cache needs: it imports no parser, model or
rule, so that the CLI's cache path and the flake8 plugin's stay cheap (`engine` imports the rest
when a project has to be analysed).
"""
from __future__ import annotations

import gc
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Set,
                    Tuple, Union)

from edgelint.cache import FileState, Slot, Stats
from edgelint.findings import Finding, Subject
from edgelint.noqa import NoqaIndex, file_is_ignored
from edgelint.paths import absolute
from edgelint.textio import FileText, StoredText, compact, content_digest, expand, read_text, text_of
from edgelint.wrangler import find_wrangler_config, load_bindings

if TYPE_CHECKING:
    from edgelint.config import Settings
    from edgelint.discovery import Governing
    from edgelint.model.bindings import BindingTable
    from edgelint.tree_bytes import TreeStore


@dataclass
class Source:
    """One file's text, or why it has none."""

    path: str
    stored: Optional[StoredText] = None  # the text, kept for the whole run: see textio.compact
    error: Optional[str] = None
    digest: str = ""  # of the bytes read (textio.content_digest); the bytes themselves are not kept
    error_at: Optional[Sequence[int]] = None  # where bytes read fail to decode: see textio.FileText
    skipped: Optional[bool] = None  # whether the relevance filter kept it from the analysis (None: not known)
    recorded: Optional[FileState] = None  # what the result cache recorded of the file (see `known_state`)
    # Not read: its stats are those the cache recorded with `recorded`, whose digest it has (an
    # analysis that replays most of a project reads only the files it analyses again).
    trusted: bool = False

    @property
    def text(self) -> Optional[str]:
        return None if self.stored is None else expand(self.stored)

    @property
    def loaded(self) -> bool:
        return self.stored is not None or self.error is not None

    def state(self) -> FileState:
        """What the cache knows the file by."""
        known = self.known_state()
        noqa = known.noqa if known is not None else self.stored is not None and _mentions_noqa(self.stored)
        return FileState(self.digest, self.error, noqa, self.error_at, self.skipped)

    def known_state(self) -> Optional[FileState]:
        """What the result cache recorded of this very content (same digest) under the same
        settings and bindings, once the file is read: whether it mentions noqa, and whether the
        relevance filter skipped it (None: not recorded, or another content)."""
        recorded = self.recorded
        if recorded is None or not (self.loaded or self.trusted) or (
                (recorded.digest, recorded.error) != (self.digest, self.error)):
            return None
        return recorded


def read_source(path: str) -> Source:
    return _source(path, read_text(path))


def source_of(path: str, content: Union[str, bytes]) -> Source:
    """A file's source from what a run already has: a text (an editor's buffer, a fixed text) or
    bytes (stdin), decoded as a file is."""
    if isinstance(content, bytes):
        return _source(path, text_of(content))
    return Source(path, compact(content), digest=content_digest(content.encode("utf-8", "surrogatepass")))


def _source(path: str, found: FileText) -> Source:
    return Source(path, None if found.text is None else compact(found.text), found.error, found.digest, found.error_at)


def load_source(source: Source) -> None:
    """Read a file's text (or the reason it has none) into `source`, once."""
    if not source.loaded:
        loaded = read_source(source.path)
        source.stored, source.error, source.digest, source.error_at = (loaded.stored, loaded.error, loaded.digest,
                                                                       loaded.error_at)


@dataclass
class ProjectInput:
    """Files that share one wrangler config (or none), analysed together. `settings` are those
    that govern the project's root (the directory of its wrangler config): its bindings, rule
    options and admin markers; `governed` holds the settings of each file (selection, severity),
    which may differ from file to file."""

    root: Path
    wrangler: Tuple[str, ...]
    settings: Settings
    sources: Dict[str, Source] = field(default_factory=dict)
    governed: Dict[str, Settings] = field(default_factory=dict)

    def add(self, path: str, settings: Settings) -> None:
        self.sources[path] = Source(path)
        self.governed[path] = settings

    def all_settings(self) -> List[Settings]:
        """The distinct settings of the project and its files, in a stable order."""
        distinct = {id(self.settings): self.settings}
        distinct.update((id(settings), settings) for settings in self.governed.values())
        return sorted(distinct.values(), key=lambda settings: str(settings.path))


def group_projects(paths: Iterable[str], governing: Governing, fallback_root: Path) -> List[ProjectInput]:
    groups: Dict[Tuple[Tuple[str, ...], Path], ProjectInput] = {}
    by_directory: Dict[str, Tuple[Settings, Tuple[str, ...], Path]] = {}  # most files share a directory
    for path in paths:
        directory = os.path.dirname(path)
        known = by_directory.get(directory)
        if known is None:
            settings = governing.settings_for(path)
            wrangler = _wrangler_files(Path(directory), settings)
            known = by_directory[directory] = (settings, wrangler, _root(wrangler, settings, fallback_root))
        settings, wrangler, root = known
        group = groups.get((wrangler, root))
        if group is None:
            group = groups[(wrangler, root)] = ProjectInput(root, wrangler, governing.settings_for(str(root / "_")))
        group.add(path, settings)
    return list(groups.values())


def project_root(directory: Path, settings: Settings, fallback_root: Path) -> Path:
    """The root of the project files in `directory` belong to (where its cache lives)."""
    return _root(_wrangler_files(directory, settings), settings, fallback_root)


def _wrangler_files(directory: Path, settings: Settings) -> Tuple[str, ...]:
    if settings.wrangler_config:
        return tuple(settings.wrangler_config)
    found = find_wrangler_config(directory)
    return (str(found),) if found else ()


def _root(wrangler: Tuple[str, ...], settings: Settings, fallback_root: Path) -> Path:
    return (Path(wrangler[0]).parent if wrangler else (settings.root or fallback_root)).resolve()


def project_files_of(target: str, governing: Governing) -> Tuple[Path, List[str]]:
    """The root and Python files (absolute paths) of the project a single file belongs to.

    Used when one file is linted on its own (flake8, stdin): its helpers live in the other files.
    """
    from edgelint.discovery import discover

    directory = Path(os.path.abspath(target)).parent
    root = project_root(directory, governing.settings_for(target), directory)
    if not root.is_dir():
        return root, []
    return root, [absolute(found) for found in discover([str(root)], governing, [])]


def walked_directories(root: Path, governing: Governing) -> Optional[List[str]]:
    """The directories `project_files_of` walks below `root`: adding, removing or renaming a file
    in one changes its mtime. None when a symbolic link leads to a directory (changes below its
    target would go unseen)."""
    found: List[str] = []
    for current, dirnames, _ in os.walk(root):
        found.append(current)
        dirnames[:] = [name for name in dirnames
                       if not governing.settings_for(os.path.join(current, name)).is_excluded(
                           os.path.join(current, name), root)]
        if any(os.path.islink(os.path.join(current, name)) for name in dirnames):
            return None
    return found


def binding_table(group: ProjectInput, settings: Optional[Settings] = None) -> BindingTable:
    """The project's wrangler bindings under the `bindings` of `settings` (default: the root's)."""
    settings = settings or group.settings
    table = load_bindings(group.wrangler)
    return table.overlay(settings.bindings) if settings.bindings else table


class CachedProject:
    """A project's entry in the result cache (see edgelint.cache), read and written with its sources:
    the files a run already has (code from stdin) count as they are, the others as they are on disk."""

    def __init__(self, group: ProjectInput, use_filter: bool, stats: Optional[Stats] = None):
        self.group = group
        self.stats = stats  # taken by the caller before it read anything (cache.Slot.lookup)
        # The findings before selection depend on the rules any file selects (the others do not run).
        identity = (*(settings.fingerprint() for settings in group.all_settings()), f"filter={use_filter}")
        self.slot = Slot(group.root, identity, group.sources, group.wrangler)
        self.states: Dict[str, FileState] = {}  # of the files, as the entry found or stored them

    def findings(self) -> Optional[List[Finding]]:
        """The cached findings (before selection and noqa) if nothing they depend on changed."""
        known = {path: source.state() for path, source in self.group.sources.items() if source.loaded}
        with fewer_collections():
            hit = self.slot.lookup(known, self._read, self._bindings, self.stats)
        if hit is None:
            for path, source in self.group.sources.items():
                source.recorded = recorded = self.slot.recorded.get(path)  # for the analysis that follows
                if path in self.slot.unchanged and not source.loaded and recorded.error is None:
                    source.digest, source.trusted = recorded.digest, True
            return None
        self.states = hit.states
        for path, source in self.group.sources.items():
            state = hit.states[path]
            source.skipped = state.skipped  # as the analysis that made the entry found
            if not source.loaded:  # reported as the run reports a file that cannot be read or decoded
                source.error, source.error_at = state.error, state.error_at
        self.load_for_report(hit.findings)
        return hit.findings

    def load_for_report(self, findings: Iterable[Finding]) -> None:
        """Read the texts a report of `findings` needs (of files not read yet), once `findings` or
        `store` has their states: where a noqa comment may suppress a finding, where a fix applies."""
        for finding in findings:
            source = self.group.sources.get(finding.path)
            state = self.states.get(finding.path)
            if source is not None and not source.loaded and (state is None or state.noqa or finding.fix is not None):
                load_source(source)

    def store(self, findings: List[Finding], analysis: Optional[Any] = None,
              trees: Optional[Mapping[str, Mapping[str, bytes]]] = None) -> None:
        """Record the findings of an analysis that read every file, and what it leaves for the next
        (its memory, the trees of large modules)."""
        for source in self.group.sources.values():
            if not source.trusted:
                load_source(source)
        states = self.states = {path: source.state() for path, source in self.group.sources.items()}
        self.slot.store(findings, states, self._bindings())
        if analysis is not None:
            self.slot.store_analysis(analysis, self._bindings())
        if trees is not None:
            self.slot.store_trees(trees)

    def model(self) -> Optional[Tuple[List[Finding], Any]]:
        """The cached findings and `edgelint model`'s routes, if nothing they depend on changed."""
        findings = self.findings()
        routes = self.slot.load_model(self._bindings(), self.states) if findings is not None else None
        return None if routes is None else (findings, routes)

    def store_model(self, routes: Any) -> None:
        """Keep `edgelint model`'s routes beside the findings `store` recorded of the same files."""
        self.slot.store_model(routes, self._bindings(), self.states)

    def analysis(self) -> Optional[Any]:
        """What the last analysis of this project left (edgelint.engine.Memory), if any."""
        return self.slot.load_analysis(self._bindings())

    def trees(self) -> "TreeStore":
        """The trees the last analysis kept of large modules."""
        from edgelint.tree_bytes import TreeStore

        return TreeStore(self.slot.load_trees())

    def _read(self, path: str) -> FileState:
        source = self.group.sources[path]
        load_source(source)
        return source.state()

    def _bindings(self) -> str:
        return binding_table(self.group).fingerprint()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cycle collector less often. libcst trees and the model are millions of small objects
    with few cycles; at Python's default thresholds the collector keeps re-scanning the growing
    heap (a quarter of the CPU of a 2,000-file project, a sixth of a 300-file one). Reading a
    cache entry or an analysis's memory builds as many objects: half the time of unpickling the
    memory of a 600-file project went to the collector."""
    previous = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


HostIgnores = Callable[[str, str], bool]  # (code, path) -> the host (flake8) drops the code there


def filter_findings(findings: Iterable[Finding], governing: Governing, sources: Mapping[str, Source],
                    apply_noqa: bool = True, host_ignores: Optional[HostIgnores] = None) -> List[Finding]:
    """Apply select/ignore/per-file-ignores of the settings that govern each file (and of the host
    that shows the findings), then precedence among the selected findings, then (unless flake8
    does it) noqa comments."""
    kept: List[Finding] = []
    noqa: Dict[str, Optional[NoqaIndex]] = {}
    selected = [finding for finding in findings
                if governing.settings_for(finding.path).is_selected(finding.code, finding.path)
                and not (host_ignores and host_ignores(finding.code, finding.path))]
    for finding in without_superseded(selected):
        if not apply_noqa:
            kept.append(finding)
            continue
        if finding.path not in noqa:
            source = sources.get(finding.path)
            noqa[finding.path] = _noqa_index(source.text if source is not None else None)
        index = noqa[finding.path]
        if index is _IGNORED:
            continue
        if index is not None and index.suppresses(finding.line, finding.code):
            continue
        kept.append(finding)
    return sorted(kept, key=lambda f: f.sort_key)


def without_superseded(findings: Sequence[Finding]) -> List[Finding]:
    """`findings` less those about the same operations as a finding whose rule supersedes theirs
    (so ignoring the more specific code lets the next one through). Suppressing a finding with
    `noqa` does not: precedence comes before suppression."""
    superseded: Set[Tuple[str, Subject]] = {
        (code, subject) for finding in findings for code in finding.supersedes for subject in finding.subjects}
    if not superseded:
        return list(findings)
    return [finding for finding in findings
            if not any((finding.code, subject) in superseded for subject in finding.subjects)]


_IGNORED = NoqaIndex("")
_MENTIONS_NOQA = re.compile("noqa", re.IGNORECASE)
_MENTIONS_NOQA_BYTES = re.compile(b"noqa", re.IGNORECASE)


def _mentions_noqa(stored: StoredText) -> bool:
    return bool((_MENTIONS_NOQA if isinstance(stored, str) else _MENTIONS_NOQA_BYTES).search(stored))


def _noqa_index(text: Optional[str]) -> Optional[NoqaIndex]:
    """None when no comment in the file can suppress anything: most files, which are then not
    tokenized (tokenizing costs a fifth of a parse)."""
    if text is None or not _MENTIONS_NOQA.search(text):
        return None
    return _IGNORED if file_is_ignored(text) else NoqaIndex(text)
